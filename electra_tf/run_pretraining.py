"""Pretrains ELECTRA (or, with model.objective mlm, BERT's masked LM) on a
text file, printing the losses and held-out metrics.

Defaults: the tiny preset on the shipped State of the Union text, e.g.

  python -m electra_tf.run_pretraining
  python -m electra_tf.run_pretraining --config=small --train_text=my.txt
"""

# First, before TensorFlow loads: its start-up lines are hidden.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

import contextlib
import json
import os
import time

from absl import flags
import tensorflow as tf
import tf_keras

from electra_tf import builders
from electra_tf import checkpoint_fit
from electra_tf import cli
from electra_tf import common_flags
from electra_tf import configs
from electra_tf import evaluation
from electra_tf import flops
from electra_tf import paths
from electra_tf import progress
from electra_tf import run_lock
from electra_tf import runtime
from electra_tf import trainer
from electra_tf.data import pretraining_dataset
from electra_tf.data import text_examples
from electra_tf.layers import bert_tokenizer

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
    "resume", True, "Continue from the latest checkpoint in --model_dir; "
    "--noresume on a directory with checkpoints needs --overwrite.")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "With --noresume: delete everything an earlier run "
    "left in --model_dir (checkpoints, summaries, results) and start afresh.")
_STEPS_PER_LOOP = flags.DEFINE_integer(
    "steps_per_loop", 100,
    "Most steps run in one compiled loop between returns to Python; loops "
    "also end at each log and checkpoint step.")
_JIT_COMPILE = flags.DEFINE_bool(
    "jit_compile", False, "Compile each replica's forward and backward pass "
    "with XLA.")
_EVAL = flags.DEFINE_bool(
    "eval", True, "Evaluate on held-out text every --eval_every steps and at "
    "the end. Without --eval_text or --eval_data, every 20th document of "
    "--train_text is held out (not trained on); --noeval trains on all.")
_EVAL_TEXT = flags.DEFINE_string(
    "eval_text", None, "Held-out text file, in --train_text's format.")
_EVAL_DATA = flags.DEFINE_string(
    "eval_data", None, "Held-out TFRecord file pattern, in --train_data's "
    "format; read into memory.")
_EVAL_EVERY = flags.DEFINE_integer(
    "eval_every", 1000, "Steps between held-out evaluations.")
_EVAL_SEED = flags.DEFINE_integer(
    "eval_seed", 0, "Fixes the held-out masks (and ELECTRA's replacements), "
    "so that runs with one seed are comparable.")
_PEAK_TFLOPS = flags.DEFINE_float(
    "peak_tflops", 0.0, "The devices' peak TFLOP/s at the run's precision "
    "(all replicas together, e.g. 989 for one H100 SXM in bf16); the "
    "progress line then shows the model FLOPs utilisation (MFU).",
    lower_bound=0.0)
for _name in ("checkpoint_every", "steps_per_loop", "eval_every"):
  flags.register_validator(_name, lambda value: value > 0,
                           message=f"--{_name} must be a positive integer")
paths.require_literal("model_dir")
flags.register_validator("num_train_steps",
                         lambda value: value is None or value > 0,
                         message="--num_train_steps must be a positive integer")


def _training_dataset(config, vocab_file, train_documents, train_data,
                      do_lower_case, static_masks, input_context):
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
  examples = text_examples.examples_from_documents(
      train_documents, vocab_file, train.seq_length, do_lower_case)
  print(f"training on {len(examples['input_word_ids'])} examples of "
        f"{train.seq_length} tokens", flush=True)
  return text_examples.make_dataset(examples, batch_size, train.seed,
                                    input_context)


def _held_out(config, vocab_file, train_text, train_documents, train_data,
              eval_text, eval_data, do_lower_case, static_masks):
  """(training documents, held-out examples or None).

  The training documents are `train_documents` less any held out of them.
  """
  seq_length = config.train.seq_length
  if eval_text and eval_data:
    raise ValueError("Give --eval_text or --eval_data, not both")
  if eval_data:
    if train_data and set(paths.matching_files(eval_data)) & set(
        paths.matching_files(train_data)):
      raise ValueError(f"--eval_data {eval_data} matches files of "
                       f"--train_data {train_data}")
    examples = pretraining_dataset.read_examples(
        eval_data, seq_length, config.model.max_predictions_per_seq,
        static_masks)
    source = eval_data
  else:
    if eval_text:
      held_out = text_examples.read_documents(eval_text)
      if train_documents:
        text_examples.check_held_out(held_out, train_documents, eval_text)
      source = eval_text
    elif train_documents:
      train_documents, held_out = text_examples.hold_out_documents(
          train_documents)
      source = (f"{len(held_out)} documents of {train_text} (every 20th, "
                "not trained on; --noeval trains on all)")
    else:
      print("no held-out evaluation: give --eval_data or --eval_text",
            flush=True)
      return train_documents, None
    examples = text_examples.examples_from_documents(
        held_out, vocab_file, seq_length, do_lower_case)
  print(f"evaluating on {len(examples['input_word_ids'])} examples from "
        f"{source}", flush=True)
  return train_documents, examples


# Metrics of the progress lines, by their short names there.
_PRINTED = dict(mlm_loss="mlm", disc_loss="disc", mlm_accuracy="mlm_acc",
                sampled_accuracy="sampled_acc", disc_gain="gain",
                rtd_accuracy="rtd_acc", rtd_precision="rtd_p",
                rtd_recall="rtd_r", rtd_auc="rtd_auc",
                random_rtd_auc="random_auc")


def _format(metrics):
  return "  ".join(
      f"{short} {metrics[name]:.{4 if name.endswith('loss') else 3}f}"
      for name, short in _PRINTED.items() if name in metrics)


def _write_summaries(writer, step, scalars):
  if writer:
    with writer.as_default(step=step):
      for name, value in scalars.items():
        tf.summary.scalar(name, value)


def _log(step, loss, metrics, rate, learning_rate, writer,
         flops_per_example, peak_tflops, timer):
  """The progress line; model FLOP/s count the paper's matmul FLOPs
  (`electra_tf.flops`), and their share of `peak_tflops` is the MFU."""
  tflops = rate * flops_per_example / 1e12
  utilisation = (f"  MFU {tflops / peak_tflops:.1%}" if peak_tflops else "")
  print(f"step {step:>6}/{timer.total_steps}  loss {loss:.4f}  "
        f"{_format(metrics)}  lr {learning_rate:.2e}  {rate:.1f} examples/s  "
        f"{tflops:.3g} TFLOP/s{utilisation}  {timer.line(step)}", flush=True)
  _write_summaries(writer, step, dict(
      loss=loss, **metrics, learning_rate=learning_rate,
      examples_per_second=rate, model_tflops=tflops,
      seconds_left=timer.seconds_left(step)))


def pretrain(config: configs.ExperimentConfig, vocab_file: str,
             train_text: str = None, train_data: str = None,
             do_lower_case: bool = True, static_masks: bool = False,
             model_dir: str = None, checkpoint_every: int = 1000,
             resume: bool = True, overwrite: bool = False,
             log_every: int = 10,
             steps_per_loop: int = 100, jit_compile: bool = False,
             strategy: tf.distribute.Strategy = None, evaluate: bool = True,
             eval_text: str = None, eval_data: str = None,
             eval_every: int = 1000, eval_seed: int = 0,
             peak_tflops: float = 0.0):
  """Trains to `config.train.num_train_steps`; returns (losses, evaluations).

  `losses` pairs each loop's last step with its mean loss; `evaluations`
  pairs each evaluated step with its held-out metrics. Reads `train_data`
  (TFRecords) when given, else tokenizes `train_text`. Under `strategy`
  (default: the current one), `config.train.batch_size` is the global batch.

  With `evaluate`, the model is scored before a fresh run's first step,
  every `eval_every` steps and at the end on `eval_text` or `eval_data`, or else on every 20th document of
  `train_text`, which is then not trained on (see `evaluation`).

  Progress lines give examples/s and model TFLOP/s (and, with
  `peak_tflops`, the MFU).

  With `model_dir`, the model, optimizer, input position and the random
  generators of masking, sampling and dropout are checkpointed and restored
  on resume, so a resumed run follows the uninterrupted one exactly, and the
  last evaluation is written to `model_dir/eval_results.json`. The chief
  writes to `model_dir`; other workers to `model_dir/worker_<i>`, since
  their input positions differ. Without `resume`, a directory holding
  checkpoints is refused, or with `overwrite` emptied first.
  """
  train = config.train
  flops_per_example = flops.train_flops_per_example(config.model,
                                                    train.seq_length)
  strategy = strategy or tf.distribute.get_strategy()
  input_context = runtime.worker_input_context(strategy)
  special = text_examples.read_vocab_special_ids(vocab_file)
  vocab_size = len(bert_tokenizer.read_vocab(vocab_file))
  if vocab_size > config.model.discriminator.vocab_size:
    raise ValueError(
        f"vocabulary {vocab_file} has {vocab_size} tokens, more than the "
        f"model's {config.model.discriminator.vocab_size} embeddings: give "
        f"--params_override=model.discriminator.vocab_size={vocab_size}")
  resume_from = None
  if model_dir and resume:
    resume_from = _resume_point(runtime.writer_directory(model_dir, strategy))
    if resume_from:
      _check_resumable(config, resume_from)
  train_documents = (None if train_data
                     else text_examples.read_documents(train_text))
  held_out = None
  if evaluate:
    train_documents, held_out = _held_out(
        config, vocab_file, train_text, train_documents, train_data,
        eval_text, eval_data, do_lower_case, static_masks)
  tf_keras.utils.set_random_seed(train.seed)
  with runtime.checkpointable_dropout():
    dataset = _training_dataset(config, vocab_file, train_documents,
                                train_data, do_lower_case, static_masks,
                                input_context)
    with strategy.scope():
      model = builders.build_pretrainer(
          config.model, seed=train.seed, mask_token_id=special["[MASK]"],
          special_token_ids=(special["[PAD]"], special["[CLS]"],
                             special["[SEP]"]))
      optimizer = trainer.make_optimizer(train)
  train_loop = trainer.make_train_loop(
      model, optimizer,
      trainer.pretraining_loss(config.model, step=optimizer.iterations),
      train.clip_norm, strategy, input_context.num_input_pipelines,
      jit_compile)
  evaluate_model = None
  if held_out:
    evaluate_model = evaluation.make_evaluator(model, held_out, strategy,
                                               seed=eval_seed)
  iterator = iter(dataset)
  checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer,
                                   data=iterator,
                                   dropout=runtime.dropout_generators(model))
  with contextlib.ExitStack() as run_directory:
    manager = writer = eval_writer = None
    if model_dir:
      checkpoint_dir = runtime.writer_directory(model_dir, strategy)
      # One writer per directory, for the run's life.
      run_directory.enter_context(run_lock.hold(checkpoint_dir))
      manager = tf.train.CheckpointManager(checkpoint, checkpoint_dir,
                                           max_to_keep=3)
      if not resume and manager.latest_checkpoint:
        if not overwrite:
          raise FileExistsError(
              f"{checkpoint_dir} holds an earlier run "
              f"({manager.latest_checkpoint}); drop --noresume to continue "
              "it, or pass --overwrite to delete it and start afresh")
        _clear(checkpoint_dir)
        manager = tf.train.CheckpointManager(checkpoint, checkpoint_dir,
                                             max_to_keep=3)
      if resume_from:
        # Slot variables do not exist yet; they are restored on creation.
        checkpoint.restore(resume_from).assert_existing_objects_matched()
        step = int(optimizer.iterations.numpy())
        print(f"resumed from {resume_from} at step {step}", flush=True)
        if step >= train.num_train_steps:
          print(f"the run had already finished (train.num_train_steps "
                f"{train.num_train_steps}); give a larger --num_train_steps "
                "to train on", flush=True)
      configs.save_run_config(config, checkpoint_dir)
      if strategy.extended.should_save_summary:
        writer = tf.summary.create_file_writer(os.path.join(model_dir, "train"))
        eval_writer = tf.summary.create_file_writer(
            os.path.join(model_dir, "eval"))

    evaluations = []

    def run_evaluation(step):
      results = evaluate_model()
      evaluations.append((step, results))
      print(f"eval   {step:>6}  {_format(results)}  "
            f"({len(held_out['input_word_ids'])} held-out examples)",
            flush=True)
      _write_summaries(eval_writer, step, results)
      if eval_writer:
        with open(os.path.join(model_dir, "eval_results.json"), "w",
                  encoding="utf-8") as f:
          json.dump(dict(step=step, **results), f, indent=2)

    intervals = [steps_per_loop, log_every, train.num_train_steps]
    if manager:
      intervals.append(checkpoint_every)
    if evaluate_model:
      intervals.append(eval_every)
    losses = []
    step = logged_step = int(optimizer.iterations.numpy())
    if evaluate_model and step == 0:
      run_evaluation(0)  # where the curves start: what training adds
    logged_time = time.perf_counter()
    timer = progress.StepTimer(train.num_train_steps, step)
    while step < train.num_train_steps:
      loop_end = min(step // n * n + n for n in intervals)
      try:
        loss, metrics = train_loop(iterator, tf.constant(loop_end - step))
      except tf.errors.DataLossError as e:
        if not train_data:
          raise
        kept = manager.latest_checkpoint if manager else None
        raise pretraining_dataset.damaged_file_error(train_data, e, (
            f"The run stopped before step {loop_end}; rerun to resume from "
            f"{kept}." if kept else "Nothing was saved.")) from None
      step = int(optimizer.iterations.numpy())
      losses.append((step, float(loss)))
      if step % log_every == 0 or step == train.num_train_steps:
        now = time.perf_counter()
        rate = (step - logged_step) * train.batch_size / (now - logged_time)
        logged_step, logged_time = step, now
        learning_rate = float(optimizer.learning_rate(step - 1))
        _log(step, float(loss), {k: float(v) for k, v in metrics.items()},
             rate, learning_rate, writer, flops_per_example, peak_tflops,
             timer)
      paused = time.perf_counter()
      if manager and (step % checkpoint_every == 0 or
                      step == train.num_train_steps):
        manager.save(checkpoint_number=step)
        print(f"saved checkpoint at step {step}", flush=True)
      if evaluate_model and step % eval_every == 0:
        run_evaluation(step)
      # Checkpoints and evaluation do not count against examples/s.
      logged_time += time.perf_counter() - paused
    if evaluate_model and (not evaluations or evaluations[-1][0] != step):
      run_evaluation(step)
    if losses:
      print(f"{model.count_params():,} parameters; loss {losses[0][1]:.4f} -> "
            f"{losses[-1][1]:.4f}")
    if evaluations and "disc_gain" in evaluations[-1][1]:
      print(evaluation.discriminator_verdict(evaluations), flush=True)
    return losses, evaluations


def _resume_point(checkpoint_dir):
  """The checkpoint a resumed run starts from, or None.

  That is the newest one the directory lists whose files are there, so
  moving a damaged checkpoint's files away resumes from the one before it.
  A damaged one is refused by name, with that way out.
  """
  present = checkpoint_fit.listed_checkpoints(checkpoint_dir)
  if not present:
    return None
  checkpoint_fit.check_readable(present[-1], next_step=(
      f"To resume from the one before it, move {present[-1]}.index and its "
      f".data files out of {checkpoint_dir} and rerun; or start afresh with "
      "--noresume --overwrite (deleting the run there), or use another "
      "--model_dir. Nothing was changed."))
  return present[-1]


def _check_resumable(config, checkpoint_path):
  """Refuses to resume the run of `checkpoint_path` under other settings.

  Only its length (train.num_train_steps) may change: any other setting
  would silently continue one run under another's.
  """
  checkpoint_dir = os.path.dirname(checkpoint_path)
  checkpoint_fit.check(config.model, checkpoint_path)
  saved = configs.run_config(checkpoint_dir)
  if not saved:
    return
  changed = configs.changed_settings(configs.load_experiment(saved), config)
  changed.pop("train.num_train_steps", None)
  if changed:
    raise ValueError(
        f"{checkpoint_dir} holds a run made with other settings (saved in "
        f"{saved} -> now):\n" + "".join(
            f"  {key}: {old!r} -> {new!r}\n"
            for key, (old, new) in changed.items()) + "Resume it with "
        "its own settings (only --num_train_steps may change), start afresh "
        "with --noresume --overwrite (deleting it), or use another "
        "--model_dir")


def _clear(directory):
  """Deletes all of `directory` but the lock this run holds."""
  for name in tf.io.gfile.listdir(directory):
    path = os.path.join(directory, name)
    if name.rstrip("/") == run_lock.LOCK_NAME:
      continue
    if tf.io.gfile.isdir(path):
      tf.io.gfile.rmtree(path)
    else:
      tf.io.gfile.remove(path)


def main(argv):
  del argv
  strategy = common_flags.configure_runtime()
  config = configs.load_experiment(_CONFIG.value,
                                   common_flags.PARAMS_OVERRIDE.value)
  if _NUM_TRAIN_STEPS.value:
    config.override({"train": {"num_train_steps": _NUM_TRAIN_STEPS.value}})
  if _MODEL_DIR.value:
    paths.check_writable(_MODEL_DIR.value)  # before the tokenizing
  pretrain(config, common_flags.VOCAB_FILE.value,
           train_text=_TRAIN_TEXT.value, train_data=_TRAIN_DATA.value,
           do_lower_case=common_flags.DO_LOWER_CASE.value,
           static_masks=_STATIC_MASKS.value, model_dir=_MODEL_DIR.value,
           checkpoint_every=_CHECKPOINT_EVERY.value, resume=_RESUME.value,
           overwrite=_OVERWRITE.value,
           log_every=common_flags.LOG_EVERY.value,
           steps_per_loop=_STEPS_PER_LOOP.value,
           jit_compile=_JIT_COMPILE.value, strategy=strategy,
           evaluate=_EVAL.value, eval_text=_EVAL_TEXT.value,
           eval_data=_EVAL_DATA.value, eval_every=_EVAL_EVERY.value,
           eval_seed=_EVAL_SEED.value, peak_tflops=_PEAK_TFLOPS.value)


if __name__ == "__main__":
  cli.run(main)
