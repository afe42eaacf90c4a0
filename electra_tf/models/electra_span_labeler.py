"""Span extraction (SQuAD) over an ELECTRA encoder."""

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils

from electra_tf import activations
from electra_tf import keras_config
from electra_tf.layers import ReplacedTokenDetectionHead
from electra_tf.models.task_model import TaskModel
from electra_tf.networks.electra_encoder import dummy_inputs


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ElectraSpanLabeler(TaskModel):
  """Encoder + dense to 2 per token: `start_logits`, `end_logits` [batch, seq].

  Padding positions get -10000 added, so they are never predicted. For
  SQuAD 2.0 an unanswerable question is labelled with the [CLS] position as
  start and end, as in BERT. The dense layer is named as Hugging Face's
  ElectraForQuestionAnswering (`qa_outputs`).

  With `answerable_classifier` (google-research/electra's SQuAD 2.0 head) it
  also returns `null_logits` [batch]: the logit that the window holds no
  answer, from the [CLS] vector and the start-probability-weighted mean of
  the sequence, through a dense layer of `answerable_hidden_size` with GELU.
  """

  def __init__(self, network, initializer="glorot_uniform",
               answerable_classifier=False, answerable_hidden_size=512,
               **kwargs):
    super().__init__(**kwargs)
    self.network = network
    self.qa_outputs = tf_keras.layers.Dense(
        2, kernel_initializer=tf_utils.clone_initializer(initializer),
        name="qa_outputs")
    self.answerable = None
    if answerable_classifier:
      # The same dense + activation + dense to one logit as the RTD head.
      self.answerable = ReplacedTokenDetectionHead(
          answerable_hidden_size, activations.gelu, initializer,
          name="answerable")
    self(dummy_inputs())  # creates the head variables now

  def get_config(self):
    config = self._network_config(
        initializer=keras_config.initializer(
            self.qa_outputs.kernel_initializer),
        answerable_classifier=self.answerable is not None)
    if self.answerable is not None:
      config["answerable_hidden_size"] = (
          self.answerable.get_config()["hidden_size"])
    return config

  def call(self, inputs, training=None):
    sequence_output = self.network(inputs, training=training)["sequence_output"]
    logits = tf.cast(self.qa_outputs(sequence_output), tf.float32)
    padding = 1.0 - tf.cast(inputs["input_mask"], logits.dtype)
    logits -= 10000.0 * padding[:, :, None]
    outputs = dict(start_logits=logits[:, :, 0], end_logits=logits[:, :, 1])
    if self.answerable is not None:
      start_probs = tf.nn.softmax(outputs["start_logits"])
      start_feature = tf.einsum("bs,bsh->bh",
                                tf.cast(start_probs, sequence_output.dtype),
                                sequence_output)
      features = tf.concat([sequence_output[:, 0], start_feature], axis=-1)
      outputs["null_logits"] = tf.cast(self.answerable(features), tf.float32)
    return outputs
