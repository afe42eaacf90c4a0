"""Fine-tunes an ELECTRA encoder on a GLUE task, SQuAD, tagging or user data.

  python -m electra_tf.run_finetuning --task=rte --data_dir=glue/RTE \
    --config=small --init_checkpoint=/tmp/electra_small --output_dir=/tmp/rte

Trains with the paper's recipe (AdamW, layer-wise learning-rate decay, 10%
warmup, the preset's `finetune:` settings), evaluates on the dev files after
every epoch, and writes `eval_results.json`, TensorBoard summaries and, for
test files, predictions in the GLUE / SQuAD submission formats. It keeps the
model: each epoch's in `checkpoints/` (rerun the command to resume after a
kill) and the best epoch's by the main dev metric in `best/`;
`--nodo_train` scores and predicts with a kept model. `--export_dir` writes
the final model as a SavedModel that serves raw text, `--hub_export_dir` its
encoder as a Hub encoder (for the best epoch's: `--nodo_train
--init_checkpoint=<output_dir>` with the export flags).
"""

# First, before TensorFlow loads: its start-up lines are hidden.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

from absl import app
from absl import flags
import tensorflow as tf
import tensorflow_hub as hub
from official.nlp.tools import tokenization

from electra_tf import builders
from electra_tf import checkpoint_fit
from electra_tf import cli
from electra_tf import common_flags
from electra_tf import configs
from electra_tf import file_readers
from electra_tf import finetuning
from electra_tf import paths
from electra_tf.convert import original_tf1
from electra_tf.convert import pretrainer_weights
from electra_tf.convert import weight_files
from electra_tf.layers import bert_tokenizer
from export import export_tfhub_lib
from export import serving_lib

_TASK = flags.DEFINE_enum("task", None, finetuning.TASKS,
                          "The task to fine-tune on.")
_DATA = flags.DEFINE_string(
    "data_dir", None, "Directory with the task's files under their usual "
    "names (GLUE: train.tsv, dev.tsv, test.tsv; tagging: train.txt, dev.txt, "
    "test.txt; SQuAD: train-v2.0.json, dev-v2.0.json; SWAG: train.csv, "
    "val.csv, test.csv).")
_TRAIN_FILE = flags.DEFINE_string("train_file", None, "Overrides --data_dir.")
_DEV_FILE = flags.DEFINE_string("dev_file", None, "Overrides --data_dir.")
_TEST_FILE = flags.DEFINE_string("test_file", None, "Overrides --data_dir.")
_TEXT_COLUMNS = flags.DEFINE_list(
    "text_columns", None, "custom: one or two text columns of the header; "
    "multiple_choice: the context and optionally the start of the ending.")
_CHOICE_COLUMNS = flags.DEFINE_list(
    "choice_columns", None, "multiple_choice: the columns of the choices.")
_LABEL_COLUMN = flags.DEFINE_string(
    "label_column", "label",
    "custom: the label column; multiple_choice: the right choice's index.")
_LABELS = flags.DEFINE_list(
    "labels", None, "custom: the label values (default: those of train).")
_REGRESSION = flags.DEFINE_bool("regression", False,
                                "custom: the label is a number.")
_CONFIG = flags.DEFINE_string(
    "config", None, "Preset (" + ", ".join(configs.preset_names()) +
    ") or YAML file: the encoder and its `finetune:` recipe. Default: the "
    "experiment.yaml beside --init_checkpoint's checkpoints, else small.")
_INIT_CHECKPOINT = flags.DEFINE_string(
    "init_checkpoint", None, "run_pretraining checkpoint or model_dir whose "
    "discriminator (masked-LM runs: encoder) is fine-tuned; a transformers "
    "ELECTRA or BERT directory or an original TF1 ELECTRA checkpoint, as "
    "released (sizes from config.json or the variable shapes, vocabulary "
    "from its vocab.txt unless --vocab_file is given); or a model kept "
    "by run_finetuning (its --output_dir, best/ or checkpoints/) to go on "
    "from or, with --nodo_train, to evaluate (give --hub_module too if it "
    "was fine-tuned from one).")
_HUB_MODULE = flags.DEFINE_string(
    "hub_module", None, "A Hub encoder SavedModel (e.g. from export_tfhub) to "
    "fine-tune instead; its vocab_file and do_lower_case are used. A released "
    "transformers or TF1 checkpoint given here is fine-tuned as "
    "--init_checkpoint.")
_OUTPUT_DIR = flags.DEFINE_string(
    "output_dir", None, "Results, summaries, predictions and kept models; "
    "a run resumes from the checkpoints it finds here.")
_DO_TRAIN = flags.DEFINE_bool(
    "do_train", True, "Train; --nodo_train only evaluates and predicts with "
    "the kept model of --init_checkpoint or else --output_dir's best.")
_EXPORT_DIR = flags.DEFINE_string(
    "export_dir", None, "Write the model here as a SavedModel whose "
    "serving_default takes raw text (see export/serving_lib.py).")
_HUB_EXPORT_DIR = flags.DEFINE_string(
    "hub_export_dir", None, "Write the fine-tuned encoder here as a Hub "
    "encoder, reusable with hub.KerasLayer.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False,
                               "Replace existing export directories.")
flags.mark_flags_as_required(["task", "output_dir"])
paths.require_literal("init_checkpoint", "hub_module", "output_dir",
                      "export_dir", "hub_export_dir")


def _encoder_sources():
  """(init_checkpoint, hub_module): a released checkpoint given as
  --hub_module moves to init_checkpoint; anything else there must be a
  SavedModel."""
  init_checkpoint, hub_module = _INIT_CHECKPOINT.value, _HUB_MODULE.value
  if (not hub_module or "://" in hub_module or
      tf.saved_model.contains_saved_model(hub_module)):
    return init_checkpoint, hub_module
  if not (weight_files.is_hf_model_dir(hub_module) or
          original_tf1.is_checkpoint(hub_module)):
    raise app.UsageError(
        f"--hub_module {hub_module} is not a SavedModel (no saved_model.pb), "
        "a transformers directory or a TF1 checkpoint")
  if init_checkpoint:
    raise app.UsageError(f"--hub_module {hub_module} is a released "
                         "checkpoint; give it or --init_checkpoint, not both")
  print(f"--hub_module {hub_module} is a released checkpoint, not a "
        "SavedModel: fine-tuning it as --init_checkpoint", flush=True)
  return hub_module, None


def main(argv):
  del argv
  strategy = common_flags.configure_runtime()  # before TensorFlow runs ops
  init_checkpoint, hub_module = _encoder_sources()
  experiment = configs.load_run_experiment(
      _CONFIG.value, common_flags.PARAMS_OVERRIDE.value,
      None if hub_module else init_checkpoint, default="small")
  kept = (finetuning.kept_checkpoint(init_checkpoint)
          if init_checkpoint else None)
  released = (pretrainer_weights.released_encoder(init_checkpoint)
              if init_checkpoint and not kept else None)
  if released:
    # Its own sizes; the recipe (finetune:) still comes from --config.
    experiment = experiment.replace(model=experiment.model.replace(
        discriminator=released.config))
  for fine_tuned in (kept, finetuning.kept_checkpoint(_OUTPUT_DIR.value)):
    if fine_tuned and not hub_module:
      checkpoint_fit.check(experiment.model, fine_tuned)
  if init_checkpoint and hub_module and not kept:
    raise app.UsageError("give a pretraining --init_checkpoint or "
                         "--hub_module, not both")
  vocab_file = common_flags.VOCAB_FILE.value
  do_lower_case = common_flags.DO_LOWER_CASE.value
  if released and released.vocab_file and not flags.FLAGS[
      common_flags.VOCAB_FILE.name].present:
    vocab_file = released.vocab_file
    if released.do_lower_case is not None:
      do_lower_case = released.do_lower_case
  if hub_module:
    try:
      module = hub.load(hub_module)
    except (OSError, tf.errors.OpError) as e:
      raise file_readers.DamagedFileError(
          f"--hub_module {hub_module} does not load "
          f"({file_readers.first_line(e)}): export it again. Nothing was "
          "written.") from None
    vocab_file = module.vocab_file.asset_path.numpy().decode()
    do_lower_case = bool(module.do_lower_case.numpy())
  vocab_size = len(bert_tokenizer.read_vocab(vocab_file))  # names a bad file
  if not hub_module and vocab_size > experiment.model.discriminator.vocab_size:
    raise ValueError(
        f"vocabulary {vocab_file} has {vocab_size} tokens, more than the "
        f"model's {experiment.model.discriminator.vocab_size} embeddings: "
        "give the vocabulary the model was pretrained with")
  tokenizer = tokenization.FullTokenizer(vocab_file, do_lower_case)
  paths.check_writable(_OUTPUT_DIR.value)  # before the tokenizing
  files = finetuning.task_files(_TASK.value, _DATA.value, _TRAIN_FILE.value,
                                _DEV_FILE.value, _TEST_FILE.value)
  task = finetuning.make_task(
      _TASK.value, files, tokenizer, experiment.finetune, _TEXT_COLUMNS.value,
      _LABEL_COLUMN.value, _LABELS.value, _REGRESSION.value,
      _CHOICE_COLUMNS.value)

  def make_network():
    if hub_module:
      return hub.KerasLayer(hub_module, trainable=True)
    if released:
      encoder = builders.build_encoder(experiment.model.discriminator,
                                       name="discriminator")
      released.load_into(encoder)
      print(f"encoder from the release at {init_checkpoint}, "
            f"vocabulary {vocab_file}", flush=True)
      return encoder
    if init_checkpoint and not kept:
      # ELECTRA's discriminator, or a masked-LM run's encoder.
      return builders.restore_pretrainer(
          experiment.model, init_checkpoint).get_network()
    if _DO_TRAIN.value and not kept:
      print("warning: no --init_checkpoint or --hub_module; the encoder "
            "starts from random weights", flush=True)
    return builders.build_encoder(experiment.model.discriminator,
                                  name="discriminator")

  export_tfhub_lib.check_targets(_EXPORT_DIR.value, _HUB_EXPORT_DIR.value,
                                 overwrite=_OVERWRITE.value)

  def export(model):
    if _EXPORT_DIR.value:
      serving_lib.export_serving(
          _EXPORT_DIR.value, task, model, vocab_file=vocab_file,
          do_lower_case=do_lower_case, overwrite=_OVERWRITE.value)
      print(f"wrote {_EXPORT_DIR.value}", flush=True)
    if _HUB_EXPORT_DIR.value:
      export_tfhub_lib.export_fine_tuned_encoder(
          _HUB_EXPORT_DIR.value, model.network, vocab_file=vocab_file,
          do_lower_case=do_lower_case, overwrite=_OVERWRITE.value)
      print(f"wrote {_HUB_EXPORT_DIR.value}", flush=True)

  finetuning.finetune(task, make_network, experiment.finetune,
                      _OUTPUT_DIR.value, strategy, do_train=_DO_TRAIN.value,
                      init_checkpoint=kept, export=export,
                      log_every=common_flags.LOG_EVERY.value)


if __name__ == "__main__":
  cli.run(main)
