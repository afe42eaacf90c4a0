"""Our CPU-minded layers compute what Keras' and Model Garden's layers do."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from official.nlp.modeling import layers as nlp_layers

from electra_tf import activations
from electra_tf.layers import Dropout
from electra_tf.layers import LayerNormalization
from electra_tf.layers import MatmulAttention
from electra_tf.layers import TransformerBlock


def _inputs(batch=3, seq=7, width=16):
  x = tf.random.stateless_normal([batch, seq, width], seed=[1, 2])
  # Padding at the end of the second and third rows.
  mask = tf.sequence_mask([seq, seq - 2, 3], seq, dtype=tf.float32)
  # Ours takes [batch, 1, seq]; Keras' and Model Garden's [batch, seq, seq].
  key_mask = mask[:, tf.newaxis, :]
  full_mask = key_mask * tf.ones_like(mask)[:, :, tf.newaxis]
  return x, key_mask, full_mask


def _values_and_gradients(fn, x, variables):
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = fn(x)
    # Weighted, so that the gradient is not the trivial one of a plain sum.
    loss = tf.reduce_sum(y * tf.random.stateless_normal(tf.shape(y), [3, 4]))
  return [y] + tape.gradient(loss, [x] + variables)


def _assert_all_close(ours, theirs, tolerance=1e-5):
  assert len(ours) == len(theirs)
  for a, b in zip(ours, theirs):
    np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)


def test_matmul_attention_matches_keras_attention():
  x, key_mask, full_mask = _inputs()
  ours = MatmulAttention(num_heads=4, key_dim=4)
  theirs = tf_keras.layers.MultiHeadAttention(num_heads=4, key_dim=4)
  ours(x, x, attention_mask=key_mask)
  theirs(x, x, attention_mask=key_mask)
  theirs.set_weights(ours.get_weights())
  _assert_all_close(
      _values_and_gradients(lambda t: ours(t, t, attention_mask=key_mask), x,
                            ours.trainable_variables),
      _values_and_gradients(lambda t: theirs(t, t, attention_mask=full_mask),
                            x, theirs.trainable_variables))
  _, ours_scores = ours(x, x, attention_mask=key_mask,
                        return_attention_scores=True)
  # Padded keys get no attention.
  np.testing.assert_array_equal(ours_scores.numpy()[2, :, :, 3:], 0.0)


def _dropped(x, rate=0.1, training=True):
  """(output, gradient of its sum) of a fresh Dropout layer."""
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = Dropout(rate)(x, training=training)
    total = tf.reduce_sum(y)
  return y.numpy(), tape.gradient(total, x).numpy()


def test_dropout_drops_at_its_rate_and_scales_the_rest():
  x = tf.ones([64, 32, 130])  # 266k elements: the drop share's sd is 0.0006
  y, gradient = _dropped(x)
  np.testing.assert_array_equal(np.unique(y), np.float32([0.0, 1 / 0.9]))
  np.testing.assert_allclose((y == 0).mean(), 0.1, atol=0.003)
  # The two 16-bit halves of each random integer decide independently.
  both = (y[..., 0::2] == 0) & (y[..., 1::2] == 0)
  np.testing.assert_allclose(both.mean(), 0.01, atol=0.002)
  np.testing.assert_array_equal(gradient, y)  # the mask times the scale
  # A new mask per call.
  assert ((_dropped(x)[0] == 0) != (y == 0)).mean() > 0.1
  # Inference passes everything on.
  np.testing.assert_array_equal(_dropped(x, training=False)[0], x)
  np.testing.assert_array_equal(Dropout(0.1)(x), x)


def test_dropout_masks_follow_the_keras_seed():
  x = tf.ones([8, 16])
  tf_keras.utils.set_random_seed(3)
  first = _dropped(x, rate=0.5)[0]
  tf_keras.utils.set_random_seed(3)
  np.testing.assert_array_equal(_dropped(x, rate=0.5)[0], first)
  tf_keras.utils.set_random_seed(4)
  assert (_dropped(x, rate=0.5)[0] != first).any()


@pytest.mark.parametrize("shape,dtype", [([4000, 7], tf.float32),
                                         ([4000, 8], tf.bfloat16)])
def test_dropout_of_odd_widths_and_bfloat16(shape, dtype):
  # Width 7 falls back to Keras' dropout; width 8 in bfloat16 takes ours.
  y = _dropped(tf.ones(shape, dtype), rate=0.5)[0].astype(np.float32)
  assert y.shape == tuple(shape)
  np.testing.assert_array_equal(np.unique(y), [0.0, 2.0])
  np.testing.assert_allclose((y == 0).mean(), 0.5, atol=0.02)


def test_matmul_attention_rejects_other_attention_axes():
  layer = MatmulAttention(num_heads=2, key_dim=4, attention_axes=(1, 2))
  x = tf.zeros([2, 3, 5, 8])
  with pytest.raises(ValueError, match="sequence axis"):
    layer(x, x)


@pytest.mark.parametrize("epsilon", [1e-12, 1e-3])
def test_layer_norm_and_its_gradient_match_keras(epsilon):
  x, _, _ = _inputs()
  x = 3.0 * x + 1.0
  ours = LayerNormalization(epsilon=epsilon)
  theirs = tf_keras.layers.LayerNormalization(epsilon=epsilon)
  ours(x)
  theirs(x)
  # Not the initial ones, so that the scale and center gradients matter.
  weights = [np.linspace(0.5, 1.5, 16, dtype=np.float32),
             np.linspace(-1.0, 1.0, 16, dtype=np.float32)]
  ours.set_weights(weights)
  theirs.set_weights(weights)
  _assert_all_close(
      _values_and_gradients(ours, x, ours.trainable_variables),
      _values_and_gradients(theirs, x, theirs.trainable_variables))


def test_layer_norm_only_normalizes_the_last_axis():
  with pytest.raises(ValueError, match="last axis"):
    LayerNormalization(axis=1)(tf.zeros([2, 3, 4]))
  with pytest.raises(ValueError, match="center"):
    LayerNormalization(center=False)(tf.zeros([2, 3, 4]))


def test_transformer_block_matches_model_gardens_post_ln_block():
  x, key_mask, full_mask = _inputs()
  settings = dict(num_attention_heads=4, inner_dim=32,
                  inner_activation=activations.gelu, norm_epsilon=1e-12,
                  kernel_initializer="glorot_uniform")
  ours = TransformerBlock(dropout_rate=0.1, attention_dropout_rate=0.1,
                          **settings)
  theirs = nlp_layers.TransformerEncoderBlock(
      output_dropout=0.1, attention_dropout=0.1, norm_first=False, **settings)
  ours([x, key_mask])
  theirs([x, full_mask])
  assert ([w.shape for w in ours.weights] ==
          [w.shape for w in theirs.weights])
  theirs.set_weights(ours.get_weights())
  _assert_all_close(
      _values_and_gradients(lambda t: ours([t, key_mask]), x,
                            ours.trainable_variables),
      _values_and_gradients(lambda t: theirs([t, full_mask]), x,
                            theirs.trainable_variables))
  # Dropout acts in training only.
  assert np.abs(ours([x, key_mask], training=True) -
                ours([x, key_mask])).max() > 1e-3
