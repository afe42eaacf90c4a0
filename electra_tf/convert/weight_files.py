"""Reads and writes Hugging Face weight files without unsafe unpickling."""

import json
import os
import re
import stat
from typing import Dict, Optional

import h5py
import numpy as np
import safetensors
from safetensors import numpy as safetensors_numpy

from electra_tf import file_readers
from electra_tf.configs import EncoderConfig

_HF_ACTIVATIONS = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu"}
# transformers' names for the tanh approximation, all read as ours.
_TANH_GELUS = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "tf_model.h5")


def _pytorch_name(tf_name: str):
  """(PyTorch state-dict name, transpose?) of a Hugging Face TF weight.

  transformers' own rule (convert_tf_weight_name_to_pt_weight_name): drop
  the model's name scope and ":0", "_._" separates list items, Dense
  kernels are transposed and become "weight", as do embeddings and
  LayerNorm gammas; LayerNorm betas become "bias".
  """
  parts = re.sub(r"//+", "/", tf_name.replace(":0", "").replace(
      "_._", "/")).split("/")[1:]
  transpose = parts[-1] == "kernel"
  if parts[-1] in ("kernel", "embeddings", "gamma"):
    parts[-1] = "weight"
  elif parts[-1] == "beta":
    parts[-1] = "bias"
  return ".".join(parts), transpose


def _read_keras_h5(path: str) -> Dict[str, np.ndarray]:
  """A transformers TF model's tf_model.h5 (Keras 2 save_weights format)."""
  weights = {}
  with h5py.File(path, "r") as f:
    if "layer_names" not in f.attrs:
      raise ValueError(f"{path} is not a Keras weights file of a "
                       "transformers TF model (no layer_names)")
    for layer in f.attrs["layer_names"]:
      group = f[layer]
      for tf_name in group.attrs["weight_names"]:
        name, transpose = _pytorch_name(tf_name)
        value = np.asarray(group[tf_name])
        weights[name] = value.T if transpose and value.ndim == 2 else value
  return weights


def read_weights(path: str) -> Dict[str, np.ndarray]:
  """model.safetensors, pytorch_model.bin or tf_model.h5, as PyTorch names.

  `path` is a file or a directory holding one (in that order of preference).
  A .bin file is read with `torch.load(weights_only=True)`, which refuses
  pickled code; safetensors and h5 files are read without torch.
  """
  if os.path.isdir(path):
    for name in _WEIGHT_FILES:
      if os.path.exists(os.path.join(path, name)):
        return read_weights(os.path.join(path, name))
    raise FileNotFoundError(f"{path} holds none of {', '.join(_WEIGHT_FILES)}"
                            " (sharded checkpoints are not supported)")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"No weights file at {path}")
  if path.endswith(".safetensors"):
    try:
      return safetensors_numpy.load_file(path)
    except safetensors.SafetensorError as e:
      raise ValueError(f"{path} is not a readable safetensors file (truncated "
                       f"or of another format): {e}") from None
  if path.endswith(".bin"):
    try:
      import torch  # pylint: disable=g-import-not-at-top
    except ImportError:
      raise ImportError(f"Reading {path} needs torch; convert it to "
                        "safetensors or pip install torch") from None
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.numpy() for k, v in state.items()}
  if path.endswith(".h5"):
    return _read_keras_h5(path)
  raise ValueError(f"Unknown weights format: {path} (expected .safetensors, "
                   ".bin or .h5)")


def is_hf_model_dir(path: str) -> bool:
  """Whether `path` is a transformers model directory (config + weights)."""
  return (os.path.isfile(os.path.join(path, "config.json")) and
          any(os.path.isfile(os.path.join(path, name))
              for name in _WEIGHT_FILES))


def hf_vocabulary(path: str):
  """(vocab.txt, do_lower_case) of a transformers model directory, or None.

  do_lower_case comes from tokenizer_config.json (transformers' default,
  True, without one).
  """
  vocab = os.path.join(path, "vocab.txt")
  if not os.path.isfile(vocab):
    return None
  settings = os.path.join(path, "tokenizer_config.json")
  do_lower_case = True
  if os.path.isfile(settings):
    do_lower_case = bool(file_readers.read_json(
        settings, "tokenizer settings").get("do_lower_case", True))
  return vocab, do_lower_case


def read_hf_encoder_config(path: str) -> Optional[EncoderConfig]:
  """The encoder sizes of the transformers model at `path`, or None.

  `path` is a model directory or a weights file beside its config.json.
  ELECTRA's config names the embedding width; BERT's equals the hidden size.
  """
  directory = path if os.path.isdir(path) else os.path.dirname(path)
  config_file = os.path.join(directory, "config.json")
  if not os.path.isfile(config_file):
    return None
  hf = file_readers.read_json(
      config_file, "transformers config", next_step="It should hold the "
      "model's sizes, as the release's config.json does")
  activation = hf.get("hidden_act", "gelu")
  activation = "gelu_tanh" if activation in _TANH_GELUS else activation
  if activation not in _HF_ACTIVATIONS:
    raise ValueError(f"{config_file}: hidden_act {activation!r} has no "
                     f"counterpart here (one of gelu, {', '.join(_TANH_GELUS)}"
                     ", relu)")
  try:
    return EncoderConfig(
        vocab_size=hf["vocab_size"],
        embedding_size=hf.get("embedding_size") or hf["hidden_size"],
        hidden_size=hf["hidden_size"], num_layers=hf["num_hidden_layers"],
        num_attention_heads=hf["num_attention_heads"],
        intermediate_size=hf["intermediate_size"], hidden_act=activation,
        hidden_dropout_prob=hf.get("hidden_dropout_prob", 0.1),
        attention_probs_dropout_prob=hf.get("attention_probs_dropout_prob",
                                            0.1),
        max_position_embeddings=hf["max_position_embeddings"],
        type_vocab_size=hf.get("type_vocab_size", 2),
        layer_norm_eps=hf.get("layer_norm_eps", 1e-12),
        initializer_range=hf.get("initializer_range", 0.02))
  except KeyError as e:
    raise ValueError(f"{config_file} lacks {e.args[0]}") from None


def hf_config(config: EncoderConfig, architecture: str,
              model_type: str = "electra") -> dict:
  """transformers' ElectraConfig (or BertConfig) fields for `config`."""
  sizes = ({} if model_type == "bert" else
           dict(embedding_size=config.embedding_size))
  return dict(
      architectures=[architecture], model_type=model_type,
      vocab_size=config.vocab_size, **sizes,
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
  path = os.path.join(output_dir, "model.safetensors")
  safetensors_numpy.save_file(
      {k: np.ascontiguousarray(v) for k, v in weights.items()}, path,
      metadata={"format": "pt"})
  config_path = os.path.join(output_dir, "config.json")
  with open(config_path, "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2)
  # safetensors writes 0600; give the weights the mode config.json got.
  os.chmod(path, stat.S_IMODE(os.stat(config_path).st_mode))
