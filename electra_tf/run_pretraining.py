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
from electra_tf import common_flags
from electra_tf import configs
from electra_tf import runtime
from electra_tf import trainer
from electra_tf.data import pretraining_dataset
from electra_tf.data import text_examples

_CONFIG = flags.DEFINE_string(
    "config", "tiny", "Preset name (" + ", ".join(configs.preset_names()) +
    ") or path of a YAML experiment file.")
flags.DEFINE_alias("config_file", "config")
_NUM_TRAIN_STEPS = flags.DEFINE_integer(
    "num_train_steps", None, "Overrides train.num_train_steps.")
_TRAIN_TEXT = flags.DEFINE_string(
    "train_text", os.path.join(os.path.dirname(common_flags.VOCAB_FILE.default),
                               "sotu_1940_2021.txt"),
    "Text file: one sentence per line, blank lines between documents. "
    "Ignored when --train_data is given.")
_TRAIN_DATA = flags.DEFINE_string(
    "train_data", None,
    "TFRecord file pattern from build_pretraining_dataset (or BERT-style "
    "records with masked_lm_* features, see --static_masks).")
_STATIC_MASKS = flags.DEFINE_bool(
    "static_masks", False,
    "Read BERT's masked_lm_positions/ids/weights instead of masking in-graph.")
_MODEL_DIR = flags.DEFINE_string(
    "model_dir", None,
    "Checkpoints and TensorBoard summaries go here; a run resumes from the "
    "latest checkpoint in it.")
_CHECKPOINT_EVERY = flags.DEFINE_integer(
    "checkpoint_every", 1000, "Steps between checkpoints (with --model_dir).")
_RESUME = flags.DEFINE_bool(
    "resume", True, "Continue from the latest checkpoint in --model_dir.")
_LOG_EVERY = flags.DEFINE_integer(
    "log_every", 10, "Steps between progress lines and summaries.")
_STEPS_PER_LOOP = flags.DEFINE_integer(
    "steps_per_loop", 100,
    "Most steps run in one compiled loop between returns to Python; loops "
    "also end at each log and checkpoint step.")
for _name in ("checkpoint_every", "log_every", "steps_per_loop"):
  flags.register_validator(_name, lambda value: value > 0,
                           message=f"--{_name} must be a positive integer")
flags.register_validator("num_train_steps",
                         lambda value: value is None or value > 0,
                         message="--num_train_steps must be a positive integer")
_JIT_COMPILE = flags.DEFINE_bool(
    "jit_compile", False, "Compile each replica's forward and backward pass "
    "with XLA.")


def _dataset(config, vocab_file, train_text, train_data, do_lower_case,
             static_masks, input_context):
  """This worker's input: its share of each global batch."""
  train = config.train
  batch_size = input_context.get_per_replica_batch_size(train.batch_size) * (
      input_context.num_replicas_in_sync // input_context.num_input_pipelines)
  if train_data:
    print(f"training on {train_data}", flush=True)
    return pretraining_dataset.make_dataset(
        train_data, batch_size, train.seq_length, train.seed,
        max_predictions=config.model.max_predictions_per_seq,
        static_masks=static_masks, input_context=input_context)
  examples = text_examples.make_examples(train_text, vocab_file,
                                         train.seq_length, do_lower_case)
  print(f"{len(examples['input_word_ids'])} examples of {train.seq_length} "
        f"tokens from {train_text}", flush=True)
  return text_examples.make_dataset(examples, batch_size, train.seed,
                                    input_context)


def _dropout_generators(model):
  """The random generators of the model's dropout layers.

  Keras leaves them out of checkpoints on purpose (for compatibility); we
  save them beside the model, so a resumed run draws the same dropout masks.
  """
  return [layer._random_generator._generator  # pylint: disable=protected-access
          for layer in model.submodules
          if isinstance(layer, tf_keras.layers.Dropout)]


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
             steps_per_loop: int = 100, jit_compile: bool = False,
             strategy: tf.distribute.Strategy = None):
  """Trains to `config.train.num_train_steps`; returns [(step, loss)].

  Each pair is a loop's last step and its mean loss. Reads `train_data`
  (TFRecords) when given, else tokenizes `train_text`. Under `strategy`
  (default: the current one), `config.train.batch_size` is the global batch.
  With `model_dir`, the model, optimizer, input position and the random
  generators of masking, sampling and dropout are checkpointed and restored
  on resume, so a resumed run follows the uninterrupted one exactly. The
  chief writes to `model_dir`; other workers to `model_dir/worker_<i>`, since
  their input positions differ.
  """
  train = config.train
  strategy = strategy or tf.distribute.get_strategy()
  input_context = runtime.worker_input_context(strategy)
  tf_keras.utils.set_random_seed(train.seed)
  # Dropout then draws from tf.random.Generator state, which we checkpoint.
  tf_keras.backend.experimental.enable_tf_random_generator()
  try:
    special = text_examples.read_vocab_special_ids(vocab_file)
    dataset = _dataset(config, vocab_file, train_text, train_data,
                       do_lower_case, static_masks, input_context)
    with strategy.scope():
      model = builders.build_pretrainer(
          config.model, seed=train.seed, mask_token_id=special["[MASK]"],
          special_token_ids=(special["[PAD]"], special["[CLS]"],
                             special["[SEP]"]))
      optimizer = trainer.make_optimizer(train)
  finally:
    tf_keras.backend.experimental.disable_tf_random_generator()
  train_loop = trainer.make_train_loop(
      model, optimizer, trainer.pretraining_loss(config.model),
      train.clip_norm, strategy, input_context.num_input_pipelines,
      jit_compile)
  iterator = iter(dataset)
  checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer,
                                   data=iterator,
                                   dropout=_dropout_generators(model))
  manager = writer = None
  if model_dir:
    checkpoint_dir = model_dir
    if not strategy.extended.should_checkpoint:
      checkpoint_dir = os.path.join(
          model_dir, f"worker_{input_context.input_pipeline_id}")
    manager = tf.train.CheckpointManager(checkpoint, checkpoint_dir,
                                         max_to_keep=3)
    if resume and manager.latest_checkpoint:
      # Slot variables do not exist yet; they are restored on creation.
      checkpoint.restore(
          manager.latest_checkpoint).assert_existing_objects_matched()
      print(f"resumed from {manager.latest_checkpoint} at step "
            f"{int(optimizer.iterations.numpy())}", flush=True)
    if strategy.extended.should_save_summary:
      writer = tf.summary.create_file_writer(
          os.path.join(model_dir, "train"))
  intervals = [steps_per_loop, log_every, train.num_train_steps]
  if manager:
    intervals.append(checkpoint_every)
  losses = []
  step = logged_step = int(optimizer.iterations.numpy())
  logged_time = time.perf_counter()
  while step < train.num_train_steps:
    loop_end = min(step // n * n + n for n in intervals)
    loss, metrics = train_loop(iterator, tf.constant(loop_end - step))
    step = int(optimizer.iterations.numpy())
    losses.append((step, float(loss)))
    if step % log_every == 0 or step == train.num_train_steps:
      now = time.perf_counter()
      rate = (step - logged_step) * train.batch_size / (now - logged_time)
      logged_step, logged_time = step, now
      learning_rate = float(optimizer.learning_rate(step - 1))
      _log(step, float(loss), {k: float(v) for k, v in metrics.items()},
           rate, learning_rate, writer)
    if manager and (step % checkpoint_every == 0 or
                    step == train.num_train_steps):
      manager.save(checkpoint_number=step)
      print(f"saved checkpoint at step {step}", flush=True)
  if losses:
    print(f"{model.count_params():,} parameters; loss {losses[0][1]:.4f} -> "
          f"{losses[-1][1]:.4f}")
  return losses


def main(argv):
  del argv
  strategy = common_flags.configure_runtime()
  config = configs.load_experiment(_CONFIG.value,
                                   common_flags.PARAMS_OVERRIDE.value)
  if _NUM_TRAIN_STEPS.value:
    config.override({"train": {"num_train_steps": _NUM_TRAIN_STEPS.value}})
  pretrain(config, common_flags.VOCAB_FILE.value,
           train_text=_TRAIN_TEXT.value, train_data=_TRAIN_DATA.value,
           do_lower_case=common_flags.DO_LOWER_CASE.value,
           static_masks=_STATIC_MASKS.value, model_dir=_MODEL_DIR.value,
           checkpoint_every=_CHECKPOINT_EVERY.value, resume=_RESUME.value,
           log_every=_LOG_EVERY.value, steps_per_loop=_STEPS_PER_LOOP.value,
           jit_compile=_JIT_COMPILE.value, strategy=strategy)


if __name__ == "__main__":
  app.run(main)
