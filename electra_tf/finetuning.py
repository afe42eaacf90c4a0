"""Fine-tuning: task files, task objects and the training loop.

`finetune` trains a task's model with the ELECTRA recipe (AdamW, layer-wise
learning-rate decay, 10% warmup), evaluates on the dev files after every
epoch and writes `eval_results.json`, TensorBoard summaries and prediction
files. `run_finetuning` is its command line.
"""

import json
import math
import os
from typing import Dict, List, Optional

import tensorflow as tf
import tf_keras

from electra_tf import configs
from electra_tf import optimization
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


class _EvaluateEachEpoch(tf_keras.callbacks.Callback):
  """Dev metrics after every epoch: printed and written to TensorBoard."""

  def __init__(self, task, log_dir):
    super().__init__()
    self.task = task
    self.writer = tf.summary.create_file_writer(log_dir)
    self.results = {}

  def on_epoch_end(self, epoch, logs=None):
    self.results = self.task.evaluate(self.model)
    with self.writer.as_default(step=epoch + 1):
      for name, scores in self.results.items():
        for metric, value in scores.items():
          tf.summary.scalar(f"{name}/{metric}", value)
    print(f"epoch {epoch + 1}: " + json.dumps(self.results), flush=True)


def finetune(task, make_network, config: configs.FinetuneConfig,
             output_dir: str, strategy: Optional[tf.distribute.Strategy] = None):
  """Trains `task`'s model over `make_network()`; returns the dev metrics.

  Writes `eval_results.json`, TensorBoard logs (train/, eval/) and the test
  predictions (predictions/) under `output_dir`.
  """
  strategy = strategy or tf.distribute.get_strategy()
  features, labels = task.train_data()
  num_examples = len(features["input_word_ids"])
  steps_per_epoch = math.ceil(num_examples / config.batch_size)
  num_train_steps = steps_per_epoch * task.num_train_epochs
  tf_keras.utils.set_random_seed(config.seed)
  with strategy.scope():
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
  dataset = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(
      num_examples, seed=config.seed, reshuffle_each_iteration=True).repeat()
  dataset = dataset.batch(config.batch_size)
  evaluation = _EvaluateEachEpoch(task, os.path.join(output_dir, "eval"))
  print(f"{num_examples} training examples, {task.num_train_epochs} epochs "
        f"of {steps_per_epoch} steps", flush=True)
  model.fit(dataset, epochs=task.num_train_epochs,
            steps_per_epoch=steps_per_epoch, verbose=2,
            callbacks=[tf_keras.callbacks.TensorBoard(
                os.path.join(output_dir, "train"), write_graph=False),
                       evaluation])
  results = evaluation.results
  with open(os.path.join(output_dir, "eval_results.json"), "w") as f:
    json.dump(results, f, indent=2)
  prediction_dir = os.path.join(output_dir, "predictions")
  os.makedirs(prediction_dir, exist_ok=True)
  for path in task.write_predictions(model, prediction_dir):
    print(f"wrote {path}", flush=True)
  return results
