"""Layer normalization over the last axis, with its gradient written out."""

import tensorflow as tf
import tf_keras


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class LayerNormalization(tf_keras.layers.LayerNormalization):
  """Keras' layer normalization over the last axis, same weights and math.

  Keras' fused kernel needs epsilon >= 1.001e-5, so at BERT's 1e-12 it runs
  unfused ops whose autodiff makes many full-size intermediates. The analytic
  gradient, dx = (g·dy - mean(g·dy) - x̂·mean(g·dy·x̂)) / σ, trains
  ELECTRA-Small about 5% faster on CPU.
  """

  def build(self, input_shape):
    super().build(input_shape)
    if self.axis != [len(input_shape) - 1] or not (self.center and self.scale):
      raise ValueError("LayerNormalization normalizes the last axis with a "
                       f"scale and a center; got axis {self.axis}, center "
                       f"{self.center}, scale {self.scale}")

  def call(self, inputs):
    epsilon = self.epsilon

    @tf.custom_gradient
    def normalize(x, gamma, beta):
      mean, variance = tf.nn.moments(x, [-1], keepdims=True)
      inverse_std = tf.math.rsqrt(variance + epsilon)
      normalized = (x - mean) * inverse_std

      def grad(upstream):
        batch_axes = tf.range(tf.rank(upstream) - 1)
        scaled = upstream * gamma
        dx = inverse_std * (
            scaled - tf.reduce_mean(scaled, -1, keepdims=True) -
            normalized * tf.reduce_mean(scaled * normalized, -1,
                                        keepdims=True))
        return (dx, tf.reduce_sum(upstream * normalized, batch_axes),
                tf.reduce_sum(upstream, batch_axes))

      return normalized * gamma + beta, grad

    # Tensors, not the variables: a custom gradient cannot take distributed
    # variables; the reads pass the gradients on to them.
    return normalize(inputs, tf.convert_to_tensor(self.gamma),
                     tf.convert_to_tensor(self.beta))
