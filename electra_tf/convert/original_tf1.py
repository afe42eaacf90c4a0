"""Reads google-research/electra TF1 checkpoints under Hugging Face names.

The original stores the discriminator under `electra/`, the generator under
`generator/` (sharing `electra/embeddings` unless it has its own), the heads
under `discriminator_predictions/` and `generator_predictions/`, and often
Adam slots (`.../adam_m`, `.../adam_v`). Names are translated as Hugging Face's
`load_tf_weights_in_electra` did, so `huggingface.load_*` can load them.
"""

import re
from typing import Dict

import numpy as np
import tensorflow as tf

from electra_tf import checkpoint_fit
from electra_tf.configs import EncoderConfig
from electra_tf.models import ElectraPretrainer

# The ELECTRA code gives every model (and generator) heads of 64 dimensions;
# a checkpoint's shapes cannot tell the head count.
HEAD_SIZE = 64
_OPTIMIZER_STATE = re.compile(
    r"(^|/)(global_step|adam_m|adam_v|beta1_power|beta2_power|temperature)$")


def _leaf(tokens):
  """TF1 path tokens (after the scope) -> Hugging Face name, transpose?"""
  out = []
  for token in tokens:
    match = re.fullmatch(r"layer_(\d+)", token)
    out.append(f"layer.{match.group(1)}" if match else token)
  last = out[-1]
  if last.endswith("_embeddings"):
    return ".".join(out + ["weight"]), False
  if last in ("kernel", "gamma"):
    return ".".join(out[:-1] + ["weight"]), last == "kernel"
  if last in ("beta", "bias"):
    return ".".join(out[:-1] + ["bias"]), False
  return None, False


def is_checkpoint(path: str) -> bool:
  """Whether `path` (a prefix or a directory) is an original ELECTRA checkpoint."""
  try:
    names = tf.train.load_checkpoint(path).get_variable_to_shape_map()
  except (tf.errors.NotFoundError, ValueError):
    return False
  return "electra/embeddings/word_embeddings" in names


def read_checkpoint(path: str, network: str) -> Dict[str, np.ndarray]:
  """The weights of one network (and its head) as a Hugging Face state dict.

  Raises:
    ValueError: listing every variable that is neither optimizer state, nor
      known ELECTRA weights of the discriminator or generator.
  """
  if network not in ElectraPretrainer.NETWORKS:
    raise ValueError(f"network must be one of {ElectraPretrainer.NETWORKS}, "
                     f"got {network!r}")
  try:
    tf.train.load_checkpoint(path)
  except (tf.errors.NotFoundError, ValueError) as e:
    raise FileNotFoundError(f"No TF checkpoint at {path}: {e}") from None
  except tf.errors.OpError:
    pass  # a damaged index, named next
  checkpoint_fit.check_readable(path, next_step="Nothing was written.")
  reader = tf.train.load_checkpoint(path)
  names = [n for n in reader.get_variable_to_shape_map()
           if not _OPTIMIZER_STATE.search(n)]
  own_embeddings = any(n.startswith("generator/embeddings/") for n in names)
  weights, unknown = {}, []
  for name in sorted(names):
    scope, *rest = name.split("/")
    if scope == "electra" and rest[0] == "embeddings":
      wanted = network == "discriminator" or not own_embeddings
      prefix = "electra."
    elif scope in ("electra", "discriminator_predictions"):
      wanted = network == "discriminator"
      prefix = "electra." if scope == "electra" else scope + "."
    elif scope in ("generator", "generator_predictions"):
      wanted = network == "generator"
      prefix = "electra." if scope == "generator" else scope + "."
    else:
      unknown.append(name)
      continue
    if name == "generator_predictions/output_bias":
      prefix, (hf_name, transpose) = "", ("generator_lm_head.bias", False)
    else:
      hf_name, transpose = _leaf(["dense_prediction" if t == "dense_1" else t
                                  for t in rest])
    if hf_name is None:
      unknown.append(name)
    elif wanted:
      value = reader.get_tensor(name)
      weights[prefix + hf_name] = value.T if transpose else value
  if unknown:
    raise ValueError(f"{path} has variables that are not ELECTRA weights: "
                     f"{unknown}")
  return weights


def encoder_config(weights: Dict[str, np.ndarray]) -> EncoderConfig:
  """The sizes of one network that `read_checkpoint` read.

  Heads: hidden_size // 64, the ELECTRA code's rule. The rest are its
  defaults (exact GELU, dropout 0.1).
  """
  def shape(name):
    return weights["electra." + name].shape

  vocab_size, embedding_size = shape("embeddings.word_embeddings.weight")
  hidden_size = shape("encoder.layer.0.attention.self.query.weight")[0]
  layers = {name.split(".")[3] for name in weights
            if name.startswith("electra.encoder.layer.")}
  return EncoderConfig(
      vocab_size=vocab_size, embedding_size=embedding_size,
      hidden_size=hidden_size, num_layers=len(layers),
      num_attention_heads=max(1, hidden_size // HEAD_SIZE),
      intermediate_size=shape("encoder.layer.0.intermediate.dense.weight")[0],
      max_position_embeddings=shape("embeddings.position_embeddings.weight")[0],
      type_vocab_size=shape("embeddings.token_type_embeddings.weight")[0])
