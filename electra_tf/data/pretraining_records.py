"""Packs raw text into sharded TFRecords for ELECTRA pretraining.

The records hold int64 `input_ids`, `input_mask` and `segment_ids` of length
`max_seq_length`, the format of google-research/electra. Sequences are packed
from consecutive sentences of one document into two segments, except for about
10% that keep a single segment; about 5% aim for a random shorter length.
Each input file becomes one shard, written under a temporary name and renamed
when complete. A seed fixes the result, whatever the number of processes.
"""

import multiprocessing
import os
import random
from typing import Iterator, List

import numpy as np

from electra_tf import paths
from electra_tf.data import text_examples


class ExampleBuilder:
  """Packs sentences into examples as google-research/electra does."""

  def __init__(self, special_ids, max_length: int, rng: random.Random):
    self._cls, self._sep = special_ids["[CLS]"], special_ids["[SEP]"]
    self._max_length = max_length
    self._rng = rng
    self._sentences: List[List[int]] = []
    self._length = 0
    self._target_length = max_length

  def add_sentence(self, token_ids):
    """Adds one sentence (or None for a document end); may return an example."""
    if token_ids is None:
      return self._create_example() if self._length else None
    if not token_ids:
      return None
    self._sentences.append(list(token_ids))
    self._length += len(token_ids)
    if self._length >= self._target_length:
      return self._create_example()
    return None

  def _create_example(self):
    rng = self._rng
    if rng.random() < 0.1:  # a single segment, as in classification tasks
      first_target = 100000
    else:
      first_target = (self._target_length - 3) // 2
    first, second = [], []
    for sentence in self._sentences:
      if (not first or len(first) + len(sentence) < first_target or
          (not second and len(first) < first_target and rng.random() < 0.5)):
        first += sentence
      else:
        second += sentence
    first = first[:self._max_length - 2]
    second = second[:max(0, self._max_length - len(first) - 3)]
    self._sentences, self._length = [], 0
    self._target_length = (rng.randint(5, self._max_length)
                           if rng.random() < 0.05 else self._max_length)
    return self._pack(first, second)

  def _pack(self, first, second):
    ids = [self._cls] + first + [self._sep]
    segments = [0] * len(ids)
    if second:
      ids += second + [self._sep]
      segments += [1] * (len(second) + 1)
    pad = self._max_length - len(ids)
    return (np.array(ids + [0] * pad, np.int64),
            np.array([1] * len(ids) + [0] * pad, np.int64),
            np.array(segments + [0] * pad, np.int64))


def _lines(path: str, blanks_separate_docs: bool) -> Iterator[str]:
  """Non-empty lines of a text file, with '' wherever a document ends."""
  for document in text_examples.read_documents(path):
    yield from document
    if blanks_separate_docs:
      yield ""
  yield ""


def write_shard(job):
  """Tokenizes one text file into one TFRecord shard; returns (path, count)."""
  (input_file, output_path, vocab_file, max_seq_length, do_lower_case,
   blanks_separate_docs, seed) = job
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  special_ids = text_examples.read_vocab_special_ids(vocab_file)
  lines = list(_lines(input_file, blanks_separate_docs))
  pieces = text_examples.tokenize_lines(lines, vocab_file, do_lower_case)
  builder = ExampleBuilder(special_ids, max_seq_length, random.Random(seed))
  temp_path = output_path + ".incomplete"
  count = 0
  with tf.io.TFRecordWriter(temp_path) as writer:
    for line, token_ids in zip(lines, pieces):
      example = builder.add_sentence(token_ids if line else None)
      if example is None:
        continue
      features = {
          name: tf.train.Feature(int64_list=tf.train.Int64List(value=values))
          for name, values in zip(("input_ids", "input_mask", "segment_ids"),
                                  example)}
      writer.write(tf.train.Example(features=tf.train.Features(
          feature=features)).SerializeToString(deterministic=True))
      count += 1
  os.replace(temp_path, output_path)
  return output_path, count


def build(input_files: List[str], vocab_file: str, output_dir: str,
          max_seq_length: int = 128, do_lower_case: bool = True,
          blanks_separate_docs: bool = True, num_processes: int = 1,
          seed: int = 12345) -> List[str]:
  """Writes one shard per input file; returns the shard paths."""
  files = sorted({p for pattern in input_files
                  for p in paths.matching_files(pattern) or [pattern]})
  missing = [p for p in files if not os.path.isfile(p)]
  if missing:
    raise FileNotFoundError(f"Input files not found: {missing}")
  text_examples.read_vocab_special_ids(vocab_file)  # fails early if bad
  for path in files:
    text_examples.read_documents(path)  # fails early on bad UTF-8 or no text
  paths.check_writable(output_dir)
  os.makedirs(output_dir, exist_ok=True)
  jobs = [(path, os.path.join(
      output_dir, f"pretrain_data.tfrecord-{i:05d}-of-{len(files):05d}"),
           vocab_file, max_seq_length, do_lower_case, blanks_separate_docs,
           seed * 100003 + i) for i, path in enumerate(files)]
  written = []
  context = multiprocessing.get_context("spawn")  # TF is not fork-safe
  with context.Pool(max(1, min(num_processes, len(jobs)))) as pool:
    for i, (path, count) in enumerate(pool.imap(write_shard, jobs), 1):
      print(f"[{i}/{len(jobs)}] {count} examples -> {path}", flush=True)
      written.append(path)
  return written
