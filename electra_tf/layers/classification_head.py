"""Classification head on the first ([CLS]) token of a sequence output."""

import tf_keras
from official.modeling import tf_utils

from electra_tf import activations
from electra_tf import keras_config
from electra_tf.configs import HEAD_TYPES


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ClassificationHead(tf_keras.layers.Layer):
  """[CLS] -> logits, in the original ELECTRA's form or Hugging Face's.

  "original" (google-research/electra): dropout, dense to `num_classes`.
  "hf" (transformers' ElectraClassificationHead and the multiple-choice
  SequenceSummary): dropout, dense to the hidden size, activation, dropout,
  dense to `num_classes`. Layer names follow Hugging Face's (`dense`,
  `out_proj`) so its weights map one to one. Its activation is the exact
  (erf) GELU, as in transformers, unless `activation` is given.
  """

  def __init__(self, num_classes, head_type="original", dropout_rate=0.1,
               activation=activations.gelu, initializer="glorot_uniform",
               **kwargs):
    super().__init__(**kwargs)
    if head_type not in HEAD_TYPES:
      raise ValueError(f"head_type must be one of {HEAD_TYPES}, "
                       f"got {head_type!r}")
    self.head_type = head_type
    self.num_classes = num_classes
    self._activation = tf_keras.activations.get(activation)
    self._initializer = tf_keras.initializers.get(initializer)
    self.dropout = tf_keras.layers.Dropout(dropout_rate)
    self.out_proj = tf_keras.layers.Dense(
        num_classes, kernel_initializer=tf_utils.clone_initializer(initializer),
        name="out_proj")
    self.dense = None

  def get_config(self):
    return dict(
        super().get_config(), num_classes=self.num_classes,
        head_type=self.head_type, dropout_rate=self.dropout.rate,
        activation=keras_config.activation(self._activation),
        initializer=keras_config.initializer(self._initializer))

  def build(self, input_shape):
    if self.head_type == "hf":
      self.dense = tf_keras.layers.Dense(
          input_shape[-1], activation=self._activation,
          kernel_initializer=tf_utils.clone_initializer(self._initializer),
          name="dense")
    super().build(input_shape)

  def call(self, sequence_output, training=None):
    x = self.dropout(sequence_output[:, 0, :], training=training)
    if self.dense is not None:
      x = self.dropout(self.dense(x), training=training)
    return self.out_proj(x)
