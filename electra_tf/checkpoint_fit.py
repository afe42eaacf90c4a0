"""Checks a checkpoint before restoring it: whole, and fitting the config.

A truncated or corrupted file fails deep inside a restore with a bare
"Read less bytes than requested", or later, inside training, for values
restored on creation (optimizer slots); `check_readable` reads every value
first and names the damaged file and the checkpoints that are still sound.
Restoring into a model of other sizes fails with a bare shape error (or, for
a head count, not at all: the kernels reshape); `check` reads the sizes off
the variable shapes and names each one that differs from the config.
"""

import os
from typing import Dict, List, Sequence

import tensorflow as tf

from electra_tf import configs
from electra_tf import file_readers

# Where each encoder of ours sits in a checkpoint: pretrainers' networks and
# task models' `network`.
_ENCODERS = {"discriminator_network": "discriminator",
             "generator_network": "generator",
             "encoder_network": "encoder",
             "network": "encoder"}
_EMBEDDING_SIZES = ("vocab_size", "embedding_size", "max_position_embeddings",
                    "type_vocab_size")


class DamagedCheckpointError(file_readers.DamagedFileError):
  """A checkpoint whose files cannot be read back whole."""


def _damage(checkpoint_path: str) -> str:
  """What is wrong with the checkpoint's files, or "" if they read whole.

  TensorFlow checks each value against the checksum in the index as it
  reads it, so flipped bytes are found as well as missing ones.
  """
  try:
    reader = tf.train.load_checkpoint(checkpoint_path)
  except (tf.errors.OpError, ValueError) as e:
    return f"{checkpoint_path}.index: {file_readers.first_line(e)}"
  try:
    # RestoreV2 reads every dtype (the input position is a variant, which
    # the reader's get_tensor cannot return).
    for name, dtype in reader.get_variable_to_dtype_map().items():
      tf.raw_ops.RestoreV2(prefix=checkpoint_path, tensor_names=[name],
                           shape_and_slices=[""], dtypes=[dtype])
  except (tf.errors.OpError, IndexError, ValueError) as e:
    data = sorted(tf.io.gfile.glob(checkpoint_path + ".data-*"))
    return (f"{', '.join(data) or checkpoint_path + '.data-*'}: "
            f"{file_readers.first_line(e)}")
  return ""


def listed_checkpoints(directory: str) -> List[str]:
  """The checkpoints that `directory`'s `checkpoint` file lists and whose
  index is there, oldest first."""
  state = tf.train.get_checkpoint_state(directory)
  paths = state.all_model_checkpoint_paths if state else []
  return [p for p in paths if tf.io.gfile.exists(p + ".index")]


def check_readable(checkpoint_path: str, next_step: str = ""):
  """Raises a DamagedCheckpointError naming the file of `checkpoint_path`
  that does not read back whole, and the newest sound checkpoint beside it;
  `next_step` says what the user can do."""
  damage = _damage(checkpoint_path)
  if not damage:
    return
  message = f"checkpoint {checkpoint_path} is damaged: {damage}. "
  sound = [path for path in listed_checkpoints(os.path.dirname(
      checkpoint_path)) if not _damage(path)]
  message += (f"The newest sound checkpoint beside it is {sound[-1]}. "
              if sound else "No other checkpoint beside it is sound. ")
  raise DamagedCheckpointError(message + (next_step or "Nothing was changed."))


def encoder_sizes(shapes: Dict[str, Sequence[int]],
                  prefix: str) -> Dict[str, int]:
  """The EncoderConfig sizes that the variables under `prefix` show."""

  def shape(path):
    return shapes.get(f"{prefix}/{path}/.ATTRIBUTES/VARIABLE_VALUE")

  sizes = {}
  word = shape("embeddings/word_embeddings/embeddings")
  if word:  # a generator shares the discriminator's
    sizes["vocab_size"] = word[0]
  position = shape("embeddings/position_embeddings/embeddings")
  if position:
    sizes["max_position_embeddings"], sizes["embedding_size"] = position
  types = shape("embeddings/type_embeddings/embeddings")
  if types:
    sizes["type_vocab_size"] = types[0]
  query = shape("transformer_layers/0/attention/_query_dense/kernel")
  if query:
    sizes["hidden_size"], sizes["num_attention_heads"] = query[:2]
  intermediate = shape("transformer_layers/0/intermediate_dense/kernel")
  if intermediate:
    sizes["intermediate_size"] = intermediate[1]
  layers = {name[len(prefix):].split("/")[2] for name in shapes
            if name.startswith(prefix + "/transformer_layers/")}
  if layers:
    sizes["num_layers"] = len(layers)
  return sizes


def mismatches(config: configs.PretrainerConfig,
               checkpoint_path: str) -> List[str]:
  """One line per size where the checkpoint and `config` differ."""
  shapes = dict(tf.train.list_variables(checkpoint_path))
  expected = {"discriminator": config.discriminator,
              "encoder": config.discriminator,
              "generator": config.generator()}
  lines = {}
  for network, name in _ENCODERS.items():
    encoder = expected[name]
    for key, value in encoder_sizes(shapes, f"model/{network}").items():
      if getattr(encoder, key) != value:
        # ELECTRA's networks share one embedding layer, saved under either.
        owner = "embeddings" if key in _EMBEDDING_SIZES else name
        lines[f"{owner} {key}: checkpoint {value}, config "
              f"{getattr(encoder, key)}"] = None
  return list(lines)


def check(config: configs.PretrainerConfig, checkpoint_path: str):
  """Raises a ValueError listing every size the checkpoint does not fit."""
  lines = mismatches(config, checkpoint_path)
  if lines:
    raise ValueError(
        f"checkpoint {checkpoint_path} does not fit the config (give the "
        "--config and --params_override it was made with):\n  " +
        "\n  ".join(lines))
