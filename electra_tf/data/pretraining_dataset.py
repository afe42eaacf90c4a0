"""Reads pretraining TFRecords: ELECTRA's format or BERT's static-masked one."""

import numpy as np
import tensorflow as tf

from electra_tf import file_readers
from electra_tf import paths

_MASKED_LM_KEYS = ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")


def _parse_fn(seq_length: int, max_predictions: int, static_masks: bool):
  features = {
      name: tf.io.FixedLenFeature([seq_length], tf.int64)
      for name in ("input_ids", "input_mask", "segment_ids")}
  if static_masks:
    features.update({
        "masked_lm_positions": tf.io.FixedLenFeature([max_predictions],
                                                     tf.int64),
        "masked_lm_ids": tf.io.FixedLenFeature([max_predictions], tf.int64),
        "masked_lm_weights": tf.io.FixedLenFeature([max_predictions],
                                                   tf.float32)})

  def parse(record):
    example = tf.io.parse_single_example(record, features)
    inputs = dict(input_word_ids=tf.cast(example["input_ids"], tf.int32),
                  input_mask=tf.cast(example["input_mask"], tf.int32),
                  input_type_ids=tf.cast(example["segment_ids"], tf.int32))
    if static_masks:
      inputs["masked_lm_positions"] = tf.cast(
          example["masked_lm_positions"], tf.int32)
      inputs["masked_lm_ids"] = tf.cast(example["masked_lm_ids"], tf.int32)
      inputs["masked_lm_weights"] = example["masked_lm_weights"]
    return inputs
  return parse


def _files(file_pattern: str):
  files = paths.matching_files(file_pattern)
  if not files:
    raise FileNotFoundError(f"No TFRecord files match {file_pattern}")
  return files


def damaged_file_error(file_pattern: str, error: tf.errors.DataLossError,
                       next_step: str) -> file_readers.DamagedFileError:
  """The error to raise when reading `file_pattern` failed with `error`:
  it names the first file that does not read whole (TFRecords check each
  record's checksum), found by reading each file again."""
  for path in _files(file_pattern):
    try:
      tf.data.TFRecordDataset(path).reduce(np.int64(0), lambda n, _: n + 1)
    except tf.errors.DataLossError as e:
      error = e
      break
  else:
    path = file_pattern
  return file_readers.DamagedFileError(
      f"TFRecord file {path} is damaged ({file_readers.first_line(error)}): "
      "rebuild it with build_pretraining_dataset or leave it out. " +
      next_step)


def read_examples(file_pattern: str, seq_length: int, max_predictions: int = 0,
                  static_masks: bool = False):
  """Every record of the files, in order, as a dict of numpy arrays.

  For held-out sets, which are small enough to hold in memory.
  """
  dataset = tf.data.TFRecordDataset(_files(file_pattern)).map(
      _parse_fn(seq_length, max_predictions, static_masks))
  try:
    rows = list(dataset.as_numpy_iterator())
  except tf.errors.InvalidArgumentError as e:
    raise ValueError(
        f"The records of {file_pattern} are not pretraining examples of "
        f"{seq_length} tokens{' with static masks' if static_masks else ''}"
        f": {e.message.splitlines()[0]}") from None
  except tf.errors.DataLossError as e:
    raise damaged_file_error(file_pattern, e, "Nothing was written.") from None
  if not rows:
    raise ValueError(f"The TFRecord files of {file_pattern} hold no records")
  return {key: np.stack([row[key] for row in rows]) for key in rows[0]}


def make_dataset(file_pattern: str, batch_size: int, seq_length: int,
                 seed: int, max_predictions: int = 0,
                 static_masks: bool = False,
                 input_context: tf.distribute.InputContext = None):
  """An endless, shuffled stream of full batches from TFRecord shards.

  With `static_masks`, BERT-style masked_lm_* features are read as well (the
  pretrainer then uses them instead of masking dynamically). Under a
  distribution strategy, each input pipeline reads its own share of files.
  """
  files = _files(file_pattern)
  dataset = tf.data.Dataset.from_tensor_slices(files)
  if input_context and input_context.num_input_pipelines > 1:
    if len(files) < input_context.num_input_pipelines:
      raise ValueError(f"{len(files)} files cannot be sharded over "
                       f"{input_context.num_input_pipelines} input pipelines")
    dataset = dataset.shard(input_context.num_input_pipelines,
                            input_context.input_pipeline_id)
  dataset = dataset.shuffle(len(files), seed=seed).repeat()
  dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=4,
                               num_parallel_calls=tf.data.AUTOTUNE,
                               deterministic=True)
  return (dataset.shuffle(10000, seed=seed)
          .map(_parse_fn(seq_length, max_predictions, static_masks),
               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
          .batch(batch_size, drop_remainder=True)
          .prefetch(tf.data.AUTOTUNE))
