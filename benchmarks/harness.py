"""What the benchmarks share: batches of shipped text, our training loop,
interleaved timing and a competing load of a fixed size."""

import contextlib
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

from electra_tf import configs
from electra_tf import trainer
from electra_tf.data import text_examples
from electra_tf.ops import masking

REPO = __file__.rsplit("/benchmarks/", 1)[0]


def pretraining_batches(batch_size, seq_length, num_predictions, count):
  """Real text, with static masks so that every contender sees the same."""
  examples = text_examples.make_examples(
      f"{REPO}/data/sotu_1940_2021.txt", f"{REPO}/data/vocab_uncased.txt",
      seq_length)
  batches = []
  for i in range(count):
    rows = slice(i * batch_size, (i + 1) * batch_size)
    batch = {k: tf.constant(v[rows]) for k, v in examples.items()}
    masked, positions, ids, weights = masking.mask_tokens(
        batch["input_word_ids"], batch["input_mask"], seed=tf.constant([i, 0]),
        num_predictions=num_predictions, mask_prob=0.15, mask_token_id=103,
        special_token_ids=(0, 101, 102))
    batches.append(dict(batch, input_word_ids=masked,
                        masked_lm_positions=positions, masked_lm_ids=ids,
                        masked_lm_weights=weights))
  return batches


def stream(batches):
  """An endless iterator over `batches`, as a training loop consumes them."""
  stacked = {k: tf.stack([b[k] for b in batches]) for k in batches[0]}
  return iter(tf.data.Dataset.from_tensor_slices(stacked).repeat())


def train_loop(model, loss_fn, jit_compile=False):
  """`fn(iterator, steps)`: run_pretraining's compiled loop, default recipe."""
  train = configs.TrainConfig()
  loop = trainer.make_train_loop(model, trainer.make_optimizer(train), loss_fn,
                                 train.clip_norm, tf.distribute.get_strategy(),
                                 jit_compile=jit_compile)
  return lambda iterator, steps: loop(iterator, tf.constant(steps))[0]


def milliseconds_per_step(fn, steps):
  """Mean milliseconds per step of `fn(steps)`, its result fetched."""
  start = time.perf_counter()
  result = fn(steps)
  tf.nest.map_structure(np.asarray, result)
  return (time.perf_counter() - start) / steps * 1000


def interleaved_medians(contenders, steps, rounds):
  """Median ms/step of each `fn(steps)` over `rounds`, who goes first
  alternating: a 2-core machine drifts by 10% or more between minutes, and
  interleaving keeps that out of the ratios. Each runs 2 steps first
  (tracing, compiling, allocator warm-up)."""
  for fn in contenders:
    milliseconds_per_step(fn, 2)
  times = [[] for _ in contenders]
  order = list(range(len(contenders)))
  for r in range(rounds):
    for i in order if r % 2 == 0 else order[::-1]:
      times[i].append(milliseconds_per_step(contenders[i], steps))
  return [float(np.median(t)) for t in times]


@contextlib.contextmanager
def busy_processes(count):
  """`count` processes that each keep one core busy, as other work on a
  shared machine would; both contenders run under the same load."""
  spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
              for _ in range(count)]
  try:
    yield spinners
  finally:
    for spinner in spinners:
      spinner.kill()
      spinner.wait()
