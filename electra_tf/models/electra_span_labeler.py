"""Span extraction (SQuAD) over an ELECTRA encoder."""

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils

from electra_tf.networks.electra_encoder import dummy_inputs


class ElectraSpanLabeler(tf_keras.Model):
  """Encoder + dense to 2 per token: `start_logits`, `end_logits` [batch, seq].

  Padding positions get -10000 added, so they are never predicted. For
  SQuAD 2.0 an unanswerable question is labelled with the [CLS] position as
  start and end, as in BERT. The dense layer is named as Hugging Face's
  ElectraForQuestionAnswering (`qa_outputs`).
  """

  def __init__(self, network, initializer="glorot_uniform", **kwargs):
    super().__init__(**kwargs)
    self.network = network
    self.qa_outputs = tf_keras.layers.Dense(
        2, kernel_initializer=tf_utils.clone_initializer(initializer),
        name="qa_outputs")

    self(dummy_inputs())  # creates the head variables now
  def call(self, inputs, training=None):
    sequence_output = self.network(inputs, training=training)["sequence_output"]
    logits = tf.cast(self.qa_outputs(sequence_output), tf.float32)
    padding = 1.0 - tf.cast(inputs["input_mask"], logits.dtype)
    logits -= 10000.0 * padding[:, :, None]
    return dict(start_logits=logits[:, :, 0], end_logits=logits[:, :, 1])
