"""Replaced-token-detection head of the ELECTRA discriminator."""

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils

from electra_tf import keras_config


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ReplacedTokenDetectionHead(tf_keras.layers.Layer):
  """Dense + activation + dense to one logit per token (original / replaced).

  Over [batch, features] it gives one logit per example, as SQuAD 2.0's
  answerable classifier in `ElectraSpanLabeler` uses it.
  """

  def __init__(self, hidden_size, activation, initializer, **kwargs):
    super().__init__(**kwargs)
    self._config = dict(
        hidden_size=hidden_size,
        activation=keras_config.activation(activation),
        initializer=keras_config.initializer(initializer))
    self.dense = tf_keras.layers.Dense(
        hidden_size, activation=activation,
        kernel_initializer=tf_utils.clone_initializer(initializer), name="dense")
    self.dense_prediction = tf_keras.layers.Dense(
        1, kernel_initializer=tf_utils.clone_initializer(initializer),
        name="dense_prediction")

  def get_config(self):
    return dict(super().get_config(), **self._config)

  def call(self, sequence_output):
    return tf.squeeze(self.dense_prediction(self.dense(sequence_output)), -1)
