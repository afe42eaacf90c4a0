"""ELECTRA pretraining loss and its per-batch metrics."""

import tensorflow as tf


def _safe_ratio(numerator, denominator):
  return numerator / tf.maximum(denominator, 1e-6)


def pretraining_loss_and_metrics(outputs, input_mask, mlm_weight: float = 1.0,
                                 disc_weight: float = 50.0):
  """Generator MLM cross-entropy + disc_weight x discriminator sigmoid CE.

  Args:
    outputs: the dict returned by `ElectraPretrainer`.
    input_mask: [batch, seq], 1 for real tokens; padding is left out of the
      discriminator loss and metrics.
    mlm_weight, disc_weight: loss weights (paper: 1 and 50).

  Returns:
    (total_loss, metrics): a scalar and a dict of scalars: `mlm_loss`,
    `disc_loss`, `mlm_accuracy`, `rtd_accuracy`, `rtd_precision`,
    `rtd_recall`, `replaced_fraction` (share of real tokens replaced).
  """
  lm_logits = tf.cast(outputs["lm_outputs"], tf.float32)
  masked_lm_ids = outputs["masked_lm_ids"]
  mlm_weights = tf.cast(outputs["masked_lm_weights"], tf.float32)
  # Also right for log-probability outputs: log_softmax is idempotent.
  mlm_losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=masked_lm_ids, logits=lm_logits)
  num_masked = tf.reduce_sum(mlm_weights)
  mlm_loss = _safe_ratio(tf.reduce_sum(mlm_losses * mlm_weights), num_masked)
  mlm_correct = tf.cast(
      tf.equal(tf.argmax(lm_logits, -1, output_type=masked_lm_ids.dtype),
               masked_lm_ids), tf.float32)

  disc_logits = tf.cast(outputs["disc_logits"], tf.float32)
  real = tf.cast(input_mask, tf.float32)
  disc_label = tf.cast(outputs["disc_label"], tf.float32) * real
  disc_losses = tf.nn.sigmoid_cross_entropy_with_logits(
      labels=disc_label, logits=disc_logits)
  num_real = tf.reduce_sum(real)
  disc_loss = _safe_ratio(tf.reduce_sum(disc_losses * real), num_real)
  predicted = tf.cast(disc_logits > 0.0, tf.float32) * real
  true_positives = tf.reduce_sum(predicted * disc_label)

  total_loss = mlm_weight * mlm_loss + disc_weight * disc_loss
  metrics = dict(
      mlm_loss=mlm_loss,
      disc_loss=disc_loss,
      mlm_accuracy=_safe_ratio(tf.reduce_sum(mlm_correct * mlm_weights),
                               num_masked),
      rtd_accuracy=_safe_ratio(
          tf.reduce_sum(tf.cast(tf.equal(predicted, disc_label), tf.float32) *
                        real), num_real),
      rtd_precision=_safe_ratio(true_positives, tf.reduce_sum(predicted)),
      rtd_recall=_safe_ratio(true_positives, tf.reduce_sum(disc_label)),
      replaced_fraction=_safe_ratio(tf.reduce_sum(disc_label), num_real))
  return total_loss, metrics
