"""Pretrains ELECTRA on a text file and prints the losses.

Defaults: the tiny preset on the shipped State of the Union text, e.g.

  python -m electra_tf.run_pretraining
  python -m electra_tf.run_pretraining --config=small --train_text=my.txt
"""

import os
import time

from absl import app
from absl import flags
import tensorflow as tf
import tf_keras

from electra_tf import builders
from electra_tf import configs
from electra_tf import trainer
from electra_tf.data import pretraining_dataset
from electra_tf.data import text_examples

_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")

_CONFIG = flags.DEFINE_string(
    "config", "tiny", "Preset name (" + ", ".join(configs.preset_names()) +
    ") or path of a YAML experiment file.")
_PARAMS_OVERRIDE = flags.DEFINE_string(
    "params_override", None,
    "Overrides as 'train.batch_size=8,model.mask_prob=0.2' or YAML.")
_TRAIN_TEXT = flags.DEFINE_string(
    "train_text", os.path.join(_DATA_DIR, "sotu_1940_2021.txt"),
    "Text file: one sentence per line, blank lines between documents. "
    "Ignored when --train_data is given.")
_TRAIN_DATA = flags.DEFINE_string(
    "train_data", None,
    "TFRecord file pattern from build_pretraining_dataset (or BERT-style "
    "records with masked_lm_* features, see --static_masks).")
_STATIC_MASKS = flags.DEFINE_bool(
    "static_masks", False,
    "Read BERT's masked_lm_positions/ids/weights instead of masking in-graph.")
_VOCAB_FILE = flags.DEFINE_string(
    "vocab_file", os.path.join(_DATA_DIR, "vocab_uncased.txt"),
    "WordPiece vocabulary.")
_DO_LOWER_CASE = flags.DEFINE_bool("do_lower_case", True,
                                   "Lower-case text before tokenizing.")
_MODEL_DIR = flags.DEFINE_string(
    "model_dir", None,
    "Checkpoints and TensorBoard summaries go here; a run resumes from the "
    "latest checkpoint in it.")
_CHECKPOINT_EVERY = flags.DEFINE_integer(
    "checkpoint_every", 1000, "Steps between checkpoints (with --model_dir).")
_RESUME = flags.DEFINE_bool(
    "resume", True, "Continue from the latest checkpoint in --model_dir.")
_LOG_EVERY = flags.DEFINE_integer("log_every", 10, "Steps between log lines.")
for _name in ("checkpoint_every", "log_every"):
  flags.register_validator(_name, lambda value: value > 0,
                           message=f"--{_name} must be a positive integer")
_JIT_COMPILE = flags.DEFINE_bool("jit_compile", False,
                                 "Compile the train step with XLA.")


def _dataset(config, vocab_file, train_text, train_data, do_lower_case,
             static_masks):
  train = config.train
  if train_data:
    print(f"training on {train_data}", flush=True)
    return pretraining_dataset.make_dataset(
        train_data, train.batch_size, train.seq_length, train.seed,
        max_predictions=config.model.max_predictions_per_seq,
        static_masks=static_masks)
  examples = text_examples.make_examples(train_text, vocab_file,
                                         train.seq_length, do_lower_case)
  print(f"{len(examples['input_word_ids'])} examples of {train.seq_length} "
        f"tokens from {train_text}", flush=True)
  return text_examples.make_dataset(examples, train.batch_size, train.seed)


def _log(step, loss, metrics, rate, learning_rate, writer):
  print(f"step {step:>6}  loss {loss:.4f}  "
        f"mlm {metrics['mlm_loss']:.4f}  disc {metrics['disc_loss']:.4f}  "
        f"mlm_acc {metrics['mlm_accuracy']:.3f}  "
        f"rtd_acc {metrics['rtd_accuracy']:.3f}  "
        f"rtd_p {metrics['rtd_precision']:.3f}  "
        f"rtd_r {metrics['rtd_recall']:.3f}  "
        f"lr {learning_rate:.2e}  {rate:.1f} examples/s", flush=True)
  if writer:
    with writer.as_default(step=step):
      tf.summary.scalar("loss", loss)
      for name, value in metrics.items():
        tf.summary.scalar(name, value)
      tf.summary.scalar("learning_rate", learning_rate)
      tf.summary.scalar("examples_per_second", rate)


def pretrain(config: configs.ExperimentConfig, vocab_file: str,
             train_text: str = None, train_data: str = None,
             do_lower_case: bool = True, static_masks: bool = False,
             model_dir: str = None, checkpoint_every: int = 1000,
             resume: bool = True, log_every: int = 10,
             jit_compile: bool = False):
  """Trains to `config.train.num_train_steps`; returns this run's step losses.

  Reads `train_data` (TFRecords) when given, else tokenizes `train_text`.
  With `model_dir`, the model, optimizer, input position and the masking and
  sampling generator are checkpointed and restored on resume; without dropout
  a resumed run follows the uninterrupted one exactly.
  """
  train = config.train
  tf_keras.utils.set_random_seed(train.seed)
  # Dropout then draws from tf.random.Generator state that checkpoints keep
  # (restored for the discriminator's layers; not yet for all of them).
  tf_keras.backend.experimental.enable_tf_random_generator()
  try:
    special = text_examples.read_vocab_special_ids(vocab_file)
    dataset = _dataset(config, vocab_file, train_text, train_data,
                       do_lower_case, static_masks)
    model = builders.build_pretrainer(
        config.model, seed=train.seed, mask_token_id=special["[MASK]"],
        special_token_ids=(special["[PAD]"], special["[CLS]"],
                           special["[SEP]"]))
  finally:
    tf_keras.backend.experimental.disable_tf_random_generator()
  optimizer = trainer.make_optimizer(train)
  train_step = trainer.make_train_step(model, optimizer, config.model,
                                       jit_compile)
  iterator = iter(dataset)
  checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer,
                                   data=iterator)
  manager = writer = None
  if model_dir:
    manager = tf.train.CheckpointManager(checkpoint, model_dir, max_to_keep=3)
    if resume and manager.latest_checkpoint:
      # Slot variables do not exist yet; they are restored on creation.
      checkpoint.restore(
          manager.latest_checkpoint).assert_existing_objects_matched()
      print(f"resumed from {manager.latest_checkpoint} at step "
            f"{int(optimizer.iterations)}", flush=True)
    writer = tf.summary.create_file_writer(os.path.join(model_dir, "train"))
  losses = []
  first_step = int(optimizer.iterations)
  start = time.perf_counter()
  while int(optimizer.iterations) < train.num_train_steps:
    loss, metrics = train_step(next(iterator))
    step = int(optimizer.iterations)
    losses.append(float(loss))
    if step % log_every == 0 or step == train.num_train_steps:
      rate = (step - first_step) * train.batch_size / (
          time.perf_counter() - start)
      learning_rate = float(optimizer.learning_rate(step - 1))
      _log(step, float(loss), {k: float(v) for k, v in metrics.items()},
           rate, learning_rate, writer)
    if manager and (step % checkpoint_every == 0 or
                    step == train.num_train_steps):
      manager.save(checkpoint_number=step)
      print(f"saved checkpoint at step {step}", flush=True)
  if losses:
    print(f"{model.count_params():,} parameters; loss {losses[0]:.4f} -> "
          f"{losses[-1]:.4f}")
  return losses


def main(argv):
  del argv
  config = configs.load_experiment(_CONFIG.value, _PARAMS_OVERRIDE.value)
  pretrain(config, _VOCAB_FILE.value, train_text=_TRAIN_TEXT.value,
           train_data=_TRAIN_DATA.value, do_lower_case=_DO_LOWER_CASE.value,
           static_masks=_STATIC_MASKS.value, model_dir=_MODEL_DIR.value,
           checkpoint_every=_CHECKPOINT_EVERY.value, resume=_RESUME.value,
           log_every=_LOG_EVERY.value, jit_compile=_JIT_COMPILE.value)


if __name__ == "__main__":
  app.run(main)
