"""In-graph dynamic masking and token replacement for ELECTRA pretraining."""

from typing import Sequence

import tensorflow as tf

# [PAD], [CLS], [SEP] and [MASK] in the BERT uncased vocabulary.
BERT_SPECIAL_TOKEN_IDS = (0, 101, 102)
BERT_MASK_TOKEN_ID = 103


def replace_at_positions(sequence, positions, values, weights):
  """Writes `values` into `sequence` at `positions` where `weights` is non-zero.

  Args:
    sequence: int [batch, seq].
    positions: int [batch, num_predictions]; unique where weighted.
    values: int [batch, num_predictions], or a scalar.
    weights: [batch, num_predictions]; zero entries are padding and ignored.

  Returns:
    The updated int [batch, seq] tensor.
  """
  hits = tf.one_hot(positions, tf.shape(sequence)[1], dtype=sequence.dtype)
  hits *= tf.cast(weights, sequence.dtype)[..., None]
  values = tf.broadcast_to(tf.cast(values, sequence.dtype), tf.shape(positions))
  written = tf.reduce_sum(hits * values[..., None], axis=1)
  return tf.where(tf.reduce_max(hits, axis=1) > 0, written, sequence)


def mask_tokens(input_word_ids, input_mask, *, seed, num_predictions: int,
                mask_prob: float, mask_token_id: int,
                special_token_ids: Sequence[int], mask_token_rate: float = 0.85):
  """Chooses `mask_prob` of the real tokens to predict, as ELECTRA does.

  Never picks padding or `special_token_ids` ([CLS], [SEP], [PAD]). Each row
  predicts round(mask_prob * real tokens) positions, at least one and at most
  `num_predictions`. Of the chosen positions `mask_token_rate` become
  `mask_token_id`; the rest keep their token.

  Args:
    input_word_ids: int32 [batch, seq].
    input_mask: [batch, seq], 1 for real tokens.
    seed: int [2], for the stateless random ops (same seed, same masking).
    num_predictions: the fixed width P of the returned position tensors.
    mask_prob: share of candidate tokens to predict.
    mask_token_id: id of [MASK].
    special_token_ids: ids that are never masked.
    mask_token_rate: share of chosen positions replaced by [MASK].

  Returns:
    (masked_word_ids [batch, seq], masked_lm_positions [batch, P],
     masked_lm_ids [batch, P], masked_lm_weights float32 [batch, P]).
    Unused slots have position 0, id 0 and weight 0.
  """
  choice_seed, mask_seed = tf.unstack(
      tf.random.experimental.stateless_split(seed, 2))
  candidates = tf.cast(input_mask, tf.bool)
  for token_id in special_token_ids:
    candidates &= tf.not_equal(input_word_ids, token_id)
  num_candidates = tf.reduce_sum(tf.cast(candidates, tf.float32), axis=-1)
  num_to_predict = tf.minimum(
      tf.clip_by_value(tf.round(num_candidates * mask_prob), 1.0,
                       float(num_predictions)), num_candidates)

  # A random ranking of the candidates; the top num_to_predict are chosen.
  scores = tf.random.stateless_uniform(tf.shape(input_word_ids), choice_seed)
  scores = tf.where(candidates, scores, -1.0)
  short_by = tf.maximum(0, num_predictions - tf.shape(scores)[1])
  scores = tf.pad(scores, [[0, 0], [0, short_by]], constant_values=-2.0)
  top_scores, positions = tf.math.top_k(scores, k=num_predictions)
  rank = tf.range(num_predictions, dtype=tf.float32)[None, :]
  chosen = (rank < num_to_predict[:, None]) & (top_scores >= 0.0)
  positions = tf.where(chosen, positions, 0)
  masked_lm_ids = tf.where(
      chosen, tf.gather(input_word_ids, positions, batch_dims=1), 0)
  weights = tf.cast(chosen, tf.float32)

  to_mask = chosen & (tf.random.stateless_uniform(
      tf.shape(positions), mask_seed) < mask_token_rate)
  masked_word_ids = replace_at_positions(
      input_word_ids, positions, mask_token_id, to_mask)
  return masked_word_ids, positions, masked_lm_ids, weights


def mask_inputs(inputs, *, seed, num_predictions: int, mask_prob: float,
                mask_token_id: int, special_token_ids: Sequence[int],
                mask_token_rate: float = 0.85):
  """The masked-LM inputs of a pretrainer's input dict.

  With BERT-style static `masked_lm_positions`, `masked_lm_ids` and
  `masked_lm_weights` in `inputs`, `input_word_ids` is taken as already
  masked; otherwise tokens are masked here (see `mask_tokens`).

  Returns:
    (masked word ids, original word ids, masked_lm_positions, masked_lm_ids,
     masked_lm_weights float32).
  """
  word_ids = inputs["input_word_ids"]
  if "masked_lm_positions" in inputs:
    positions = inputs["masked_lm_positions"]
    masked_lm_ids = inputs["masked_lm_ids"]
    weights = tf.cast(inputs["masked_lm_weights"], tf.float32)
    original = replace_at_positions(word_ids, positions, masked_lm_ids,
                                    weights)
    return word_ids, original, positions, masked_lm_ids, weights
  masked, positions, masked_lm_ids, weights = mask_tokens(
      word_ids, inputs["input_mask"], seed=seed,
      num_predictions=num_predictions, mask_prob=mask_prob,
      mask_token_id=mask_token_id, special_token_ids=special_token_ids,
      mask_token_rate=mask_token_rate)
  return masked, word_ids, positions, masked_lm_ids, weights


def sample_tokens(logits, *, seed, temperature: float = 1.0,
                  disallowed_ids=None):
  """Draws one token per row of `logits` from softmax(logits / temperature).

  `tf.random.stateless_categorical` draws one uniform per row and searches
  the softmax's running sum. The Gumbel-max trick draws the same
  distribution with a uniform and two logs per vocabulary entry: about 4x
  slower on ELECTRA-Small's 320 x 30522 logits on CPU.

  Args:
    logits: float [..., vocab] (logits or log-probabilities).
    seed: int [2] for the stateless draw.
    temperature: softmax temperature, a float or a scalar tensor.
    disallowed_ids: optional int [...] ids that may not be drawn.

  Returns:
    int32 [...] sampled ids; no gradient flows through them.
  """
  logits = tf.stop_gradient(tf.cast(logits, tf.float32))
  if tf.is_tensor(temperature) or temperature != 1.0:
    logits /= temperature
  vocab_size = tf.shape(logits)[-1]
  if disallowed_ids is not None:
    logits = tf.where(tf.one_hot(disallowed_ids, vocab_size, on_value=True,
                                 off_value=False), -1e9, logits)
  # XLA compiles this op for int32 seeds only.
  samples = tf.random.stateless_categorical(
      tf.reshape(logits, [-1, vocab_size]), 1, tf.cast(seed, tf.int32),
      dtype=tf.int32)
  return tf.reshape(samples, tf.shape(logits)[:-1])
