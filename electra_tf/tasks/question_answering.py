"""SQuAD 1.1 and 2.0 span extraction, on Model Garden's SQuAD pipeline.

Windows of `max_seq_length` over the passage every `doc_stride` tokens,
questions cut to `max_query_length`, n-best span search with
`max_answer_length` and, for 2.0, the null answer chosen when its score beats
the best span by more than `null_score_diff_threshold` (BERT's rule). Scores
are those of the official evaluation scripts (percentages).
"""

import collections
import json
import os
from typing import Dict, List, Sequence

import numpy as np
import tf_keras
from official.nlp.data import squad_lib
from official.nlp.tools import squad_evaluate_v1_1
from official.nlp.tools import squad_evaluate_v2_0

from electra_tf import models
from electra_tf.configs import FinetuneConfig
from electra_tf.data.table_files import DataError

RawResult = collections.namedtuple("RawResult",
                                   ["unique_id", "start_logits", "end_logits"])


def _require(condition, path, where, message):
  if not condition:
    raise DataError(path, None, f"{where}: {message}")


def read_squad_json(path: str, labelled: bool, version_2: bool) -> List[dict]:
  """The `data` list of a SQuAD file, checked entry by entry."""
  try:
    with open(path, encoding="utf-8") as f:
      data = json.load(f)
  except FileNotFoundError:
    raise FileNotFoundError(f"Data file not found: {path}") from None
  except json.JSONDecodeError as e:
    raise DataError(path, e.lineno, f"invalid JSON ({e.msg}, column "
                    f"{e.colno})") from None
  _require(isinstance(data, dict) and isinstance(data.get("data"), list),
           path, "top level", "expected an object with a 'data' list")
  for a, article in enumerate(data["data"]):
    for p, paragraph in enumerate(article.get("paragraphs") or [None]):
      where = f"data[{a}].paragraphs[{p}]"
      _require(isinstance(paragraph, dict) and
               isinstance(paragraph.get("context"), str) and
               isinstance(paragraph.get("qas"), list),
               path, where, "needs a 'context' string and a 'qas' list")
      for q, qa in enumerate(paragraph["qas"]):
        _check_question(qa, paragraph["context"], labelled, version_2, path,
                        f"{where}.qas[{q}]")
  return data["data"]


def _check_question(qa, context, labelled, version_2, path, where):
  _require(isinstance(qa, dict) and isinstance(qa.get("id"), str) and
           isinstance(qa.get("question"), str), path, where,
           "needs 'id' and 'question' strings")
  if not labelled:
    return
  impossible = qa.get("is_impossible", False)
  if version_2:
    _require(isinstance(qa.get("is_impossible"), bool), path, where,
             "SQuAD 2.0 needs 'is_impossible' (true or false)")
  answers = qa.get("answers")
  _require(isinstance(answers, list) and (answers or impossible), path, where,
           "needs a non-empty 'answers' list")
  for answer in answers:
    _require(isinstance(answer, dict) and isinstance(answer.get("text"), str)
             and isinstance(answer.get("answer_start"), int), path, where,
             "each answer needs 'text' and an integer 'answer_start'")
    start = answer["answer_start"]
    _require(context[start:start + len(answer["text"])] == answer["text"],
             path, where, f"answer {answer['text']!r} is not at character "
             f"{start} of the context")


class QuestionAnsweringTask:
  """SQuAD train / dev (/ test) files; dev is scored with the official rules."""

  def __init__(self, files: Dict[str, Sequence[str]], tokenizer,
               config: FinetuneConfig, version_2: bool = True):
    self.files, self.config, self.version_2 = files, config, version_2
    self.num_train_epochs = config.num_train_epochs or 2
    self.do_lower_case = tokenizer.basic_tokenizer.do_lower_case
    self._data, self._examples, self._features = {}, {}, {}
    for split, paths in files.items():
      for path in paths:
        labelled = split != "test"
        self._data[path] = read_squad_json(path, labelled, version_2)
        examples = squad_lib.read_squad_examples(
            path, is_training=split == "train",
            version_2_with_negative=version_2)
        features = []
        squad_lib.convert_examples_to_features(
            examples, tokenizer, config.max_seq_length, config.doc_stride,
            config.max_query_length, is_training=split == "train",
            output_fn=lambda feature, is_padding=False: features.append(
                feature), batch_size=1)
        self._examples[path], self._features[path] = examples, features

  @staticmethod
  def _inputs(features) -> Dict[str, np.ndarray]:
    return dict(
        input_word_ids=np.array([f.input_ids for f in features], np.int32),
        input_mask=np.array([f.input_mask for f in features], np.int32),
        input_type_ids=np.array([f.segment_ids for f in features], np.int32))

  def train_data(self):
    features = self._features[self.files["train"][0]]
    positions = dict(
        start_logits=np.array([f.start_position for f in features], np.int32),
        end_logits=np.array([f.end_position for f in features], np.int32))
    return self._inputs(features), positions

  def build_model(self, network) -> tf_keras.Model:
    return models.ElectraSpanLabeler(
        network, initializer=tf_keras.initializers.TruncatedNormal(
            stddev=0.02))

  @property
  def loss(self):
    # Keras adds the two; halving each gives BERT's mean of start and end.
    def half_crossentropy(positions, logits):
      return 0.5 * tf_keras.losses.sparse_categorical_crossentropy(
          positions, logits, from_logits=True)
    return dict(start_logits=half_crossentropy, end_logits=half_crossentropy)

  def _postprocess(self, model, path):
    features = self._features[path]
    outputs = model.predict(self._inputs(features),
                            batch_size=self.config.batch_size, verbose=0)
    results = [RawResult(f.unique_id, start, end) for f, start, end in zip(
        features, outputs["start_logits"], outputs["end_logits"])]
    return squad_lib.postprocess_output(
        self._examples[path], features, results, self.config.n_best_size,
        self.config.max_answer_length, self.do_lower_case,
        version_2_with_negative=self.version_2,
        null_score_diff_threshold=self.config.null_score_diff_threshold)

  def evaluate(self, model) -> Dict[str, Dict[str, float]]:
    results = {}
    for path in self.files.get("dev", ()):
      predictions, _, null_odds = self._postprocess(model, path)
      if self.version_2:
        scores = squad_evaluate_v2_0.evaluate(self._data[path], predictions,
                                              null_odds)
      else:
        # Model Garden's port returns fractions, one key renamed; report
        # them as the official v1.1 script does.
        fractions = squad_evaluate_v1_1.evaluate(self._data[path], predictions)
        scores = dict(exact_match=100 * fractions["exact_match"],
                      f1=100 * fractions["final_f1"])
      name = os.path.splitext(os.path.basename(path))[0]
      results[name] = {k: float(v) for k, v in scores.items()}
    return results

  def write_predictions(self, model, output_dir) -> List[str]:
    """predictions.json (id -> answer, "" for none), n-best and null odds."""
    written = []
    for split in ("dev", "test"):
      for path in self.files.get(split, ()):
        stem = os.path.splitext(os.path.basename(path))[0]
        predictions, nbest, null_odds = self._postprocess(model, path)
        outputs = dict(predictions=predictions, nbest_predictions=nbest)
        if self.version_2:
          outputs["null_odds"] = null_odds
        for kind, records in outputs.items():
          out = os.path.join(output_dir, f"{stem}_{kind}.json")
          with open(out, "w", encoding="utf-8") as f:
            json.dump(records, f, indent=2, default=float)  # numpy scalars
          written.append(out)
    return written
