"""Multiple choice: pick the right ending (SWAG and user files)."""

import os
from typing import Dict, List, Sequence

import numpy as np
import tf_keras

from electra_tf import metrics
from electra_tf import models
from electra_tf.configs import FinetuneConfig
from electra_tf.data import multiple_choice_data
from electra_tf.networks.electra_encoder import encoder_inputs


class MultipleChoiceTask:
  """A `ChoiceTask` over its train / dev / test files.

  Args:
    task: columns of the context, the choices and the label.
    files: split name -> file paths.
    tokenizer: a `FullTokenizer` for the encoder's vocabulary.
    config: the fine-tuning recipe.
  """

  def __init__(self, task: multiple_choice_data.ChoiceTask,
               files: Dict[str, Sequence[str]], tokenizer,
               config: FinetuneConfig):
    self.task, self.files, self.config = task, files, config
    self.num_train_epochs = config.num_train_epochs or task.num_train_epochs
    # Read everything first: a bad file fails before any training.
    self._encoded = {
        (split, path): multiple_choice_data.encode(
            multiple_choice_data.read_examples(task, path, split != "test"),
            tokenizer, config.max_seq_length)
        for split, paths in files.items() for path in paths}

  def train_data(self):
    features = self._encoded[("train", self.files["train"][0])]
    return encoder_inputs(features), features["label_ids"]

  def build_model(self, network) -> tf_keras.Model:
    return models.ElectraMultipleChoice(
        network, head_type=self.config.head_type,
        dropout_rate=self.config.dropout_rate,
        initializer=tf_keras.initializers.TruncatedNormal(stddev=0.02))

  @property
  def loss(self):
    return tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)

  def _predict(self, model, features) -> np.ndarray:
    logits = model.predict(encoder_inputs(features),
                           batch_size=self.config.batch_size, verbose=0)
    return np.argmax(logits, -1)

  def _named_files(self, split):
    return [(os.path.splitext(os.path.basename(p))[0], p)
            for p in self.files.get(split, ())]

  def evaluate(self, model) -> Dict[str, Dict[str, float]]:
    """Accuracy on each dev file, keyed by its file name."""
    return {name: {"accuracy": metrics.accuracy(
        self._encoded[("dev", path)]["label_ids"],
        self._predict(model, self._encoded[("dev", path)]))}
            for name, path in self._named_files("dev")}

  def write_predictions(self, model, output_dir) -> List[str]:
    """index<TAB>prediction (the chosen ending's index), one per test file."""
    written = []
    for name, path in self._named_files("test"):
      predictions = self._predict(model, self._encoded[("test", path)])
      out = os.path.join(output_dir, f"{name}.tsv")
      with open(out, "w", encoding="utf-8") as f:
        f.write("index\tprediction\n")
        f.writelines(f"{i}\t{p}\n" for i, p in enumerate(predictions))
      written.append(out)
    return written
