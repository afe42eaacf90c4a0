"""Held-out evaluation of a pretrainer: masked-LM and replaced-token metrics.

The held-out examples are cut into fixed batches; batch i is masked (and, for
ELECTRA, its replacements sampled) with the seed (seed, i), whatever the
model's random state, so every evaluation of every run with that seed sees
the same masks. ELECTRA's discriminator is scored twice: on the generator's
replacements, whose difficulty changes as the generator learns, and on fixed
replacements drawn uniformly from the vocabulary at the same positions, which
change only with the discriminator. Under a distribution strategy each replica takes whole
batches, so the metrics do not depend on the number of replicas or workers.
"""

import math
from typing import Dict

import numpy as np
import tensorflow as tf

from electra_tf import losses
from electra_tf import metrics
from electra_tf.models import ElectraPretrainer


def make_evaluator(model, examples: Dict[str, np.ndarray],
                   strategy: tf.distribute.Strategy = None,
                   batch_size: int = 32, seed: int = 0):
  """A function () -> metrics of `model` on `examples`.

  Args:
    model: a pretrainer, called with `training=False` and a fixed seed.
    examples: equally long arrays [num_examples, ...]: `input_word_ids`,
      `input_mask`, `input_type_ids` and, for static masks, `masked_lm_*`.
    strategy: the strategy the model was built under (default: current).
    batch_size: examples per replica and step.
    seed: fixes the masking and sampling of every batch.

  Returns:
    A function returning a dict of floats: those of
    `losses.metrics_from_statistics` over all examples and, for ELECTRA,
    `rtd_auc`, the ROC AUC of the discriminator's logits over all real
    tokens, and `random_rtd_auc` and `random_disc_gain`, the same
    discriminator's AUC and gain on uniformly random replacements.
  """
  strategy = strategy or tf.distribute.get_strategy()
  num_examples = len(examples["input_word_ids"])
  if not num_examples:
    raise ValueError("No held-out examples to evaluate on")
  replicas = strategy.num_replicas_in_sync
  num_steps = math.ceil(num_examples / (batch_size * replicas))
  num_batches = num_steps * replicas
  # Rows of padding (input_mask 0) fill the last batches; they count nowhere.
  batches = {
      key: tf.constant(np.concatenate(
          [value, np.zeros((num_batches * batch_size - num_examples,) +
                           value.shape[1:], value.dtype)]).reshape(
                               (num_batches, batch_size) + value.shape[1:]))
      for key, value in examples.items()}

  electra = isinstance(model, ElectraPretrainer)

  def replica_step(batch, batch_seed):
    outputs = model(batch, training=False, seed=batch_seed)
    statistics = losses.pretraining_statistics(outputs, batch["input_mask"])
    if not electra:
      return statistics, ()
    random = model(batch, training=False, seed=batch_seed,
                   uniform_generator=True)
    statistics.update({
        "random_" + name: value for name, value in
        losses.replaced_token_statistics(random, batch["input_mask"]).items()})
    # int32, as collectives cannot gather booleans.
    return statistics, tuple(
        (tf.cast(o["disc_logits"], tf.float32),
         tf.cast(o["disc_label"], tf.int32)) for o in (outputs, random)) + (
             tf.cast(batch["input_mask"], tf.int32),)

  @tf.function
  def step(index):
    def value_fn(context):
      batch_index = index * replicas + context.replica_id_in_sync_group
      return ({key: value[batch_index] for key, value in batches.items()},
              tf.stack([tf.cast(seed, tf.int64),
                        tf.cast(batch_index, tf.int64)]))
    inputs = strategy.experimental_distribute_values_from_function(value_fn)
    statistics, tokens = strategy.run(replica_step, args=inputs)
    statistics = {name: strategy.reduce(tf.distribute.ReduceOp.SUM, value,
                                        axis=None)
                  for name, value in statistics.items()}
    return statistics, tf.nest.map_structure(
        lambda value: strategy.gather(value, axis=0), tokens)

  def evaluate():
    totals = {}
    scored = {"": ([], []), "random_": ([], [])}  # prefix: (logits, labels)
    for index in range(num_steps):
      statistics, tokens = step(tf.constant(index, tf.int64))
      for name, value in statistics.items():
        totals[name] = totals.get(name, 0.0) + float(value)
      if tokens:
        real = tokens[-1].numpy().astype(bool)
        for (logits, labels), (token_logits, token_labels) in zip(
            scored.values(), tokens[:-1]):
          logits.append(token_logits.numpy()[real])
          labels.append(token_labels.numpy()[real])
    random_totals = {name[len("random_"):]: totals.pop(name)
                     for name in list(totals) if name.startswith("random_")}
    results = {name: float(value) for name, value in
               losses.metrics_from_statistics(totals).items()}
    if electra:
      random = losses.metrics_from_statistics(random_totals)
      results["random_disc_gain"] = float(random["disc_gain"])
      for prefix, (logits, labels) in scored.items():
        results[prefix + "rtd_auc"] = metrics.roc_auc(
            np.concatenate(labels), np.concatenate(logits))
    return results

  return evaluate


# A discriminator whose held-out loss is this share below the base rate's
# has learned something beyond how many tokens are replaced.
LEARNING_GAIN = 0.1


def _trend(values) -> str:
  if len(values) == 1:
    return f"{values[0]:.3f}"
  word = ("rising" if values[-1] > values[0] else
          "falling" if values[-1] < values[0] else "flat")
  return f"{values[0]:.3f} -> {values[-1]:.3f} ({word})"


def discriminator_verdict(evaluations) -> str:
  """One line on an ELECTRA run's held-out evaluations [(step, metrics)]:
  whether its discriminator is learning, stuck at the base rate (it beat it,
  then fell back as the generator improved: the "dip"), or never trained
  past it."""
  step, last = evaluations[-1]
  best_step, best = max(evaluations, key=lambda e: e[1]["disc_gain"])
  numbers = (
      f"held-out gain over the base rate {last['disc_gain']:.3f} (its loss "
      f"{last['disc_loss']:.3f} nats against "
      f"{float(losses.binary_entropy(last['replaced_fraction'])):.3f} for "
      f"guessing {last['replaced_fraction']:.0%} replaced everywhere), AUC "
      f"{last['rtd_auc']:.3f} on the generator's fakes and "
      f"{last['random_rtd_auc']:.3f} on random ones; generator MLM accuracy "
      f"{_trend([metrics['mlm_accuracy'] for _, metrics in evaluations])}")
  if last["disc_gain"] >= LEARNING_GAIN:
    return f"discriminator learning at step {step}: {numbers}"
  if best["disc_gain"] >= LEARNING_GAIN:
    return (f"discriminator stuck at the base rate at step {step}: it beat it "
            f"by {best['disc_gain']:.3f} at step {best_step}, then fell back "
            f"as the generator learned; {numbers}")
  return (f"discriminator never trained past the base rate (by step {step}): "
          f"{numbers}")
