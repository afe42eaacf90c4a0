"""Converts ELECTRA checkpoints: original TF1, Hugging Face or a run of ours
in; ours, Hugging Face or a TF-Hub export out.

  python -m electra_tf.convert.convert_checkpoint --config=small \
    --tf1_checkpoint=electra_small/model.ckpt-1000000 \
    --output_dir=/tmp/converted --hub_export_path=/tmp/hub/electra_small \
    --vocab_file=data/vocab_uncased.txt
  python -m electra_tf.convert.convert_checkpoint --config=small \
    --checkpoint=/tmp/electra_small --hf_output_dir=/tmp/hf
  python -m electra_tf.convert.convert_checkpoint \
    --hf_discriminator=electra-small-discriminator --output_dir=/tmp/converted

A Hugging Face model's sizes come from its config.json, an original TF1
checkpoint's from its variable shapes (heads: 64 dimensions each, the ELECTRA
code's rule), a run's or conversion's from the experiment.yaml written beside
its checkpoints; `--config`, if also given, must agree.
`--output_dir` gets an experiment.yaml too, so later commands need none.
"""

# First, before TensorFlow loads: its start-up lines are hidden.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

import os

from absl import app
from absl import flags
import tensorflow as tf

from electra_tf import builders
from electra_tf import cli
from electra_tf import configs
from electra_tf import paths
from electra_tf.convert import original_tf1
from electra_tf.convert import pretrainer_weights
from electra_tf.convert import weight_files

_CONFIG = flags.DEFINE_string(
    "config", None, "Preset name or YAML file. Optional: the sizes come from "
    "--hf_discriminator's config.json, --tf1_checkpoint's variable shapes or "
    "the experiment.yaml beside --checkpoint, and are checked against "
    "--config when it is given.")
_PARAMS_OVERRIDE = flags.DEFINE_string("params_override", None,
                                       "Config overrides.")
_TF1_CHECKPOINT = flags.DEFINE_string(
    "tf1_checkpoint", None, "A google-research/electra checkpoint.")
_HF_DISCRIMINATOR = flags.DEFINE_string(
    "hf_discriminator", None,
    "Hugging Face ElectraForPreTraining directory or weights file "
    "(.safetensors, .bin or tf_model.h5).")
_HF_GENERATOR = flags.DEFINE_string(
    "hf_generator", None, "Hugging Face ElectraForMaskedLM directory or file.")
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", None, "A run_pretraining checkpoint or model_dir (ELECTRA "
    "or masked-LM, as --config says).")
_OUTPUT_DIR = flags.DEFINE_string(
    "output_dir", None, "Writes a checkpoint of this package here.")
_HF_OUTPUT_DIR = flags.DEFINE_string(
    "hf_output_dir", None,
    "Writes Hugging Face models here: discriminator/ (ElectraForPreTraining) "
    "and generator/ (ElectraForMaskedLM), or for a masked-LM run encoder/ "
    "(ElectraForMaskedLM).")
_HF_LAYOUT = flags.DEFINE_enum(
    "hf_layout", "electra", ["electra", "bert"],
    "--hf_output_dir's layout: ELECTRA's models (no pooler), or bert: the "
    "network to fine-tune (discriminator/ or a masked-LM run's encoder/) as "
    "a BertModel with its pooler; needs embedding width = hidden size.")
_HUB_EXPORT_PATH = flags.DEFINE_string(
    "hub_export_path", None, "Also exports the discriminator for TF Hub here.")
_VOCAB_FILE = flags.DEFINE_string("vocab_file", None,
                                  "Vocabulary, needed with --hub_export_path.")
_DO_LOWER_CASE = flags.DEFINE_bool("do_lower_case", True, "Uncased vocab.")

_SOURCES = ["tf1_checkpoint", "hf_discriminator", "checkpoint"]
paths.require_literal("tf1_checkpoint", "checkpoint", "output_dir",
                      "hub_export_path")
flags.register_multi_flags_validator(
    _SOURCES, lambda f: sum(bool(f[name]) for name in _SOURCES) == 1,
    message="Give exactly one of --tf1_checkpoint, --hf_discriminator and "
    "--checkpoint")
flags.register_multi_flags_validator(
    ["hub_export_path", "vocab_file"],
    lambda f: not f["hub_export_path"] or bool(f["vocab_file"]),
    message="--hub_export_path needs --vocab_file")


# The sizes a source's config must match for its weights to load.
_SIZES = ("vocab_size", "embedding_size", "hidden_size", "num_layers",
          "num_attention_heads", "intermediate_size", "max_position_embeddings",
          "type_vocab_size", "hidden_act")


def _differences(network, ours, theirs, source, keys=_SIZES):
  return [f"{network} {key}: {source} has {getattr(theirs, key)}, the config "
          f"says {getattr(ours, key)}" for key in keys
          if getattr(ours, key) != getattr(theirs, key)]


def _sized_experiment(discriminator, generator=None, **model_settings):
  """The small preset (and --params_override) with a source's sizes."""
  experiment = configs.load_experiment("small", _PARAMS_OVERRIDE.value)
  model = experiment.model.replace(discriminator=discriminator,
                                   **model_settings)
  if generator:
    model = model.replace(
        generator_hidden_size=generator.hidden_size,
        generator_num_attention_heads=generator.num_attention_heads,
        generator_intermediate_size=generator.intermediate_size,
        generator_num_layers=generator.num_layers)
  # Sequences no longer than the model's positions.
  positions = discriminator.max_position_embeddings
  experiment = experiment.replace(
      model=model,
      train=experiment.train.replace(
          seq_length=min(experiment.train.seq_length, positions)),
      finetune=experiment.finetune.replace(
          max_seq_length=min(experiment.finetune.max_seq_length, positions)))
  experiment.validate()
  return experiment


def _given_config(sources, keys=_SIZES, transformers_head=False):
  """--config, refused when it differs from a source in any of `keys` (and,
  for a transformers generator, whose head always applies the exact GELU,
  in the head's activation).

  `sources`: (network, the source's EncoderConfig or None, source name).
  """
  experiment = configs.load_experiment(_CONFIG.value, _PARAMS_OVERRIDE.value)
  model = experiment.model
  ours = dict(discriminator=model.discriminator, generator=model.generator())
  lines = [line for network, theirs, source in sources if theirs
           for line in _differences(network, ours[network], theirs, source,
                                    keys)]
  has_generator = any(network == "generator" and theirs
                      for network, theirs, _ in sources)
  if (transformers_head and has_generator and
      model.masked_lm_head_act() != "gelu"):
    lines.append("generator head activation: transformers' is gelu, the "
                 f"config's {model.masked_lm_head_act()} (set "
                 "model.generator_head_act=gelu)")
  if lines:
    raise app.UsageError("--config does not fit the checkpoint:\n  " +
                         "\n  ".join(lines))
  return experiment


def _hf_experiment():
  """The experiment for a Hugging Face source: its config.json's sizes,
  checked against --config when given."""
  discriminator = weight_files.read_hf_encoder_config(_HF_DISCRIMINATOR.value)
  generator = (weight_files.read_hf_encoder_config(_HF_GENERATOR.value)
               if _HF_GENERATOR.value else None)
  if _CONFIG.value:
    return _given_config(
        [("discriminator", discriminator, _HF_DISCRIMINATOR.value),
         ("generator", generator, _HF_GENERATOR.value)],
        transformers_head=True)
  if discriminator is None:
    raise app.UsageError(f"{_HF_DISCRIMINATOR.value} has no config.json; "
                         "give --config with the model's sizes")
  # transformers' generator head always applies the exact GELU.
  experiment = _sized_experiment(discriminator, generator,
                                 generator_head_act="gelu")
  if generator:
    lines = _differences("generator", experiment.model.generator(), generator,
                         _HF_GENERATOR.value)
    if lines:  # what the two networks share
      raise app.UsageError("the generator does not share the discriminator's "
                           "embeddings and activation:\n  " +
                           "\n  ".join(lines))
  return experiment


def _tf1_experiment(weights):
  """The experiment for an original TF1 checkpoint, whose `weights` (per
  network) give the sizes (heads by the ELECTRA code's 64-per-head rule);
  checked against --config when given."""
  discriminator, generator = (original_tf1.encoder_config(weights[network])
                              for network in ("discriminator", "generator"))
  if _CONFIG.value:
    shaped = [key for key in _SIZES if key not in ("num_attention_heads",
                                                     "hidden_act")]
    return _given_config(
        [("discriminator", discriminator, _TF1_CHECKPOINT.value),
         ("generator", generator, _TF1_CHECKPOINT.value)], shaped)
  print(f"sizes from {_TF1_CHECKPOINT.value}'s shapes; heads of "
        f"{original_tf1.HEAD_SIZE} (discriminator "
        f"{discriminator.num_attention_heads}, generator "
        f"{generator.num_attention_heads}) as the ELECTRA code makes them; "
        "give --config if the model had others", flush=True)
  return _sized_experiment(discriminator, generator)


def main(argv):
  del argv
  if _HF_DISCRIMINATOR.value:
    experiment = _hf_experiment()
  elif _CHECKPOINT.value:
    experiment = configs.load_run_experiment(
        _CONFIG.value, _PARAMS_OVERRIDE.value, _CHECKPOINT.value)
  else:
    # Read once: for the sizes, then for the weights.
    tf1_weights = {network: original_tf1.read_checkpoint(
        _TF1_CHECKPOINT.value, network)
                   for network in ("discriminator", "generator")}
    experiment = _tf1_experiment(tf1_weights)
  if _CHECKPOINT.value:
    pretrainer = builders.restore_pretrainer(experiment.model,
                                             _CHECKPOINT.value)
    networks = pretrainer.NETWORKS
  else:
    if experiment.model.objective != "electra":
      raise app.UsageError(
          "--tf1_checkpoint and --hf_discriminator hold ELECTRA models; "
          f"--config says model.objective {experiment.model.objective}")
    pretrainer = builders.build_pretrainer(experiment.model)
    networks = ("discriminator",)
    if _TF1_CHECKPOINT.value:
      pretrainer_weights.load_discriminator(pretrainer,
                                            tf1_weights["discriminator"])
      pretrainer_weights.load_generator(pretrainer, tf1_weights["generator"])
      networks += ("generator",)
    else:
      pretrainer_weights.load_from_hf(pretrainer, _HF_DISCRIMINATOR.value,
                                      _HF_GENERATOR.value)
      if _HF_GENERATOR.value:
        networks += ("generator",)
      elif _OUTPUT_DIR.value:
        print("note: without --hf_generator the checkpoint's generator keeps "
              "its random initial weights", flush=True)
  with_mlm = pretrainer.get_network(networks[-1]) is pretrainer.mlm_network
  if _OUTPUT_DIR.value:
    path = tf.train.Checkpoint(model=pretrainer).save(
        os.path.join(_OUTPUT_DIR.value, "ckpt"))
    configs.save_run_config(experiment, _OUTPUT_DIR.value)
    print(f"wrote {path}")
  if _HF_OUTPUT_DIR.value and _HF_LAYOUT.value == "bert":
    pretrainer_weights.save_as_bert(
        pretrainer, networks[0], os.path.join(_HF_OUTPUT_DIR.value,
                                              networks[0]))
    print(f"wrote {_HF_OUTPUT_DIR.value}")
  elif _HF_OUTPUT_DIR.value:
    for network in networks:
      pretrainer_weights.save_as_hf(
          pretrainer, network, os.path.join(_HF_OUTPUT_DIR.value, network))
    print(f"wrote {_HF_OUTPUT_DIR.value}")
  if _HUB_EXPORT_PATH.value:
    from export import export_tfhub_lib  # pylint: disable=g-import-not-at-top
    export_tfhub_lib.export_encoder(
        _HUB_EXPORT_PATH.value, pretrainer, vocab_file=_VOCAB_FILE.value,
        do_lower_case=_DO_LOWER_CASE.value, with_mlm=with_mlm)
    print(f"wrote {_HUB_EXPORT_PATH.value}")


if __name__ == "__main__":
  cli.run(main)
