"""Pretraining losses and metrics: masked LM, and ELECTRA's RTD on top.

Each batch is summarised by sums and counts (`pretraining_statistics`);
losses and metrics are their ratios (`metrics_from_statistics`). Training
takes the ratios of one batch; evaluation adds the sums over many batches
first, so its metrics are exact over the whole held-out set.
"""

import tensorflow as tf

# metric: (numerator, denominator) among the statistics.
_RATIOS = dict(
    mlm_loss=("mlm_loss_sum", "num_masked"),
    mlm_accuracy=("mlm_correct", "num_masked"),
    disc_loss=("disc_loss_sum", "num_real"),
    rtd_accuracy=("rtd_correct", "num_real"),
    rtd_precision=("true_positives", "predicted_replaced"),
    rtd_recall=("true_positives", "num_replaced"),
    replaced_fraction=("num_replaced", "num_real"),
    sampled_accuracy=("sampled_correct", "num_masked"),
)


def binary_entropy(p):
  """Entropy in nats of a coin that lands 1 with probability `p`: the loss of
  a discriminator that knows only the share of replaced tokens."""
  p = tf.clip_by_value(p, 1e-7, 1.0 - 1e-7)
  return -(p * tf.math.log(p) + (1.0 - p) * tf.math.log(1.0 - p))


def masked_lm_statistics(outputs):
  """Sums over the weighted masked positions of a pretrainer's outputs.

  Args:
    outputs: `lm_outputs` (logits or log-probabilities), `masked_lm_ids`,
      `masked_lm_weights`.

  Returns:
    A dict of scalars: `mlm_loss_sum` (cross-entropy), `mlm_correct`,
    `num_masked`.
  """
  lm_logits = tf.cast(outputs["lm_outputs"], tf.float32)
  masked_lm_ids = outputs["masked_lm_ids"]
  weights = tf.cast(outputs["masked_lm_weights"], tf.float32)
  # Also right for log-probability outputs: log_softmax is idempotent.
  losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=masked_lm_ids, logits=lm_logits)
  correct = tf.cast(
      tf.equal(tf.argmax(lm_logits, -1, output_type=masked_lm_ids.dtype),
               masked_lm_ids), tf.float32)
  return dict(mlm_loss_sum=tf.reduce_sum(losses * weights),
              mlm_correct=tf.reduce_sum(correct * weights),
              num_masked=tf.reduce_sum(weights))


def replaced_token_statistics(outputs, input_mask):
  """Sums over the real tokens of the discriminator's outputs.

  Args:
    outputs: an `ElectraPretrainer`'s `disc_logits` and `disc_label`.
    input_mask: [batch, seq], 1 for real tokens; padding is left out.

  Returns:
    A dict of scalars: `disc_loss_sum` (sigmoid cross-entropy),
    `rtd_correct`, `num_real`, `true_positives`, `predicted_replaced`,
    `num_replaced`; a token counts as predicted replaced when its logit > 0.
    Given the pretrainer's `disc_input_ids` and `masked_lm_*` too, also
    `sampled_correct`: masked positions whose sample is the original token
    (the generator's samples, not its argmax, are what the discriminator
    sees).
  """
  logits = tf.cast(outputs["disc_logits"], tf.float32)
  real = tf.cast(input_mask, tf.float32)
  label = tf.cast(outputs["disc_label"], tf.float32) * real
  losses = tf.nn.sigmoid_cross_entropy_with_logits(labels=label, logits=logits)
  predicted = tf.cast(logits > 0.0, tf.float32) * real
  statistics = dict(
      disc_loss_sum=tf.reduce_sum(losses * real),
      rtd_correct=tf.reduce_sum(
          tf.cast(tf.equal(predicted, label), tf.float32) * real),
      num_real=tf.reduce_sum(real),
      true_positives=tf.reduce_sum(predicted * label),
      predicted_replaced=tf.reduce_sum(predicted),
      num_replaced=tf.reduce_sum(label))
  if "disc_input_ids" in outputs:
    sampled = tf.gather(outputs["disc_input_ids"],
                        outputs["masked_lm_positions"], batch_dims=1)
    statistics["sampled_correct"] = tf.reduce_sum(
        tf.cast(tf.equal(sampled, outputs["masked_lm_ids"]), tf.float32) *
        tf.cast(outputs["masked_lm_weights"], tf.float32))
  return statistics


def pretraining_statistics(outputs, input_mask):
  """The masked-LM statistics, and for ELECTRA (`disc_logits`) the RTD ones."""
  statistics = masked_lm_statistics(outputs)
  if "disc_logits" in outputs:
    statistics.update(replaced_token_statistics(outputs, input_mask))
  return statistics


def metrics_from_statistics(statistics):
  """`mlm_loss`, `mlm_accuracy` and, given RTD statistics, `disc_loss`,
  `rtd_accuracy`, `rtd_precision`, `rtd_recall`, `replaced_fraction`,
  `sampled_accuracy` and `disc_gain`.

  `disc_gain` is 1 - disc_loss / H(replaced_fraction): 0 for a discriminator
  that has learned only how many tokens are replaced (it predicts that share
  everywhere), 1 for a perfect one, below 0 for one worse than that guess.
  An empty denominator gives 0.
  """
  metrics = {name: statistics[numerator] / tf.maximum(
      statistics[denominator], 1e-6)
             for name, (numerator, denominator) in _RATIOS.items()
             if numerator in statistics and denominator in statistics}
  if "disc_loss" in metrics:
    metrics["disc_gain"] = 1.0 - metrics["disc_loss"] / binary_entropy(
        metrics["replaced_fraction"])
  return metrics


def pretraining_loss_and_metrics(outputs, input_mask, mlm_weight: float = 1.0,
                                 disc_weight: float = 50.0):
  """mlm_weight x MLM cross-entropy (+ disc_weight x RTD loss for ELECTRA).

  Args:
    outputs: the dict returned by a pretrainer; the RTD loss applies when it
      holds `disc_logits` (ELECTRA), not for the masked-LM objective.
    input_mask: [batch, seq], 1 for real tokens.
    mlm_weight, disc_weight: loss weights (paper: 1 and 50).

  Returns:
    (total_loss, metrics): a scalar and the dict of `metrics_from_statistics`.
  """
  metrics = metrics_from_statistics(pretraining_statistics(outputs,
                                                           input_mask))
  total_loss = mlm_weight * metrics["mlm_loss"]
  if "disc_loss" in metrics:
    total_loss += disc_weight * metrics["disc_loss"]
  return total_loss, metrics
