"""ELECTRA training models."""

from electra_tf.models.electra_pretrainer import ElectraPretrainer
from electra_tf.models.electra_pretrainer import NETWORKS
