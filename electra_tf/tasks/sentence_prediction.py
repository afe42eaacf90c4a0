"""GLUE-style sentence(-pair) classification and regression."""

import os
from typing import Dict, List, Sequence

import numpy as np
import tf_keras

from electra_tf import metrics
from electra_tf import models
from electra_tf.configs import FinetuneConfig
from electra_tf.data import classification_data
from electra_tf.networks.electra_encoder import encoder_inputs

_METRICS = dict(accuracy=metrics.accuracy, f1=metrics.f1,
                mcc=metrics.matthews_corrcoef, pearson=metrics.pearson,
                spearman=metrics.spearman)


class SentencePredictionTask:
  """A `ClassificationTask` over its train / dev / test files.

  Args:
    task: columns, labels and metrics (a GLUE task or `custom_task`).
    files: split name -> file paths ("dev" and "test" may hold several).
    tokenizer: a `FullTokenizer` for the encoder's vocabulary.
    config: the fine-tuning recipe.
  """

  def __init__(self, task: classification_data.ClassificationTask,
               files: Dict[str, Sequence[str]], tokenizer,
               config: FinetuneConfig):
    self.task, self.files, self.config = task, files, config
    self.num_train_epochs = config.num_train_epochs or task.num_train_epochs
    # Read everything first: a bad file fails before any training.
    self._encoded = {
        (split, path): classification_data.encode(
            classification_data.read_examples(task, path, split != "test"),
            tokenizer, config.max_seq_length)
        for split, paths in files.items() for path in paths}

  def train_data(self):
    features = self._encoded[("train", self.files["train"][0])]
    labels = features["label_ids"]
    if self.task.is_regression:
      labels = labels[:, None]  # the shape of the regressor's output
    return encoder_inputs(features), labels

  def dev_data(self):
    """(encoder inputs, labels) of the first dev file."""
    features = self._encoded[("dev", self.files["dev"][0])]
    return encoder_inputs(features), features["label_ids"]

  def build_model(self, network) -> tf_keras.Model:
    return models.ElectraClassifier(
        network, 1 if self.task.is_regression else len(self.task.labels),
        head_type=self.config.head_type, dropout_rate=self.config.dropout_rate,
        initializer=tf_keras.initializers.TruncatedNormal(stddev=0.02))

  @property
  def loss(self):
    if self.task.is_regression:
      return tf_keras.losses.MeanSquaredError()
    return tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)

  def _predict(self, model, features) -> np.ndarray:
    logits = model.predict(encoder_inputs(features),
                           batch_size=self.config.batch_size, verbose=0)
    return logits[:, 0] if self.task.is_regression else np.argmax(logits, -1)

  def evaluate(self, model) -> Dict[str, Dict[str, float]]:
    """Metrics on each dev file, keyed by its submission name."""
    results = {}
    for name, path in zip(self._names("dev"), self.files.get("dev", ())):
      features = self._encoded[("dev", path)]
      predictions = self._predict(model, features)
      results[name] = {metric: _METRICS[metric](features["label_ids"],
                                                predictions)
                       for metric in self.task.metrics}
    return results

  def _names(self, split) -> List[str]:
    paths = self.files.get(split, ())
    names = list(self.task.submission_names)
    return names if len(names) == len(paths) else [
        os.path.splitext(os.path.basename(p))[0] for p in paths]

  def write_predictions(self, model, output_dir) -> List[str]:
    """GLUE submission files: index<TAB>prediction, one per test file."""
    written = []
    for name, path in zip(self._names("test"), self.files.get("test", ())):
      predictions = self._predict(model, self._encoded[("test", path)])
      out = os.path.join(output_dir, f"{name}.tsv")
      with open(out, "w", encoding="utf-8") as f:
        f.write("index\tprediction\n")
        for index, value in enumerate(predictions):
          value = (f"{min(max(float(value), 0.0), 5.0):.3f}"
                   if self.task.is_regression and self.task.name == "sts"
                   else f"{float(value):.6g}" if self.task.is_regression
                   else self.task.labels[value])
          f.write(f"{index}\t{value}\n")
      written.append(out)
    return written
