import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from electra_tf import builders
from electra_tf import losses
from electra_tf import trainer


@pytest.fixture
def pretrainer(tiny_experiment):
  return builders.build_pretrainer(tiny_experiment.model, seed=0)


def test_output_shapes_and_labels(pretrainer, batch, tiny_experiment):
  out = pretrainer(batch, training=False)
  num_predictions = tiny_experiment.model.max_predictions_per_seq
  assert out["lm_outputs"].shape == (8, num_predictions, 30522)
  assert out["disc_logits"].shape == (8, 32)
  assert out["disc_label"].shape == (8, 32)
  original = batch["input_word_ids"]
  disc_ids = out["disc_input_ids"].numpy()
  label = out["disc_label"].numpy()
  # Label 1 exactly where the discriminator sees a token that was not there.
  np.testing.assert_array_equal(label, (disc_ids != original).astype(int))
  assert not label[batch["input_mask"] == 0].any()
  # Only masked positions may change.
  changed = np.argwhere(disc_ids != original)
  weights = out["masked_lm_weights"].numpy()
  positions = out["masked_lm_positions"].numpy()
  for row, col in changed:
    assert col in positions[row][weights[row] > 0]
  assert "sentence_outputs" not in out


def test_disallow_correct_replaces_every_masked_token(tiny_experiment, batch):
  model = builders.build_pretrainer(
      tiny_experiment.model.replace(disallow_correct=True), seed=0)
  out = model(batch)
  np.testing.assert_array_equal(out["disc_label"].numpy().sum(1),
                                out["masked_lm_weights"].numpy().sum(1))


def test_low_temperature_samples_the_generator_argmax(tiny_experiment, batch):
  model = builders.build_pretrainer(
      tiny_experiment.model.replace(temperature=1e-7), seed=0)
  out = model(batch)
  weights = out["masked_lm_weights"].numpy() > 0
  argmax = out["lm_outputs"].numpy().argmax(-1)
  sampled = np.take_along_axis(out["disc_input_ids"].numpy(),
                               out["masked_lm_positions"].numpy(), 1)
  np.testing.assert_array_equal(sampled[weights], argmax[weights])


def test_temperature_decays_to_one_and_is_given_per_call(tiny_experiment,
                                                          batch):
  config = tiny_experiment.model.replace(temperature=3.0,
                                         temperature_decay_steps=100)
  temperatures = [float(trainer.sampling_temperature(config, step))
                  for step in (0, 50, 100, 1000)]
  np.testing.assert_allclose(temperatures, [3.0, 2.0, 1.0, 1.0], rtol=1e-6)
  with pytest.raises(ValueError, match="needs the training step"):
    trainer.pretraining_loss(config)
  # A tensor given to the call replaces the model's own temperature: near 0
  # it samples the argmax.
  model = builders.build_pretrainer(config, seed=0)
  out = model(batch, temperature=tf.constant(1e-7))
  weights = out["masked_lm_weights"].numpy() > 0
  sampled = np.take_along_axis(out["disc_input_ids"].numpy(),
                               out["masked_lm_positions"].numpy(), 1)
  np.testing.assert_array_equal(sampled[weights],
                                out["lm_outputs"].numpy().argmax(-1)[weights])


def test_static_bert_masking(pretrainer, batch):
  inputs = dict(batch)
  inputs["masked_lm_positions"] = np.array([[1, 3, 0]] * 8, np.int32)
  inputs["masked_lm_ids"] = batch["input_word_ids"][:, [1, 3, 0]]
  inputs["masked_lm_weights"] = np.array([[1.0, 1.0, 0.0]] * 8, np.float32)
  inputs["input_word_ids"] = batch["input_word_ids"].copy()
  inputs["input_word_ids"][:, [1, 3]] = 103
  out = pretrainer(inputs)
  assert out["lm_outputs"].shape == (8, 3, 30522)
  disc_ids = out["disc_input_ids"].numpy()
  # The discriminator sees the original text except at the masked slots.
  keep = np.ones(32, bool)
  keep[[1, 3]] = False
  np.testing.assert_array_equal(disc_ids[:, keep],
                                batch["input_word_ids"][:, keep])
  assert (disc_ids != 103).all()


def test_shared_embeddings_and_heads(pretrainer, batch):
  pretrainer(batch)
  gen, disc = pretrainer.generator_network, pretrainer.discriminator_network
  assert gen.embeddings is disc.embeddings
  names = [v.name for v in pretrainer.trainable_variables]
  assert len(names) == len(set(names))
  assert sum("word_embeddings" in n for n in names) == 1
  # The MLM output layer is tied to the word embeddings.
  assert pretrainer.masked_lm.embedding_table is disc.get_embedding_table()


def test_predictions_output_and_classification(tiny_experiment, batch):
  model = builders.build_pretrainer(tiny_experiment.model, seed=0,
                                    output_type="predictions", num_classes=3)
  out = model(batch)
  np.testing.assert_allclose(
      tf.reduce_logsumexp(out["lm_outputs"], -1), 0.0, atol=1e-4)
  assert out["sentence_outputs"].shape == (8, 3)
  with pytest.raises(ValueError, match="output_type"):
    builders.build_pretrainer(tiny_experiment.model, output_type="probs")


def test_same_seed_same_masking(tiny_experiment, batch):
  a = builders.build_pretrainer(tiny_experiment.model, seed=7)(batch)
  b = builders.build_pretrainer(tiny_experiment.model, seed=7)(batch)
  np.testing.assert_array_equal(a["masked_lm_positions"],
                                b["masked_lm_positions"])


def _grads(model, batch, key):
  with tf.GradientTape() as tape:
    out = model(batch, training=True)
    _, metrics = losses.pretraining_loss_and_metrics(out, batch["input_mask"])
  variables = model.trainable_variables
  return {v.name: g for v, g in zip(
      variables, tape.gradient(metrics[key], variables))}


def test_gradients_reach_both_networks(pretrainer, batch):
  mlm = _grads(pretrainer, batch, "mlm_loss")
  disc = _grads(pretrainer, batch, "disc_loss")

  def nonzero(grads, prefix):
    return [n for n, g in grads.items() if n.startswith(prefix) and
            g is not None and np.abs(tf.convert_to_tensor(g)).max() > 0]
  assert nonzero(mlm, "generator/transformer")
  assert nonzero(disc, "discriminator/transformer")
  # Both losses train the shared embeddings ...
  assert nonzero(mlm, "discriminator/embeddings/word_embeddings")
  assert nonzero(disc, "discriminator/embeddings/word_embeddings")
  # ... but sampling stops the discriminator loss from reaching the generator.
  assert not nonzero(disc, "generator/")
  assert not nonzero(mlm, "discriminator/transformer")


def test_loss_and_metrics_by_hand():
  outputs = dict(
      lm_outputs=tf.math.log(tf.constant([[[0.5, 0.25, 0.25],
                                            [0.1, 0.8, 0.1]]])),
      masked_lm_ids=tf.constant([[0, 2]]),
      masked_lm_weights=tf.constant([[1.0, 0.0]]),
      disc_logits=tf.constant([[2.0, -1.0, 3.0, 5.0]]),
      disc_label=tf.constant([[1, 0, 0, 1]]))
  total, m = losses.pretraining_loss_and_metrics(
      outputs, tf.constant([[1, 1, 1, 0]]), mlm_weight=1.0, disc_weight=50.0)
  sigmoid_ce = lambda x, y: np.log1p(np.exp(-x)) + (1 - y) * x
  disc = (sigmoid_ce(2.0, 1) + sigmoid_ce(-1.0, 0) + sigmoid_ce(3.0, 0)) / 3
  np.testing.assert_allclose(m["mlm_loss"], np.log(2), rtol=1e-5)
  np.testing.assert_allclose(m["disc_loss"], disc, rtol=1e-5)
  np.testing.assert_allclose(total, np.log(2) + 50 * disc, rtol=1e-5)
  np.testing.assert_allclose(m["mlm_accuracy"], 1.0)
  np.testing.assert_allclose(m["rtd_accuracy"], 2 / 3, rtol=1e-5)
  np.testing.assert_allclose(m["rtd_precision"], 0.5)
  np.testing.assert_allclose(m["rtd_recall"], 1.0)


def test_sampled_accuracy_and_gain_over_the_base_rate_by_hand():
  # Two of three masked positions were sampled back to the original token.
  # The discriminator says the replaced share (1 of 4 real tokens) everywhere:
  # its loss is the base rate's, a gain of 0.
  share = 0.25
  outputs = dict(
      lm_outputs=tf.zeros([1, 4, 10]),
      masked_lm_ids=tf.constant([[5, 6, 7, 0]]),
      masked_lm_positions=tf.constant([[1, 2, 3, 0]]),
      masked_lm_weights=tf.constant([[1.0, 1.0, 1.0, 0.0]]),
      disc_input_ids=tf.constant([[2, 5, 9, 7, 0]]),
      disc_logits=tf.fill([1, 5], float(np.log(share / (1 - share)))),
      disc_label=tf.constant([[0, 0, 1, 0, 0]]))
  _, m = losses.pretraining_loss_and_metrics(outputs,
                                             tf.constant([[1, 1, 1, 1, 0]]))
  np.testing.assert_allclose(m["sampled_accuracy"], 2 / 3, rtol=1e-6)
  np.testing.assert_allclose(m["replaced_fraction"], share)
  entropy = -(share * np.log(share) + (1 - share) * np.log(1 - share))
  np.testing.assert_allclose(losses.binary_entropy(share), entropy, rtol=1e-6)
  np.testing.assert_allclose(m["disc_gain"], 0.0, atol=1e-6)
  # Sure and right on every token: gain 1; sure and wrong: far below 0.
  for logits, low, high in (([-20.0, -20.0, 20.0, -20.0, 0.0], 0.99, 1.0),
                            ([20.0, 20.0, -20.0, 20.0, 0.0], -50.0, -10.0)):
    _, m = losses.pretraining_loss_and_metrics(
        dict(outputs, disc_logits=tf.constant([logits])),
        tf.constant([[1, 1, 1, 1, 0]]))
    assert low <= float(m["disc_gain"]) <= high


def test_uniform_generator_replaces_from_the_whole_vocabulary(
    tiny_experiment, batch):
  model = builders.build_pretrainer(
      tiny_experiment.model.replace(uniform_generator=True), seed=0)
  with tf.GradientTape() as tape:
    out = model(batch, training=True)
    loss, m = losses.pretraining_loss_and_metrics(out, batch["input_mask"])
  # The generator is not run: uniform logits, a constant MLM loss, no
  # gradient to any generator weight.
  np.testing.assert_array_equal(out["lm_outputs"].numpy(), 0.0)
  np.testing.assert_allclose(m["mlm_loss"], np.log(30522), rtol=1e-6)
  gradients = tape.gradient(loss, model.trainable_variables)
  for variable, gradient in zip(model.trainable_variables, gradients):
    if "pooler" not in variable.name:  # never pretrained
      assert (gradient is None) == variable.name.startswith("generator"), (
          variable.name)
  # Every masked token is replaced, by ids spread over the vocabulary.
  weights = out["masked_lm_weights"].numpy() > 0
  sampled = np.take_along_axis(out["disc_input_ids"].numpy(),
                               out["masked_lm_positions"].numpy(), 1)[weights]
  assert out["disc_label"].numpy().sum() == weights.sum()
  assert len(set(sampled)) > 0.9 * len(sampled)
  assert sampled.max() > 20000 and sampled.min() < 10000
  # Overridden per call: the same model samples from its generator.
  out = model(batch, training=False, uniform_generator=False)
  assert np.abs(out["lm_outputs"].numpy()).max() > 0


def test_generator_learning_rate_factor_slows_the_generator_only(
    tiny_experiment):
  train = tiny_experiment.train.replace(generator_learning_rate_factor=0.25)
  optimizer = trainer.make_optimizer(train)
  model = builders.build_pretrainer(tiny_experiment.model, seed=0)
  factors = {v.name.split("/")[0]: optimizer.lr_multiplier(v.name)
             for v in model.trainable_variables}
  assert factors == {"generator": 0.25, "generator_predictions": 0.25,
                     "discriminator": 1.0, "discriminator_predictions": 1.0}
  # The shared embeddings are the discriminator's.
  assert model.generator_network.get_embedding_table().name.startswith(
      "discriminator/")


def test_loss_falls_on_a_fixed_batch(pretrainer, batch):
  optimizer = tf_keras.optimizers.Adam(1e-3)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      out = pretrainer(batch, training=True)
      loss, _ = losses.pretraining_loss_and_metrics(out, batch["input_mask"])
    variables = [v for v in pretrainer.trainable_variables
                 if "pooler" not in v.name]
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  history = [float(step()) for _ in range(40)]
  assert np.mean(history[-5:]) < 0.7 * np.mean(history[:5])


@pytest.fixture
def mlm_pretrainer(tiny_experiment):
  return builders.build_pretrainer(
      tiny_experiment.model.replace(objective="mlm"), seed=0)


def test_masked_lm_objective_is_electra_without_the_generator(
    mlm_pretrainer, pretrainer, batch, tiny_experiment):
  # The encoder is ELECTRA's discriminator, variable for variable ...
  mlm_pretrainer(batch)
  encoder = mlm_pretrainer.get_network()
  assert encoder is mlm_pretrainer.encoder_network is mlm_pretrainer.mlm_network
  shapes = lambda network: [(v.name, tuple(v.shape))  # noqa: E731
                            for v in network.variables]
  assert shapes(encoder) == shapes(pretrainer.get_network("discriminator"))
  # ... under the generator's MLM head, tied to its word embeddings.
  assert mlm_pretrainer.masked_lm.embedding_table is (
      encoder.get_embedding_table())
  head = {v.name.split("/", 1)[1]: tuple(v.shape)
          for v in mlm_pretrainer.masked_lm.trainable_variables
          if "word_embeddings" not in v.name}
  assert head == {"transform/dense/kernel:0": (128, 32),
                  "transform/dense/bias:0": (32,),
                  "transform/LayerNorm/gamma:0": (32,),
                  "transform/LayerNorm/beta:0": (32,),
                  "output_bias/bias:0": (30522,)}
  out = mlm_pretrainer(batch)
  assert set(out) == {"lm_outputs", "masked_lm_positions", "masked_lm_ids",
                      "masked_lm_weights"}
  assert out["lm_outputs"].shape == (
      8, tiny_experiment.model.max_predictions_per_seq, 30522)
  with pytest.raises(ValueError, match="networks are encoder"):
    mlm_pretrainer.get_network("generator")


def test_both_objectives_mask_alike_for_a_seed(mlm_pretrainer, pretrainer,
                                               batch):
  seed = tf.constant([3, 4], tf.int64)
  for key in ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights"):
    np.testing.assert_array_equal(mlm_pretrainer(batch, seed=seed)[key],
                                  pretrainer(batch, seed=seed)[key])


def test_a_given_seed_leaves_the_random_state_alone(pretrainer, batch):
  state = pretrainer.rng.state.numpy()
  seed = tf.constant([0, 1], tf.int64)
  first = pretrainer(batch, seed=seed)
  np.testing.assert_array_equal(pretrainer.rng.state.numpy(), state)
  np.testing.assert_array_equal(first["disc_input_ids"],
                                pretrainer(batch, seed=seed)["disc_input_ids"])
  pretrainer(batch)  # without a seed, masking draws from the generator
  assert not np.array_equal(pretrainer.rng.state.numpy(), state)


def test_masked_lm_loss_falls_and_trains_every_weight(mlm_pretrainer, batch):
  # Masks differ each step, so the loss falls as the MLM learns the batch.
  optimizer = tf_keras.optimizers.Adam(5e-3)
  variables = [v for v in mlm_pretrainer.trainable_variables
               if "pooler" not in v.name]

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      out = mlm_pretrainer(batch, training=True)
      loss, metrics = losses.pretraining_loss_and_metrics(out,
                                                          batch["input_mask"])
    gradients = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(gradients, variables))
    return loss, metrics, gradients

  loss, metrics, gradients = step()
  assert set(metrics) == {"mlm_loss", "mlm_accuracy"}
  assert float(loss) == pytest.approx(float(metrics["mlm_loss"]))
  assert all(g is not None for g in gradients)
  history = [float(loss)] + [float(step()[0]) for _ in range(39)]
  assert np.mean(history[-5:]) < 0.7 * np.mean(history[:5])
