"""Checks that a checkpoint's weights fit a config, before restoring it.

Restoring into a model of other sizes fails deep inside TensorFlow with a
bare shape error (or, for a head count, not at all: the kernels reshape).
The sizes are read off the checkpoint's variable shapes instead and compared
with the config, so the message names each size that differs.
"""

from typing import Dict, List, Sequence

import tensorflow as tf

from electra_tf import configs

# Where each encoder of ours sits in a checkpoint: pretrainers' networks and
# task models' `network`.
_ENCODERS = {"discriminator_network": "discriminator",
             "generator_network": "generator",
             "encoder_network": "encoder",
             "network": "encoder"}
_EMBEDDING_SIZES = ("vocab_size", "embedding_size", "max_position_embeddings",
                    "type_vocab_size")


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
