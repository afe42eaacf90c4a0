"""Reads and writes Hugging Face weight files without unsafe unpickling."""

import json
import os
from typing import Dict

import numpy as np
from safetensors import numpy as safetensors_numpy

from electra_tf.configs import EncoderConfig

_HF_ACTIVATIONS = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu"}


def read_weights(path: str) -> Dict[str, np.ndarray]:
  """model.safetensors (read without torch) or pytorch_model.bin.

  `path` is a file or a directory holding one. A .bin file is read with
  `torch.load(weights_only=True)`, which refuses pickled code.
  """
  if os.path.isdir(path):
    for name in ("model.safetensors", "pytorch_model.bin"):
      if os.path.exists(os.path.join(path, name)):
        return read_weights(os.path.join(path, name))
    raise FileNotFoundError(f"{path} holds neither model.safetensors nor "
                            "pytorch_model.bin")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"No weights file at {path}")
  if path.endswith(".safetensors"):
    return safetensors_numpy.load_file(path)
  if path.endswith(".bin"):
    try:
      import torch  # pylint: disable=g-import-not-at-top
    except ImportError:
      raise ImportError(f"Reading {path} needs torch; convert it to "
                        "safetensors or pip install torch") from None
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.numpy() for k, v in state.items()}
  raise ValueError(f"Unknown weights format: {path} (expected .safetensors "
                   "or .bin)")


def hf_config(config: EncoderConfig, architecture: str) -> dict:
  """transformers' ElectraConfig fields for `config`."""
  return dict(
      architectures=[architecture], model_type="electra",
      vocab_size=config.vocab_size, embedding_size=config.embedding_size,
      hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
      num_attention_heads=config.num_attention_heads,
      intermediate_size=config.intermediate_size,
      hidden_act=_HF_ACTIVATIONS[config.hidden_act],
      hidden_dropout_prob=config.hidden_dropout_prob,
      attention_probs_dropout_prob=config.attention_probs_dropout_prob,
      max_position_embeddings=config.max_position_embeddings,
      type_vocab_size=config.type_vocab_size,
      initializer_range=config.initializer_range,
      layer_norm_eps=config.layer_norm_eps)


def write_hf_model(output_dir: str, weights: Dict[str, np.ndarray],
                   config: dict):
  """model.safetensors + config.json, loadable by transformers.from_pretrained."""
  os.makedirs(output_dir, exist_ok=True)
  safetensors_numpy.save_file(
      {k: np.ascontiguousarray(v) for k, v in weights.items()},
      os.path.join(output_dir, "model.safetensors"), metadata={"format": "pt"})
  with open(os.path.join(output_dir, "config.json"), "w",
            encoding="utf-8") as f:
    json.dump(config, f, indent=2)
