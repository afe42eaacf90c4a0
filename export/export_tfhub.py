"""Exports a run_pretraining checkpoint as TF-Hub-style SavedModels.

  python -m export.export_tfhub --config=small --checkpoint=/tmp/run \
    --export_path=/tmp/electra_small --preprocessing_export_path=/tmp/preprocess

With only --preprocessing_export_path (and --vocab_file), it writes the
preprocessing model alone. Every target is checked before anything is written.
"""

# First, before TensorFlow loads: its start-up lines are hidden.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

from absl import app
from absl import flags

from electra_tf import builders
from electra_tf import cli
from electra_tf import configs
from electra_tf import models
from electra_tf import paths
from export import export_tfhub_lib

_CONFIG = flags.DEFINE_string(
    "config", None, "Preset name or YAML file the model was trained with; "
    "default: the experiment.yaml the run wrote beside its checkpoints.")
_PARAMS_OVERRIDE = flags.DEFINE_string("params_override", None,
                                       "Config overrides, as in run_pretraining.")
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", None, "Checkpoint path or model_dir of run_pretraining.")
_EXPORT_PATH = flags.DEFINE_string(
    "export_path", None, "Directory to write the encoder to (needs "
    "--checkpoint).")
_NETWORK = flags.DEFINE_enum(
    "network", None, list(models.ElectraPretrainer.NETWORKS +
                          models.MaskedLMPretrainer.NETWORKS),
    "Which network becomes the encoder; default: the one to fine-tune "
    "(ELECTRA's discriminator, a masked-LM run's encoder).")
_WITH_MLM = flags.DEFINE_bool(
    "with_mlm", False, "Add the masked LM (ELECTRA's generator, or a "
    "masked-LM run's own head) as the .mlm sub-model.")
_LEGACY = flags.DEFINE_bool(
    "legacy", False, "List inputs [input_word_ids, input_mask, segment_ids] "
    "and outputs [pooled_output, sequence_output], as electra_large/1.")
_VOCAB_FILE = flags.DEFINE_string("vocab_file", None, "WordPiece vocabulary.")
_DO_LOWER_CASE = flags.DEFINE_bool("do_lower_case", True,
                                   "Whether the vocabulary is uncased.")
_PREPROCESSING_PATH = flags.DEFINE_string(
    "preprocessing_export_path", None,
    "If set, also write the preprocessing SavedModel here.")
_SEQ_LENGTH = flags.DEFINE_integer(
    "default_seq_length", 128, "Sequence length of the preprocessing model.",
    lower_bound=3)
_OVERWRITE = flags.DEFINE_bool("overwrite", False,
                               "Replace existing export directories.")

flags.mark_flags_as_required(["vocab_file"])
paths.require_literal("checkpoint", "export_path",
                      "preprocessing_export_path")


def main(argv):
  del argv
  if not (_EXPORT_PATH.value or _PREPROCESSING_PATH.value):
    raise app.UsageError("give --export_path (with --checkpoint) and/or "
                         "--preprocessing_export_path")
  if _EXPORT_PATH.value and not _CHECKPOINT.value:
    raise app.UsageError("--export_path needs --checkpoint")
  export_tfhub_lib.check_targets(_EXPORT_PATH.value, _PREPROCESSING_PATH.value,
                                 overwrite=_OVERWRITE.value)
  if _EXPORT_PATH.value:
    experiment = configs.load_run_experiment(
        _CONFIG.value, _PARAMS_OVERRIDE.value, _CHECKPOINT.value)
    pretrainer = builders.restore_pretrainer(experiment.model,
                                             _CHECKPOINT.value)
    export_tfhub_lib.export_encoder(
        _EXPORT_PATH.value, pretrainer, vocab_file=_VOCAB_FILE.value,
        do_lower_case=_DO_LOWER_CASE.value, network=_NETWORK.value,
        with_mlm=_WITH_MLM.value, legacy=_LEGACY.value,
        overwrite=_OVERWRITE.value)
    print(f"wrote {_EXPORT_PATH.value}")
  if _PREPROCESSING_PATH.value:
    export_tfhub_lib.export_preprocessing(
        _PREPROCESSING_PATH.value, vocab_file=_VOCAB_FILE.value,
        do_lower_case=_DO_LOWER_CASE.value,
        default_seq_length=_SEQ_LENGTH.value, overwrite=_OVERWRITE.value)
    print(f"wrote {_PREPROCESSING_PATH.value}")


if __name__ == "__main__":
  cli.run(main)
