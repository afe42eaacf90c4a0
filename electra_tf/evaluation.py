"""Held-out evaluation of a pretrainer: masked-LM and replaced-token metrics.

The held-out examples are cut into fixed batches; batch i is masked (and, for
ELECTRA, its replacements sampled) with the seed (seed, i), whatever the
model's random state, so every evaluation of every run with that seed sees
the same masks. Under a distribution strategy each replica takes whole
batches, so the metrics do not depend on the number of replicas or workers.
"""

import math
from typing import Dict

import numpy as np
import tensorflow as tf

from electra_tf import losses
from electra_tf import metrics


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
    `rtd_auc`, the ROC AUC of the discriminator's logits over all real tokens.
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

  def replica_step(batch, batch_seed):
    outputs = model(batch, training=False, seed=batch_seed)
    statistics = losses.pretraining_statistics(outputs, batch["input_mask"])
    if "disc_logits" not in outputs:
      return statistics, ()
    # int32, as collectives cannot gather booleans.
    return statistics, (tf.cast(outputs["disc_logits"], tf.float32),
                        tf.cast(outputs["disc_label"], tf.int32),
                        tf.cast(batch["input_mask"], tf.int32))

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
    totals, logits, labels = {}, [], []
    for index in range(num_steps):
      statistics, tokens = step(tf.constant(index, tf.int64))
      for name, value in statistics.items():
        totals[name] = totals.get(name, 0.0) + float(value)
      if tokens:
        token_logits, token_labels, real = (t.numpy() for t in tokens)
        real = real.astype(bool)
        logits.append(token_logits[real])
        labels.append(token_labels[real])
    results = {name: float(value) for name, value in
               losses.metrics_from_statistics(totals).items()}
    if logits:
      results["rtd_auc"] = metrics.roc_auc(np.concatenate(labels),
                                           np.concatenate(logits))
    return results

  return evaluate
