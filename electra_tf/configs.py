"""Configuration dataclasses for ELECTRA models and experiments.

Built on Model Garden's `hyperparams.Config`, so presets load from YAML and
accept `--params_override` strings exactly as in tensorflow/models.
"""

import dataclasses
import difflib
import math
import os
from typing import Dict, Optional

import tensorflow as tf
import yaml
from official.modeling.hyperparams import base_config
from official.modeling.hyperparams import params_dict

from electra_tf import file_readers

PRESETS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs")

ACTIVATIONS = ("gelu", "gelu_tanh", "relu")
# Replaced-token detection, or BERT's masked-LM over the same encoder.
OBJECTIVES = ("electra", "mlm")


def _require(condition, message):
  if not condition:
    raise ValueError(message)


def _require_positive_ints(config, names):
  for name in names:
    value = getattr(config, name)
    _require(isinstance(value, int) and value > 0,
             f"{type(config).__name__}.{name} must be a positive integer, "
             f"got {value!r}")


@dataclasses.dataclass
class EncoderConfig(base_config.Config):
  """A BERT-like encoder whose embeddings may be narrower than its layers."""
  vocab_size: int = 30522
  embedding_size: int = 128
  hidden_size: int = 256
  num_layers: int = 12
  num_attention_heads: int = 4
  intermediate_size: int = 1024
  # "gelu" is the exact erf GELU of BERT/ELECTRA; "gelu_tanh" the approximation.
  hidden_act: str = "gelu"
  hidden_dropout_prob: float = 0.1
  attention_probs_dropout_prob: float = 0.1
  max_position_embeddings: int = 512
  type_vocab_size: int = 2
  layer_norm_eps: float = 1e-12
  initializer_range: float = 0.02

  def validate(self):
    _require_positive_ints(self, (
        "vocab_size", "embedding_size", "hidden_size", "num_layers",
        "num_attention_heads", "intermediate_size", "max_position_embeddings",
        "type_vocab_size"))
    _require(self.hidden_size % self.num_attention_heads == 0,
             f"EncoderConfig.hidden_size ({self.hidden_size}) must be divisible "
             f"by num_attention_heads ({self.num_attention_heads})")
    _require(self.hidden_act in ACTIVATIONS,
             f"EncoderConfig.hidden_act must be one of {ACTIVATIONS}, "
             f"got {self.hidden_act!r}")
    for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
      value = getattr(self, name)
      _require(0.0 <= value < 1.0,
               f"EncoderConfig.{name} must be in [0, 1), got {value!r}")
    _require(self.layer_norm_eps > 0 and self.initializer_range > 0,
             "EncoderConfig.layer_norm_eps and initializer_range must be > 0, "
             f"got {self.layer_norm_eps!r} and {self.initializer_range!r}")


@dataclasses.dataclass
class PretrainerConfig(base_config.Config):
  """The generator/discriminator pair and the replaced-token-detection task.

  With `objective: mlm` the discriminator's encoder is trained alone with the
  generator's masked-LM head and masking (BERT); the generator and
  discriminator settings below then do not apply.
  """
  objective: str = "electra"
  discriminator: EncoderConfig = dataclasses.field(default_factory=EncoderConfig)
  # Generator width as a fraction of the discriminator's (paper: 1/4 for small
  # and large, 1/3 for base; small++ uses 1.0). Depth and embeddings are shared.
  generator_size: float = 0.25
  # Sizes of the generator's own, each overriding generator_size's when > 0
  # (e.g. 64 hidden / 2 heads / 128 intermediate), and its depth.
  generator_hidden_size: int = 0
  generator_num_attention_heads: int = 0
  generator_intermediate_size: int = 0
  generator_num_layers: int = 0
  # Activation of the masked-LM (generator) head; empty: the encoder's
  # hidden_act, as in the original ELECTRA code. transformers' ELECTRA always
  # uses the exact "gelu" there, so its weights are read with "gelu".
  generator_head_act: str = ""
  mask_prob: float = 0.15
  # Share of masked positions replaced by [MASK]; the rest keep their token.
  mask_token_rate: float = 0.85
  max_predictions_per_seq: int = 19
  mlm_weight: float = 1.0
  disc_weight: float = 50.0
  # Sampling temperature of the generator; with temperature_decay_steps > 0
  # it falls linearly from `temperature` to 1 over that many steps (fakes
  # easier early on, as Fast-ELECTRA controls them).
  temperature: float = 1.0
  temperature_decay_steps: int = 0
  disallow_correct: bool = False
  # The generator reads the discriminator's embeddings (word, position,
  # type, their LayerNorm) as in the original; false gives it its own.
  share_embeddings: bool = True
  # Sanity check (the original's uniform_generator): replacements drawn
  # uniformly from the vocabulary; the generator is not trained.
  uniform_generator: bool = False

  def masked_lm_head_act(self) -> str:
    return self.generator_head_act or self.discriminator.hidden_act

  def generator(self) -> EncoderConfig:
    """The generator encoder: the discriminator scaled by `generator_size`,
    except for the sizes given as `generator_*`."""
    disc, scale = self.discriminator, self.generator_size
    return disc.replace(
        hidden_size=self.generator_hidden_size or int(
            round(disc.hidden_size * scale)),
        num_attention_heads=self.generator_num_attention_heads or max(
            1, int(round(disc.num_attention_heads * scale))),
        intermediate_size=self.generator_intermediate_size or int(
            round(disc.intermediate_size * scale)),
        num_layers=self.generator_num_layers or disc.num_layers)

  def validate(self):
    _require(self.objective in OBJECTIVES,
             f"model.objective must be one of {OBJECTIVES}, "
             f"got {self.objective!r}")
    self.discriminator.validate()
    _require(0.0 < self.generator_size <= 1.0,
             f"generator_size must be in (0, 1], got {self.generator_size!r}")
    _require(self.generator_head_act in ("",) + ACTIVATIONS,
             f"model.generator_head_act must be empty or one of "
             f"{ACTIVATIONS}, got {self.generator_head_act!r}")
    for name in ("generator_hidden_size", "generator_num_attention_heads",
                 "generator_intermediate_size", "generator_num_layers"):
      value = getattr(self, name)
      _require(isinstance(value, int) and value >= 0,
               f"model.{name} must be an integer >= 0 (0: from "
               f"generator_size), got {value!r}")
    self.generator().validate()
    _require(0.0 < self.mask_prob < 1.0,
             f"mask_prob must be in (0, 1), got {self.mask_prob!r}")
    _require(0.0 <= self.mask_token_rate <= 1.0,
             f"mask_token_rate must be in [0, 1], got {self.mask_token_rate!r}")
    _require(self.max_predictions_per_seq > 0,
             "model.max_predictions_per_seq must be > 0, got "
             f"{self.max_predictions_per_seq!r}")
    _require(self.temperature > 0,
             f"model.temperature must be > 0, got {self.temperature!r}")
    _require(isinstance(self.temperature_decay_steps, int) and
             self.temperature_decay_steps >= 0,
             "model.temperature_decay_steps must be an integer >= 0, got "
             f"{self.temperature_decay_steps!r}")
    _require(self.mlm_weight >= 0 and self.disc_weight >= 0,
             "model.mlm_weight and disc_weight must be >= 0, got "
             f"{self.mlm_weight!r} and {self.disc_weight!r}")


@dataclasses.dataclass
class TrainConfig(base_config.Config):
  """Optimisation settings (original ELECTRA defaults for ELECTRA-Small)."""
  learning_rate: float = 5e-4
  batch_size: int = 128
  seq_length: int = 128
  num_train_steps: int = 1_000_000
  num_warmup_steps: int = 10_000
  weight_decay: float = 0.01
  clip_norm: float = 1.0
  seed: int = 42
  # ELECTRA: the generator's learning rate (its encoder and MLM head, not the
  # shared embeddings) as a factor of learning_rate. Under Adam the loss
  # weights barely set the two networks' relative pace; this does.
  generator_learning_rate_factor: float = 1.0

  def validate(self):
    _require_positive_ints(self, ("batch_size", "seq_length",
                                  "num_train_steps"))
    _require(self.generator_learning_rate_factor > 0,
             "train.generator_learning_rate_factor must be > 0, got "
             f"{self.generator_learning_rate_factor!r}")
    _require(self.learning_rate > 0,
             f"train.learning_rate must be > 0, got {self.learning_rate!r}")
    _require(self.num_warmup_steps >= 0, "train.num_warmup_steps must be "
             f">= 0, got {self.num_warmup_steps!r}")
    _require(self.weight_decay >= 0,
             f"train.weight_decay must be >= 0, got {self.weight_decay!r}")
    _require(self.clip_norm > 0,
             f"train.clip_norm must be > 0, got {self.clip_norm!r}")


HEAD_TYPES = ("original", "hf")


@dataclasses.dataclass
class FinetuneConfig(base_config.Config):
  """The fine-tuning recipe of the ELECTRA paper (defaults: ELECTRA-Small).

  Learning rates 3e-4 small, 1e-4 base, 5e-5 large; layer-wise decay 0.8,
  0.9 for large; batch 32; 10% warmup; epochs per task (see the tasks).
  """
  learning_rate: float = 3e-4
  layerwise_lr_decay: float = 0.8
  # The factors of google-research/electra's code, one decay step lower.
  original_layer_depths: bool = False
  batch_size: int = 32
  # 0: the task's own number (3 for most GLUE tasks, 10 for RTE and STS-B).
  num_train_epochs: int = 0
  warmup_proportion: float = 0.1
  weight_decay: float = 0.01
  clip_norm: float = 1.0
  max_seq_length: int = 128
  head_type: str = "original"
  dropout_rate: float = 0.1
  seed: int = 42
  # Question answering (SQuAD).
  doc_stride: int = 128
  max_query_length: int = 64
  n_best_size: int = 20
  max_answer_length: int = 30
  # SQuAD 2.0: the original's answerable classifier and its loss weight; the
  # threshold applies to its no-answer logit, or without it to BERT's score
  # difference.
  answerable_classifier: bool = True
  answerable_weight: float = 0.5
  null_score_diff_threshold: float = 0.0

  def validate(self):
    _require_positive_ints(self, (
        "batch_size", "max_seq_length", "doc_stride", "max_query_length",
        "n_best_size", "max_answer_length"))
    _require(self.num_train_epochs >= 0, "finetune.num_train_epochs must be "
             f">= 0 (0: the task's own), got {self.num_train_epochs!r}")
    _require(self.learning_rate > 0,
             f"finetune.learning_rate must be > 0, got {self.learning_rate!r}")
    _require(self.answerable_weight >= 0, "finetune.answerable_weight must "
             f"be >= 0, got {self.answerable_weight!r}")
    _require(0.0 < self.layerwise_lr_decay <= 1.0, "finetune.layerwise_lr_"
             f"decay must be in (0, 1], got {self.layerwise_lr_decay!r}")
    _require(0.0 <= self.warmup_proportion < 1.0, "finetune.warmup_"
             f"proportion must be in [0, 1), got {self.warmup_proportion!r}")
    _require(0.0 <= self.dropout_rate < 1.0, "finetune.dropout_rate must be "
             f"in [0, 1), got {self.dropout_rate!r}")
    _require(self.weight_decay >= 0 and self.clip_norm > 0,
             "finetune.weight_decay must be >= 0 and clip_norm > 0, got "
             f"{self.weight_decay!r} and {self.clip_norm!r}")
    _require(self.head_type in HEAD_TYPES,
             f"head_type must be one of {HEAD_TYPES}, got {self.head_type!r}")


@dataclasses.dataclass
class ExperimentConfig(base_config.Config):
  model: PretrainerConfig = dataclasses.field(default_factory=PretrainerConfig)
  train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
  finetune: FinetuneConfig = dataclasses.field(default_factory=FinetuneConfig)

  def validate(self):
    self.model.validate()
    self.train.validate()
    self.finetune.validate()
    _require(self.finetune.max_seq_length <=
             self.model.discriminator.max_position_embeddings,
             f"finetune.max_seq_length ({self.finetune.max_seq_length}) "
             "exceeds max_position_embeddings")
    _require(self.train.seq_length <=
             self.model.discriminator.max_position_embeddings,
             f"train.seq_length ({self.train.seq_length}) exceeds "
             "max_position_embeddings "
             f"({self.model.discriminator.max_position_embeddings})")


def preset_names():
  return sorted(f[:-len(".yaml")] for f in os.listdir(PRESETS_DIR)
                if f.endswith(".yaml"))


# Written next to the checkpoints of a run or a conversion, so that later
# commands (export, conversion, fine-tuning) need no --config.
RUN_CONFIG_FILE = "experiment.yaml"


def save_run_config(config: ExperimentConfig, directory: str):
  """Writes `config` to `directory`/experiment.yaml (whole or not at all)."""
  path = os.path.join(directory, RUN_CONFIG_FILE)
  params_dict.save_params_dict_to_yaml(config, path + ".incomplete")
  tf.io.gfile.rename(path + ".incomplete", path, overwrite=True)


def run_config(checkpoint_path: str) -> Optional[str]:
  """The experiment.yaml beside a checkpoint (prefix or directory), if any."""
  directory = (checkpoint_path if tf.io.gfile.isdir(checkpoint_path) else
               os.path.dirname(checkpoint_path))
  path = os.path.join(directory, RUN_CONFIG_FILE)
  return path if tf.io.gfile.exists(path) else None


def load_experiment(name_or_path: str,
                    params_override: Optional[str] = None) -> ExperimentConfig:
  """Loads a preset by name ("small", "base", ...) or a YAML file by path.

  Unknown keys in the file or in `params_override` raise a KeyError naming them.
  """
  path = name_or_path
  if not os.path.exists(path):
    path = os.path.join(PRESETS_DIR, f"{name_or_path}.yaml")
    if not os.path.exists(path):
      raise FileNotFoundError(
          f"No config file {name_or_path!r} and no preset of that name; "
          f"presets: {', '.join(preset_names())}")
  config = ExperimentConfig()
  known = {key for key, _ in _dotted_items(config.as_dict())}
  _check_keys(file_readers.read_yaml(path, "config") or {}, known, path)
  config = params_dict.override_params_dict(config, path, is_strict=True)
  if params_override:
    _check_keys(_overrides(params_override), known, "--params_override")
    config = params_dict.override_params_dict(
        config, params_override, is_strict=True)
  source = path + (" with --params_override" if params_override else "")
  _check_types(config, "", source)
  try:
    config.validate()
  except ValueError as e:
    raise ValueError(f"{source}: {e}") from None
  return config


def changed_settings(old: ExperimentConfig, new: ExperimentConfig,
                     sections=("model", "train")) -> Dict[str, tuple]:
  """{dotted key: (old value, new value)} for each setting of `sections`
  that differs."""
  old, new = old.as_dict(), new.as_dict()
  before = dict(_dotted_items({s: old[s] for s in sections}))
  after = dict(_dotted_items({s: new[s] for s in sections}))
  return {key: (value, after[key]) for key, value in before.items()
          if after[key] != value}


def _dotted_items(tree, prefix=""):
  """(dotted key, value) for each leaf of a nested dict."""
  for key, value in tree.items():
    if isinstance(value, dict) and value:
      yield from _dotted_items(value, f"{prefix}{key}.")
    else:
      yield f"{prefix}{key}", value


def _overrides(params_override: str) -> dict:
  """A --params_override string ("a.b=1,c=2", YAML/JSON or a file) as a dict."""
  if tf.io.gfile.exists(params_override):
    return file_readers.read_yaml(params_override,
                                  "--params_override file") or {}
  if "=" in params_override and not params_override.lstrip().startswith("{"):
    params_override = params_dict.nested_csv_str_to_json_str(params_override)
  try:
    return yaml.safe_load(params_override) or {}
  except yaml.YAMLError as e:
    raise ValueError(f"--params_override is not 'key=value,...' or YAML: "
                     f"{getattr(e, 'problem', None) or e}") from None


def _check_keys(overrides: dict, known, source: str):
  """Refuses an unknown key, naming the source and the closest known key."""
  if not isinstance(overrides, dict):
    raise ValueError(f"{source} is not a mapping of config keys")
  for key, _ in _dotted_items(overrides):
    if key not in known and not any(k.startswith(key + ".") for k in known):
      close = difflib.get_close_matches(key, sorted(known), n=1)
      hint = f"; did you mean {close[0]}?" if close else ""
      raise KeyError(f"{source}: unknown config key {key}{hint}")


_KINDS = {bool: ("true or false", lambda v: isinstance(v, bool)),
          int: ("an integer",
                lambda v: isinstance(v, int) and not isinstance(v, bool)),
          float: ("a number", lambda v: isinstance(v, (int, float)) and
                  not isinstance(v, bool) and math.isfinite(v)),
          str: ("a string", lambda v: isinstance(v, str))}


def _check_types(config, prefix: str, source: str):
  """Every field holds its declared kind (YAML and overrides are untyped)."""
  for field in dataclasses.fields(config):
    value = getattr(config, field.name)
    name = prefix + field.name
    if isinstance(value, base_config.Config):
      _check_types(value, name + ".", source)
    elif field.type in _KINDS and not _KINDS[field.type][1](value):
      raise ValueError(f"{source}: {name} must be {_KINDS[field.type][0]}, "
                       f"got {value!r}")


def load_run_experiment(name_or_path: Optional[str],
                        params_override: Optional[str],
                        checkpoint_path: Optional[str],
                        default: Optional[str] = None) -> ExperimentConfig:
  """`name_or_path` (--config) if given, else the experiment.yaml the run or
  conversion wrote beside `checkpoint_path`, else `default`."""
  if not name_or_path and checkpoint_path:
    name_or_path = run_config(checkpoint_path)
  name_or_path = name_or_path or default
  if not name_or_path:
    raise ValueError(f"give --config: no {RUN_CONFIG_FILE} beside "
                     f"{checkpoint_path} tells the model's sizes")
  return load_experiment(name_or_path, params_override)
