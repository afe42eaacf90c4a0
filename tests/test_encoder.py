import numpy as np
import pytest
import tensorflow as tf

from electra_tf import activations
from electra_tf import builders


@pytest.fixture
def encoder(tiny_experiment):
  return builders.build_encoder(tiny_experiment.model.discriminator)


def test_outputs(encoder, batch, tiny_experiment):
  config = tiny_experiment.model.discriminator
  out = encoder(batch)
  assert out["sequence_output"].shape == (8, 32, config.hidden_size)
  assert out["pooled_output"].shape == (8, config.hidden_size)
  assert len(out["encoder_outputs"]) == config.num_layers
  np.testing.assert_array_equal(out["encoder_outputs"][-1],
                                out["sequence_output"])
  # Narrow embeddings are projected up to the hidden size.
  assert encoder.embedding_projection.kernel.shape == (
      config.embedding_size, config.hidden_size)
  assert encoder.get_embedding_table().shape == (config.vocab_size,
                                                 config.embedding_size)


def test_no_projection_when_widths_match(tiny_experiment):
  config = tiny_experiment.model.discriminator
  config = config.replace(embedding_size=config.hidden_size)
  assert builders.build_encoder(config).embedding_projection is None


def test_padding_does_not_change_real_tokens(encoder, batch):
  short = {k: v[:, :20] for k, v in batch.items()}
  short["input_mask"] = np.ones_like(short["input_mask"])
  padded = {k: np.pad(v, [[0, 0], [0, 12]]) for k, v in short.items()}
  a = encoder(short)["sequence_output"]
  b = encoder(padded)["sequence_output"][:, :20]
  np.testing.assert_allclose(a, b, atol=1e-5)


def test_output_range_computes_only_the_first_positions(encoder, batch):
  full = encoder(batch)
  short = encoder(batch, output_range=1)
  assert short["sequence_output"].shape == (8, 1, encoder.config.hidden_size)
  np.testing.assert_allclose(short["sequence_output"],
                             full["sequence_output"][:, :1], atol=1e-5)
  np.testing.assert_allclose(short["pooled_output"], full["pooled_output"],
                             atol=1e-5)
  for a, b in zip(short["encoder_outputs"][:-1], full["encoder_outputs"]):
    np.testing.assert_array_equal(a, b)  # only the last layer is cut short
  # A loss on [CLS] gets the same gradient either way.
  gradients = []
  weights = tf.random.stateless_normal([encoder.config.hidden_size], [0, 1])
  for output_range in (None, 1):
    with tf.GradientTape() as tape:
      cls = encoder(batch, output_range=output_range)["sequence_output"][:, 0]
      loss = tf.reduce_sum(cls * weights)
    gradients.append(tape.gradient(loss, encoder.trainable_variables))
  full_grads, short_grads = ([tf.convert_to_tensor(g) if g is not None
                              else None for g in grads] for grads in gradients)
  # Float32 sums in another order: differences within 1e-5 of the largest.
  tolerance = 1e-5 * max(np.abs(g).max() for g in full_grads if g is not None)
  for variable, a, b in zip(encoder.trainable_variables, full_grads,
                            short_grads):
    if a is not None:
      np.testing.assert_allclose(b, a, rtol=1e-3, atol=tolerance,
                                 err_msg=variable.name)


def test_dropout_only_in_training(encoder, batch):
  inference = [encoder(batch, training=False)["sequence_output"]
               for _ in range(2)]
  np.testing.assert_array_equal(*inference)
  training = encoder(batch, training=True)["sequence_output"]
  assert np.abs(training - inference[0]).max() > 1e-3


def test_list_inputs_and_missing_key(encoder, batch):
  as_list = [batch["input_word_ids"], batch["input_mask"],
             batch["input_type_ids"]]
  np.testing.assert_array_equal(encoder(as_list)["sequence_output"],
                                encoder(batch)["sequence_output"])
  with pytest.raises(KeyError, match="input_type_ids"):
    encoder({k: v for k, v in batch.items() if k != "input_type_ids"})
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="input_mask must have the shape of input_word_ids"):
    encoder(dict(batch, input_mask=batch["input_mask"][:, :5]))


def test_gelu_tanh_is_selectable(tiny_experiment, batch):
  exact = builders.build_encoder(tiny_experiment.model.discriminator)
  tanh = builders.build_encoder(
      tiny_experiment.model.discriminator.replace(hidden_act="gelu_tanh"))
  tanh.set_weights(exact.get_weights())
  a = exact(batch)["sequence_output"]
  b = tanh(batch)["sequence_output"]
  assert 0 < np.abs(a - b).max() < 1e-2


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.bfloat16])
def test_exact_gelu_and_its_gradient_match_tensorflows(dtype):
  x = tf.cast(tf.linspace(-6.0, 6.0, 1001), dtype)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    ours = activations.gelu(x)
    theirs = tf.nn.gelu(x, approximate=False)
  # bfloat16: within one unit in the last place (8 bits of mantissa).
  tolerance = 2 ** -7 if dtype == tf.bfloat16 else 1e-6
  np.testing.assert_allclose(tf.cast(ours, tf.float64),
                             tf.cast(theirs, tf.float64),
                             rtol=tolerance, atol=tolerance)
  np.testing.assert_allclose(
      tf.cast(tape.gradient(ours, x), tf.float64),
      tf.cast(tape.gradient(theirs, x), tf.float64),
      rtol=tolerance, atol=tolerance)


def test_shared_embeddings_must_have_the_same_width(tiny_experiment):
  disc = builders.build_encoder(tiny_experiment.model.discriminator)
  with pytest.raises(ValueError, match="embedding_size"):
    builders.build_encoder(
        tiny_experiment.model.discriminator.replace(embedding_size=16),
        embeddings=disc.embeddings)
