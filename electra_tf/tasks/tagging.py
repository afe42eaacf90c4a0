"""CoNLL-style tagging (chunking, NER) with span F1."""

import os
from typing import Dict, List, Sequence

import tensorflow as tf
import tf_keras

from electra_tf import metrics
from electra_tf import models
from electra_tf.configs import FinetuneConfig
from electra_tf.data import tagging_data
from electra_tf.networks.electra_encoder import encoder_inputs


def masked_sparse_crossentropy(label_ids, logits):
  """Mean cross-entropy over the tagged positions (label id >= 0)."""
  label_ids = tf.cast(label_ids, tf.int32)
  weights = tf.cast(label_ids >= 0, logits.dtype)
  losses = tf_keras.losses.sparse_categorical_crossentropy(
      tf.maximum(label_ids, 0), logits, from_logits=True)
  return tf.reduce_sum(losses * weights) / tf.maximum(
      tf.reduce_sum(weights), 1.0)


class TaggingTask:
  """Tags from the training file; dev tags must be among them."""

  num_train_epochs_default = 3

  def __init__(self, files: Dict[str, Sequence[str]], tokenizer,
               config: FinetuneConfig):
    self.files, self.config = files, config
    self.num_train_epochs = (config.num_train_epochs or
                             self.num_train_epochs_default)
    self._sentences = {
        (split, path): tagging_data.read_conll(path, split != "test")
        for split, paths in files.items() for path in paths}
    train_path = files["train"][0]
    self.tags = tagging_data.tag_list(self._sentences[("train", train_path)])
    for path in files.get("dev", ()):
      tagging_data.check_tags(self._sentences[("dev", path)], self.tags, path)
    self._encoded = {key: tagging_data.encode(sentences, tokenizer,
                                              config.max_seq_length, self.tags)
                     for key, sentences in self._sentences.items()}

  def train_data(self):
    features = self._encoded[("train", self.files["train"][0])]
    return encoder_inputs(features), features["label_ids"]

  def build_model(self, network) -> tf_keras.Model:
    return models.ElectraTokenClassifier(
        network, len(self.tags), dropout_rate=self.config.dropout_rate,
        initializer=tf_keras.initializers.TruncatedNormal(stddev=0.02))

  loss = staticmethod(masked_sparse_crossentropy)

  def _predict(self, model, key) -> List[List[str]]:
    features = self._encoded[key]
    logits = model.predict(encoder_inputs(features),
                           batch_size=self.config.batch_size, verbose=0)
    return tagging_data.decode(logits, features, self._sentences[key],
                               self.tags)

  def evaluate(self, model) -> Dict[str, Dict[str, float]]:
    results = {}
    for path in self.files.get("dev", ()):
      gold = [s.tags for s in self._sentences[("dev", path)]]
      predicted = self._predict(model, ("dev", path))
      flat_gold = [t for tags in gold for t in tags]
      flat_predicted = [t for tags in predicted for t in tags]
      name = os.path.splitext(os.path.basename(path))[0]
      results[name] = dict(span_f1=metrics.span_f1(gold, predicted),
                           accuracy=metrics.accuracy(flat_gold,
                                                     flat_predicted))
    return results

  def write_predictions(self, model, output_dir) -> List[str]:
    """CoNLL files of word<TAB>predicted tag, one per test file."""
    written = []
    for path in self.files.get("test", ()):
      out = os.path.join(output_dir, os.path.basename(path))
      predicted = self._predict(model, ("test", path))
      with open(out, "w", encoding="utf-8") as f:
        for sentence, tags in zip(self._sentences[("test", path)], predicted):
          f.writelines(f"{w}\t{t}\n" for w, t in zip(sentence.words, tags))
          f.write("\n")
      written.append(out)
    return written
