"""Loads Hugging Face ELECTRA weights (a name -> numpy array dict) into our models.

Names follow `transformers`' ElectraModel / ElectraForPreTraining /
ElectraForMaskedLM state dicts. Every expected weight must be present and every
weight under the given prefix must be used; otherwise a ValueError lists the
missing and unused names.
"""

from typing import Dict, Mapping

import numpy as np


class _StateDictReader:
  """Hands out weights by name and remembers which ones were taken."""

  def __init__(self, state_dict: Mapping[str, np.ndarray], prefix: str):
    self._weights = {k[len(prefix):]: np.asarray(v)
                     for k, v in state_dict.items() if k.startswith(prefix)}
    self._prefix = prefix
    self._missing = []
    self._used = set()

  def __call__(self, name):
    if name not in self._weights:
      self._missing.append(self._prefix + name)
      return None
    self._used.add(name)
    return self._weights[name]

  def check(self, ignore=()):
    unused = sorted(self._prefix + k for k in self._weights
                    if k not in self._used and k not in ignore)
    if self._missing or unused:
      raise ValueError(f"Hugging Face weights do not fit: missing "
                       f"{self._missing}, unused {unused}")


def _assign(variable, value, transform=None):
  if value is None:
    return
  if transform is not None:
    value = transform(value)
  if tuple(variable.shape) != value.shape:
    raise ValueError(f"Shape mismatch for {variable.name}: ours "
                     f"{tuple(variable.shape)}, theirs {value.shape}")
  variable.assign(value.astype(variable.dtype.as_numpy_dtype))


def _assign_dense(layer, read, name, kernel_shape=None):
  """A torch Linear [out, in] into a Keras Dense/EinsumDense kernel."""
  def to_kernel(weight):
    kernel = weight.T
    return kernel.reshape(kernel_shape) if kernel_shape else kernel
  _assign(layer.kernel, read(name + ".weight"), to_kernel)
  _assign(layer.bias, read(name + ".bias"),
          lambda b: b.reshape(layer.bias.shape))


def _assign_layer_norm(layer, read, name):
  _assign(layer.gamma, read(name + ".weight"))
  _assign(layer.beta, read(name + ".bias"))


def _embedding_variables(embeddings):
  return {
      "embeddings.word_embeddings.weight":
          embeddings.word_embeddings.embeddings,
      "embeddings.position_embeddings.weight":
          embeddings.position_embeddings._position_embeddings,  # pylint: disable=protected-access
      "embeddings.token_type_embeddings.weight":
          embeddings.type_embeddings.embeddings,
      "embeddings.LayerNorm.weight": embeddings.layer_norm.gamma,
      "embeddings.LayerNorm.bias": embeddings.layer_norm.beta,
  }


def _load_encoder(encoder, read, load_embeddings):
  config = encoder.config
  for name, variable in _embedding_variables(encoder.embeddings).items():
    value = read(name)
    if load_embeddings:
      _assign(variable, value)
    elif value is not None and not np.array_equal(variable.numpy(), value):
      raise ValueError(f"{name} differs from the shared embeddings already "
                       "loaded; ELECTRA's generator and discriminator share "
                       "one set")
  if encoder.embedding_projection is not None:
    _assign_dense(encoder.embedding_projection, read, "embeddings_project")
  heads = config.num_attention_heads
  head_size = config.hidden_size // heads
  hidden = config.hidden_size
  # pylint: disable=protected-access
  for i, block in enumerate(encoder.transformer_layers):
    name = f"encoder.layer.{i}."
    attention = block._attention_layer
    for ours, theirs in ((attention._query_dense, "query"),
                         (attention._key_dense, "key"),
                         (attention._value_dense, "value")):
      _assign_dense(ours, read, name + "attention.self." + theirs,
                    (hidden, heads, head_size))
    _assign_dense(attention._output_dense, read,
                  name + "attention.output.dense", (heads, head_size, hidden))
    _assign_layer_norm(block._attention_layer_norm, read,
                       name + "attention.output.LayerNorm")
    _assign_dense(block._intermediate_dense, read, name + "intermediate.dense")
    _assign_dense(block._output_dense, read, name + "output.dense")
    _assign_layer_norm(block._output_layer_norm, read,
                       name + "output.LayerNorm")
  # pylint: enable=protected-access


# Buffers that some transformers versions keep in the state dict.
_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")


def load_encoder(encoder, state_dict: Dict[str, np.ndarray],
                 prefix: str = "electra.", load_embeddings: bool = True):
  """ElectraModel weights (under `prefix`) into an `ElectraEncoder`.

  With `load_embeddings=False` (a generator whose embeddings are shared with
  the discriminator), the given embedding weights must equal the shared ones.
  The pooler, which ELECTRA does not pretrain, is left as it is.
  """
  read = _StateDictReader(state_dict, prefix)
  _load_encoder(encoder, read, load_embeddings)
  read.check(ignore=_BUFFERS)


def load_discriminator_head(head, state_dict: Dict[str, np.ndarray],
                            prefix: str = "discriminator_predictions."):
  """ElectraForPreTraining's head into a `ReplacedTokenDetectionHead`."""
  read = _StateDictReader(state_dict, prefix)
  _assign_dense(head.dense, read, "dense")
  _assign_dense(head.dense_prediction, read, "dense_prediction")
  read.check()


def load_generator_head(masked_lm, state_dict: Dict[str, np.ndarray]):
  """ElectraForMaskedLM's head into Model Garden's `MaskedLM` layer.

  The output projection is tied to the word embeddings; only its bias loads.
  """
  read = _StateDictReader(state_dict, "generator_")
  _assign_dense(masked_lm.dense, read, "predictions.dense")
  _assign_layer_norm(masked_lm.layer_norm, read, "predictions.LayerNorm")
  _assign(masked_lm.bias, read("lm_head.bias"))
  read.check(ignore=("lm_head.weight",))
