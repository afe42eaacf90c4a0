import numpy as np
import tensorflow as tf

from electra_tf.ops import masking

SPECIAL = (0, 101, 102)


def _mask(batch, seed=(1, 2), num_predictions=6, rate=0.85, prob=0.15):
  return [np.asarray(t) for t in masking.mask_tokens(
      batch["input_word_ids"], batch["input_mask"], seed=tf.constant(seed),
      num_predictions=num_predictions, mask_prob=prob, mask_token_id=103,
      special_token_ids=SPECIAL, mask_token_rate=rate)]


def test_only_real_non_special_tokens_are_chosen(batch):
  ids = batch["input_word_ids"]
  masked, positions, lm_ids, weights = _mask(batch)
  lengths = batch["input_mask"].sum(1)
  for row in range(len(ids)):
    chosen = positions[row][weights[row] > 0]
    assert len(set(chosen)) == len(chosen)
    candidates = lengths[row] - 2
    assert len(chosen) == min(max(1, round(candidates * 0.15)), 6, candidates)
    assert np.all(batch["input_mask"][row, chosen] == 1)
    assert not np.isin(ids[row, chosen], SPECIAL).any()
    np.testing.assert_array_equal(lm_ids[row][weights[row] > 0],
                                  ids[row, chosen])
    # Unused slots are zero; unchosen tokens are untouched.
    assert not positions[row][weights[row] == 0].any()
    untouched = np.setdiff1d(np.arange(ids.shape[1]), chosen)
    np.testing.assert_array_equal(masked[row, untouched], ids[row, untouched])
  # A row with only [CLS] x [SEP] has exactly one candidate.
  assert weights[4].sum() == 1


def test_mask_token_rate_and_determinism():
  rng = np.random.default_rng(1)
  ids = rng.integers(1000, 5000, (512, 128)).astype(np.int32)
  batch = dict(input_word_ids=ids, input_mask=np.ones_like(ids))
  masked, positions, lm_ids, weights = _mask(batch, num_predictions=20)
  assert weights.sum() == 512 * 19  # round(0.15 * 128) = 19
  chosen = np.take_along_axis(masked, positions, 1)[weights > 0]
  assert abs((chosen == 103).mean() - 0.85) < 0.02
  assert (masked == 103).sum() == (chosen == 103).sum()
  again = _mask(batch, num_predictions=20)
  np.testing.assert_array_equal(again[1], positions)
  other = _mask(batch, seed=(3, 4), num_predictions=20)
  assert (other[1] != positions).any()


def test_sequences_shorter_than_num_predictions():
  ids = np.array([[101, 7592, 102], [101, 102, 0]], np.int32)
  batch = dict(input_word_ids=ids, input_mask=(ids > 0).astype(np.int32))
  masked, positions, lm_ids, weights = _mask(batch, num_predictions=5)
  assert positions.shape == (2, 5)
  np.testing.assert_array_equal(weights.sum(1), [1, 0])
  assert positions[0][0] == 1 and lm_ids[0][0] == 7592


def test_replace_at_positions_ignores_unweighted_slots():
  seq = tf.constant([[5, 6, 7, 8]])
  out = masking.replace_at_positions(seq, tf.constant([[2, 0]]),
                                     tf.constant([[70, 50]]),
                                     tf.constant([[1.0, 0.0]]))
  np.testing.assert_array_equal(out, [[5, 6, 70, 8]])


def test_sampling_follows_the_distribution_and_disallows():
  logits = tf.math.log(tf.constant([[0.7, 0.2, 0.1]] * 20000))
  samples = masking.sample_tokens(logits, seed=tf.constant([0, 1])).numpy()
  np.testing.assert_allclose(np.bincount(samples, minlength=3) / 20000,
                             [0.7, 0.2, 0.1], atol=0.015)
  cold = masking.sample_tokens(logits, seed=tf.constant([0, 1]),
                               temperature=0.01).numpy()
  assert (cold == 0).all()
  # [..., vocab] logits: a [batch, predictions] grid of draws.
  allowed = masking.sample_tokens(
      tf.reshape(logits, [100, 200, 3]), seed=tf.constant([0, 1]),
      disallowed_ids=tf.zeros([100, 200], tf.int32)).numpy()
  assert allowed.shape == (100, 200)
  # Without id 0 the rest keep their ratio: 2/3 and 1/3.
  np.testing.assert_allclose(np.bincount(allowed.ravel(), minlength=3) / 20000,
                             [0.0, 2 / 3, 1 / 3], atol=0.015)
