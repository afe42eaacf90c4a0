"""ELECTRA pretraining and task models."""

from electra_tf.models.electra_pretrainer import ElectraPretrainer
from electra_tf.models.masked_lm_pretrainer import MaskedLMPretrainer
from electra_tf.models.electra_classifier import ElectraClassifier
from electra_tf.models.electra_multiple_choice import ElectraMultipleChoice
from electra_tf.models.electra_span_labeler import ElectraSpanLabeler
from electra_tf.models.electra_token_classifier import ElectraTokenClassifier
