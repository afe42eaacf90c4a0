"""ELECTRA-Small train step and encoder forward: electra_tf vs tf-models-official.

Both sides get the same sizes (discriminator 256 x 12, generator 64 x 12,
embeddings 128), the same optimizer (Model Garden's AdamWeightDecay), the same
loss (MLM + 50 x RTD) and the same batches of shipped text, in one process.

  python benchmarks/pretraining_step.py [--steps=8] [--rounds=4] [--xla]
"""

import os
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf
from official.nlp.modeling import models as tfm_models
from official.nlp.modeling import networks as tfm_networks

from electra_tf import builders
from electra_tf import configs
from electra_tf import losses
from electra_tf import trainer
from electra_tf.data import text_examples
from electra_tf.ops import masking

_STEPS = flags.DEFINE_integer("steps", 8, "Timed steps per round.")
_ROUNDS = flags.DEFINE_integer("rounds", 4, "Rounds; the median is reported.")
_BATCH = flags.DEFINE_integer("batch_size", 16, "Train batch size.")
_FORWARD_BATCH = flags.DEFINE_integer("forward_batch_size", 32,
                                      "Encoder forward batch size.")
_SEQ = flags.DEFINE_integer("seq_length", 128, "Sequence length.")
_XLA = flags.DEFINE_bool("xla", False,
                         "Also time both train steps compiled with XLA.")

_REPO = __file__.rsplit("/benchmarks/", 1)[0]


def _batches(batch_size, seq_length, num_predictions, count):
  """Real text, with static masks so both models see identical inputs."""
  examples = text_examples.make_examples(
      f"{_REPO}/data/sotu_1940_2021.txt", f"{_REPO}/data/vocab_uncased.txt",
      seq_length)
  batches = []
  for i in range(count):
    rows = slice(i * batch_size, (i + 1) * batch_size)
    batch = {k: tf.constant(v[rows]) for k, v in examples.items()}
    masked, positions, ids, weights = masking.mask_tokens(
        batch["input_word_ids"], batch["input_mask"], seed=tf.constant([i, 0]),
        num_predictions=num_predictions, mask_prob=0.15, mask_token_id=103,
        special_token_ids=(0, 101, 102))
    batches.append(dict(batch, input_word_ids=masked, masked_lm_positions=positions,
                        masked_lm_ids=ids, masked_lm_weights=weights))
  return batches


def _reference_encoder(config):
  return tfm_networks.BertEncoder(
      vocab_size=config.vocab_size, hidden_size=config.hidden_size,
      num_layers=config.num_layers,
      num_attention_heads=config.num_attention_heads,
      max_sequence_length=config.max_position_embeddings,
      type_vocab_size=config.type_vocab_size,
      inner_dim=config.intermediate_size, inner_activation="gelu",
      embedding_width=config.embedding_size, dict_outputs=True)


def _reference_pretrainer(model_config):
  return tfm_models.ElectraPretrainer(
      generator_network=_reference_encoder(model_config.generator()),
      discriminator_network=_reference_encoder(model_config.discriminator),
      vocab_size=model_config.discriminator.vocab_size, num_classes=2,
      num_token_predictions=model_config.max_predictions_per_seq,
      mlm_activation="gelu")


def _reference_step(model, optimizer, jit_compile):
  @tf.function(jit_compile=jit_compile)
  def step(batch):
    with tf.GradientTape() as tape:
      outputs = model(batch, training=True)  # dropout on, as in ours
      outputs = dict(outputs, masked_lm_ids=batch["masked_lm_ids"],
                     masked_lm_weights=batch["masked_lm_weights"])
      loss, _ = losses.pretraining_loss_and_metrics(outputs, batch["input_mask"])
    grads_and_vars = [(g, v) for g, v in zip(
        tape.gradient(loss, model.trainable_variables),
        model.trainable_variables) if g is not None]
    optimizer.apply_gradients(grads_and_vars)
    return loss
  return step


def _time(fn, batches, steps):
  """Mean milliseconds per call over `steps` calls."""
  start = time.perf_counter()
  for i in range(steps):
    result = fn(batches[i % len(batches)])
  tf.nest.map_structure(lambda t: t.numpy(), result)
  return (time.perf_counter() - start) / steps * 1000


def _compare(ours, reference, batches, steps, rounds):
  """Median over rounds of (ours ms, reference ms), alternating who goes first.

  A 2-core machine drifts by 10% or more between minutes; interleaving keeps
  that drift out of the ratio.
  """
  for fn in (ours, reference):  # trace and compile
    fn(batches[0])
    fn(batches[1])
  times = {ours: [], reference: []}
  for r in range(rounds):
    for fn in ((ours, reference) if r % 2 == 0 else (reference, ours)):
      times[fn].append(_time(fn, batches, steps))
  return float(np.median(times[ours])), float(np.median(times[reference]))


def main(argv):
  del argv
  config = configs.load_experiment("small").model
  steps = _STEPS.value
  train_batches = _batches(_BATCH.value, _SEQ.value,
                           config.max_predictions_per_seq, 4)
  rows = []
  for jit in (False, True) if _XLA.value else (False,):
    ours = builders.build_pretrainer(config, seed=0)
    ours_step = trainer.make_train_step(
        ours, trainer.make_optimizer(configs.TrainConfig()), config, jit)
    ref = _reference_pretrainer(config)
    ref_step = _reference_step(
        ref, trainer.make_optimizer(configs.TrainConfig()), jit)
    rows.append((f"train step, batch {_BATCH.value}" + (", XLA" if jit else ""),
                 *_compare(lambda b: ours_step(b)[0], ref_step, train_batches,
                           steps, _ROUNDS.value)))

  forward_batches = _batches(_FORWARD_BATCH.value, _SEQ.value,
                             config.max_predictions_per_seq, 2)
  encoder = builders.build_encoder(config.discriminator)
  ref_encoder = _reference_encoder(config.discriminator)
  inputs = lambda b: {k: b[k] for k in
                      ("input_word_ids", "input_mask", "input_type_ids")}
  ours_forward = tf.function(lambda b: encoder(inputs(b))["sequence_output"])
  ref_forward = tf.function(
      lambda b: ref_encoder(inputs(b))["sequence_output"])
  rows.append((f"encoder forward, batch {_FORWARD_BATCH.value}",
               *_compare(ours_forward, ref_forward, forward_batches, steps,
                         _ROUNDS.value)))

  print(f"\nELECTRA-Small, seq {_SEQ.value}, median of {_ROUNDS.value} rounds "
        f"of {steps} steps, {os.cpu_count()} CPUs")
  print(f"{'measurement':<30} {'electra_tf ms':>14} {'tf-models ms':>13} "
        f"{'speed-up':>9}")
  for name, ours_ms, ref_ms in rows:
    print(f"{name:<30} {ours_ms:>14.1f} {ref_ms:>13.1f} {ref_ms / ours_ms:>8.2f}x")
  print(f"{'ELECTRA-Small step target':<30} {'':>14} {'':>13} {'>= 1.50x':>9}")


if __name__ == "__main__":
  app.run(main)
