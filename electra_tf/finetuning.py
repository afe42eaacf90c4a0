"""Fine-tuning: task files, task objects and the training loop.

`finetune` trains a task's model with the ELECTRA recipe (AdamW, layer-wise
learning-rate decay, 10% warmup), evaluates on the dev files after every
epoch and writes `eval_results.json`, TensorBoard summaries and prediction
files. `run_finetuning` is its command line.
"""

import json
import math
import os
import time
from typing import Callable, Dict, List, Optional

import tensorflow as tf
import tf_keras

from electra_tf import checkpoint_fit
from electra_tf import configs
from electra_tf import file_readers
from electra_tf import optimization
from electra_tf import progress
from electra_tf import run_lock
from electra_tf import runtime
from electra_tf.data import classification_data
from electra_tf.data import multiple_choice_data
from electra_tf.tasks import multiple_choice
from electra_tf.tasks import question_answering
from electra_tf.tasks import sentence_prediction
from electra_tf.tasks import tagging

TASKS = tuple(classification_data.GLUE_TASKS) + (
    "squad", "squad_v1", "tagging", "swag", "custom", "multiple_choice")
# Files each task reads from --data_dir (dev and test are optional).
_FILE_NAMES = dict(
    tagging=dict(train=("train.txt",), dev=("dev.txt",), test=("test.txt",)),
    squad=dict(train=("train-v2.0.json",), dev=("dev-v2.0.json",)),
    squad_v1=dict(train=("train-v1.1.json",), dev=("dev-v1.1.json",)),
    swag=multiple_choice_data.SWAG.splits,
    **{name: task.splits
       for name, task in classification_data.GLUE_TASKS.items()})


def task_files(task: str, data_dir: Optional[str], train_file=None,
               dev_file=None, test_file=None) -> Dict[str, List[str]]:
  """Split -> paths: explicit files first, else the task's names in data_dir."""
  explicit = dict(train=train_file, dev=dev_file, test=test_file)
  files = {}
  for split in ("train", "dev", "test"):
    if explicit[split]:
      files[split] = [explicit[split]]
    elif data_dir and task in _FILE_NAMES:
      paths = [os.path.join(data_dir, name)
               for name in _FILE_NAMES[task].get(split, ())]
      if paths and all(os.path.isfile(p) for p in paths):
        files[split] = paths
  if "train" not in files:
    where = (f"in {data_dir} ({', '.join(_FILE_NAMES[task]['train'])})"
             if data_dir and task in _FILE_NAMES else "(pass --train_file)")
    raise FileNotFoundError(f"No training file for task {task!r} {where}")
  return files


def make_task(name, files, tokenizer, config: configs.FinetuneConfig,
              text_columns=None, label_column="label", labels=None,
              regression=False, choice_columns=None):
  if name in ("swag", "multiple_choice"):
    spec = multiple_choice_data.SWAG if name == "swag" else (
        multiple_choice_data.custom_task(text_columns, choice_columns,
                                         label_column))
    return multiple_choice.MultipleChoiceTask(spec, files, tokenizer, config)
  if name == "tagging":
    return tagging.TaggingTask(files, tokenizer, config)
  if name in ("squad", "squad_v1"):
    return question_answering.QuestionAnsweringTask(
        files, tokenizer, config, version_2=name == "squad")
  if name == "custom":
    if not text_columns:
      raise ValueError("task custom needs --text_columns")
    spec = classification_data.custom_task(
        files["train"][0], text_columns, label_column, labels, regression)
  else:
    spec = classification_data.GLUE_TASKS[name]
  return sentence_prediction.SentencePredictionTask(spec, files, tokenizer,
                                                    config)


# Under output_dir: the latest epoch's model and optimizer (to resume), and
# the model of the best epoch by the task's main dev metric.
CHECKPOINTS_DIR = "checkpoints"
BEST_DIR = "best"
_MOVE_AWAY = ("Move {path} out of the way (nothing was changed) and rerun: "
              "the run then trains again from its start")


def kept_checkpoint(path: str) -> Optional[str]:
  """The fine-tuned model `path` holds, as a checkpoint prefix, or None.

  `path` may be a run_finetuning output directory (its best model, else its
  latest), one of its checkpoint directories, or a checkpoint prefix; a
  pretraining checkpoint is not a fine-tuned model (None).
  """
  for directory in (os.path.join(path, BEST_DIR),
                    os.path.join(path, CHECKPOINTS_DIR), path):
    if tf.io.gfile.isdir(directory) and tf.train.latest_checkpoint(directory):
      path = tf.train.latest_checkpoint(directory)
      break
  if not tf.io.gfile.exists(path + ".index"):
    return None
  checkpoint_fit.check_readable(path, next_step=(
      "Give another kept model (the run's best/ or checkpoints/), or move "
      "this one out of the way. Nothing was changed."))
  # Task models keep their encoder as `network`; pretrainers do not.
  names = (name for name, _ in tf.train.list_variables(path))
  return path if any(n.startswith("model/network/") for n in names) else None


def _main_metric(results):
  """(name, value) of the first metric of the first dev file."""
  for file_name, scores in results.items():
    for metric, value in scores.items():
      return f"{file_name}/{metric}", value
  return None, None


class _EvaluateAndKeep(tf_keras.callbacks.Callback):
  """After every epoch: dev metrics printed and summarised, the model kept.

  The best epoch's model by the main dev metric (higher is better for every
  task's metrics) goes to `best/` with `best.json` before the epoch's model
  and optimizer go to `checkpoints/`, so a kill between the two at worst
  repeats an epoch that reaches the same result.
  """

  def __init__(self, task, output_dir, checkpoint, model):
    super().__init__()
    self.task = task
    self.writer = tf.summary.create_file_writer(
        os.path.join(output_dir, "eval"))
    self.latest = tf.train.CheckpointManager(
        checkpoint, os.path.join(output_dir, CHECKPOINTS_DIR), max_to_keep=1)
    self.best = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model), os.path.join(output_dir, BEST_DIR),
        max_to_keep=1)
    self.best_file = os.path.join(output_dir, BEST_DIR, "best.json")
    self.results = {}

  def on_epoch_end(self, epoch, logs=None):
    self.results = self.task.evaluate(self.model)
    with self.writer.as_default(step=epoch + 1):
      for name, scores in self.results.items():
        for metric, value in scores.items():
          tf.summary.scalar(f"{name}/{metric}", value)
    print(f"epoch {epoch + 1}: " + json.dumps(self.results), flush=True)
    metric, value = _main_metric(self.results)
    if metric is not None and value > self._best_value():
      self.best.save(checkpoint_number=epoch + 1)
      with open(self.best_file, "w", encoding="utf-8") as f:
        json.dump(dict(epoch=epoch + 1, metric=metric, value=value,
                       results=self.results), f, indent=2)
      print(f"best so far by {metric}: kept in {self.best.directory}",
            flush=True)
    self.latest.save(checkpoint_number=epoch + 1)

  def _best_value(self):
    if not os.path.exists(self.best_file):
      return -math.inf
    next_step = _MOVE_AWAY.format(path=os.path.dirname(self.best_file))
    best = file_readers.read_json(self.best_file, "the best epoch's record",
                                  next_step=next_step)
    if not isinstance(best.get("value"), (int, float)):
      raise file_readers.DamagedFileError(
          f"the best epoch's record {self.best_file} has no number 'value'. "
          + next_step)
    return best["value"]


def finetune(task, make_network, config: configs.FinetuneConfig,
             output_dir: str, strategy: Optional[tf.distribute.Strategy] = None,
             do_train: bool = True, init_checkpoint: Optional[str] = None,
             export: Optional[Callable[[tf_keras.Model], None]] = None,
             log_every: int = 0):
  """Trains `task`'s model over `make_network()`; returns the dev metrics.

  Writes `eval_results.json`, TensorBoard logs (train/, eval/), the test
  predictions (predictions/) and the kept models (see `_EvaluateAndKeep`)
  under `output_dir`. A run finds its own `checkpoints/` there and resumes
  after the last finished epoch, drawing the data order and dropout masks
  of the uninterrupted run, so it ends with the same weights. It holds
  `output_dir`'s lock (`run_lock`) while it runs; under multi-worker
  training, workers other than the chief write `output_dir/worker_<i>`.

  `init_checkpoint`: a kept fine-tuned model to start from (`kept_checkpoint`).
  Without `do_train`, that model (by default `output_dir`'s best) is only
  evaluated and predicts. `export` is called with the final model last
  (e.g. to write serving SavedModels). `log_every` > 0 prints a progress
  line every that many steps within an epoch.
  """
  strategy = strategy or tf.distribute.get_strategy()
  output_dir = runtime.writer_directory(output_dir, strategy)
  # One writer per directory, for the run's life.
  with run_lock.hold(output_dir):
    if not do_train:
      init_checkpoint = init_checkpoint or kept_checkpoint(output_dir)
      if init_checkpoint is None:
        raise FileNotFoundError(
            f"Nothing to evaluate: no fine-tuned model in {output_dir} and no "
            "--init_checkpoint of one")
    if do_train:
      _check_resumable(output_dir)
    features, labels = task.train_data()
    num_examples = len(features["input_word_ids"])
    steps_per_epoch = math.ceil(num_examples / config.batch_size)
    num_train_steps = steps_per_epoch * task.num_train_epochs
    tf_keras.utils.set_random_seed(config.seed)
    with runtime.checkpointable_dropout(), strategy.scope():
      network = make_network()
      if hasattr(network, "pooler"):
        # Task heads read [CLS] from the sequence output, as in the original.
        network.pooler.trainable = False
      model = task.build_model(network)
      multipliers = optimization.layerwise_lr_multipliers(
          optimization.count_layers(model.trainable_variables),
          config.layerwise_lr_decay, config.original_layer_depths)
      optimizer = optimization.make_optimizer(
          config.learning_rate, num_train_steps,
          int(config.warmup_proportion * num_train_steps),
          weight_decay=config.weight_decay, clip_norm=config.clip_norm,
          lr_multipliers=multipliers)
      model.compile(optimizer=optimizer, loss=task.loss)
    if init_checkpoint:
      tf.train.Checkpoint(model=model).restore(
          init_checkpoint).expect_partial().assert_existing_objects_matched()
      print(f"model from {init_checkpoint}", flush=True)
    checkpoint = tf.train.Checkpoint(
        model=model, optimizer=optimizer,
        dropout=runtime.dropout_generators(model))
    keeper = _EvaluateAndKeep(task, output_dir, checkpoint, model)
    if do_train:
      _train(model, task, features, labels, config, output_dir, checkpoint,
             keeper, steps_per_epoch, log_every)
    results = keeper.results or task.evaluate(model)
    with open(os.path.join(output_dir, "eval_results.json"), "w") as f:
      json.dump(results, f, indent=2)
    prediction_dir = os.path.join(output_dir, "predictions")
    os.makedirs(prediction_dir, exist_ok=True)
    for path in task.write_predictions(model, prediction_dir):
      print(f"wrote {path}", flush=True)
    if export:
      export(model)
    return results


def _check_resumable(output_dir):
  """Refuses a damaged latest checkpoint before anything is written."""
  latest = tf.train.latest_checkpoint(os.path.join(output_dir,
                                                   CHECKPOINTS_DIR))
  if latest:
    best = tf.train.latest_checkpoint(os.path.join(output_dir, BEST_DIR))
    checkpoint_fit.check_readable(latest, next_step=_MOVE_AWAY.format(
        path=os.path.dirname(latest)) + (
            f"; or fine-tune on from the best epoch's model with "
            f"--init_checkpoint={os.path.dirname(best)} and another "
            "--output_dir" if best else ""))


def _train(model, task, features, labels, config, output_dir, checkpoint,
           keeper, steps_per_epoch, log_every):
  """Fits the remaining epochs, resuming from `output_dir`'s latest epoch."""
  optimizer = model.optimizer
  initial_epoch = 0
  latest = keeper.latest.latest_checkpoint
  if latest:
    # Slot variables do not exist yet; they are restored on creation.
    status = checkpoint.restore(latest)
    status.assert_existing_objects_matched()
    initial_epoch = int(optimizer.iterations.numpy()) // steps_per_epoch
    print(f"resumed from {latest} after epoch {initial_epoch}", flush=True)
    if initial_epoch >= task.num_train_epochs:
      # No step left, so the optimizer never makes the slots that would
      # take the rest of the saved values: nothing is missing.
      status.expect_partial()
  num_examples = len(features["input_word_ids"])
  # The seeded shuffle repeats its epochs' orders; skipping the finished
  # epochs' batches continues where the interrupted run stopped.
  dataset = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(
      num_examples, seed=config.seed, reshuffle_each_iteration=True).repeat()
  dataset = dataset.batch(config.batch_size).skip(
      initial_epoch * steps_per_epoch)
  print(f"{num_examples} training examples, {task.num_train_epochs} epochs "
        f"of {steps_per_epoch} steps", flush=True)
  if initial_epoch < task.num_train_epochs:
    model.fit(dataset, epochs=task.num_train_epochs,
              initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
              verbose=2, callbacks=[
                  _Progress(steps_per_epoch, config.batch_size,
                            task.num_train_epochs, log_every),
                  tf_keras.callbacks.TensorBoard(
                      os.path.join(output_dir, "train"), write_graph=False),
                  keeper])


class _Progress(tf_keras.callbacks.Callback):
  """A line every `log_every` steps (loss, examples/s, elapsed, time left)
  and each epoch's training examples/s, added to the epoch's logs with the
  time left (so TensorBoard's train/ summaries get them). Placed first: the
  evaluation in later callbacks' on_epoch_end does not count in examples/s
  (it does in the time left, as it recurs)."""

  def __init__(self, steps_per_epoch: int, batch_size: int, num_epochs: int,
               log_every: int):
    super().__init__()
    self._steps_per_epoch, self._batch_size = steps_per_epoch, batch_size
    self._num_epochs, self._log_every = num_epochs, log_every
    self._epoch = self._timer = self._epoch_start = None
    self._logged = None  # (time, step in the epoch) of the last line

  def on_epoch_begin(self, epoch, logs=None):
    if self._timer is None:  # the first epoch of this process
      self._timer = progress.StepTimer(
          self._num_epochs * self._steps_per_epoch,
          epoch * self._steps_per_epoch)
    self._epoch = epoch
    self._epoch_start = time.perf_counter()
    self._logged = (self._epoch_start, 0)

  def on_train_batch_end(self, batch, logs=None):
    steps = batch + 1
    if (not self._log_every or steps % self._log_every or
        steps == self._steps_per_epoch):
      return
    now = time.perf_counter()
    rate = ((steps - self._logged[1]) * self._batch_size /
            (now - self._logged[0]))
    self._logged = (now, steps)
    loss = f"  loss {logs['loss']:.4f}" if logs and "loss" in logs else ""
    print(f"train epoch {self._epoch + 1}/{self._num_epochs}  step "
          f"{steps}/{self._steps_per_epoch}{loss}  {rate:.1f} examples/s  "
          f"{self._timer.line(self._epoch * self._steps_per_epoch + steps)}",
          flush=True)

  def on_epoch_end(self, epoch, logs=None):
    seconds = time.perf_counter() - self._epoch_start
    examples = self._steps_per_epoch * self._batch_size
    rate = examples / seconds
    step = (epoch + 1) * self._steps_per_epoch
    print(f"train epoch {epoch + 1}/{self._num_epochs}: {examples} examples "
          f"in {seconds:.1f} s, {rate:.1f} examples/s  "
          f"{self._timer.line(step)}", flush=True)
    if logs is not None:
      logs["examples_per_second"] = rate
      logs["seconds_left"] = self._timer.seconds_left(step)
