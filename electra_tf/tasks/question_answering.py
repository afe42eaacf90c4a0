"""SQuAD 1.1 and 2.0 span extraction, on Model Garden's SQuAD pipeline.

Windows of `max_seq_length` over the passage every `doc_stride` tokens,
questions cut to `max_query_length`, n-best span search with
`max_answer_length`. For 2.0 a question's null score is its most answerable
window's: the answerable classifier's no-answer logit (google-research/
electra's default), or without it [CLS]'s start + end logits minus the best
span's (BERT's rule). The answer is "" where the null score exceeds
`null_score_diff_threshold`. Scores are those of the official evaluation
scripts (percentages), for the answers as predicted; `final_*` (the official
script's `best_*`) are those of the best threshold over the null scores.
"""

import collections
import json
import os
from typing import Dict, List, Sequence

import numpy as np
import tensorflow as tf
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
    with open(path, encoding="utf-8-sig") as f:  # with or without a BOM
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


def score_v2(data, predictions, nbest, null_scores):
  """Official SQuAD 2.0 scores of `predictions` as they are, plus `final_*`
  (best threshold) and `pr_*` (precision-recall) from sweeping the threshold
  over `null_scores`, each question answered with its best non-empty span.

  Given null scores, the official script also counts every question scoring
  above 1.0 as unanswered; the headline scores leave them out, so that they
  are those of the predictions file whatever the threshold.
  """
  best_spans = {qas_id: next((entry["text"] for entry in entries
                              if entry["text"]), "")
                for qas_id, entries in nbest.items()}
  as_predicted = squad_evaluate_v2_0.evaluate(data, predictions)
  swept = squad_evaluate_v2_0.evaluate(data, best_spans, null_scores)
  return dict(swept, **{k: v for k, v in as_predicted.items()
                        if not k.startswith(("final_", "pr_"))})


class QuestionAnsweringTask:
  """SQuAD train / dev (/ test) files; dev is scored with the official rules."""

  def __init__(self, files: Dict[str, Sequence[str]], tokenizer,
               config: FinetuneConfig, version_2: bool = True):
    # Only SQuAD reads max_query_length, so only SQuAD checks it.
    if config.max_query_length >= config.max_seq_length - 3:
      raise ValueError(
          f"finetune.max_query_length ({config.max_query_length}) leaves no "
          "room for the passage in finetune.max_seq_length "
          f"({config.max_seq_length}) beside [CLS] and two [SEP]s; set "
          f"max_query_length below {config.max_seq_length - 3} (e.g. "
          f"{config.max_seq_length // 2}) or raise max_seq_length")
    self.files, self.config, self.version_2 = files, config, version_2
    self.num_train_epochs = config.num_train_epochs or 2
    self.do_lower_case = tokenizer.basic_tokenizer.do_lower_case
    self._data, self._examples, self._features = {}, {}, {}
    self._outputs, self._outputs_of = {}, None
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

  @property
  def _answerable_classifier(self):
    return self.version_2 and self.config.answerable_classifier

  def train_data(self):
    features = self._features[self.files["train"][0]]
    labels = dict(
        start_logits=np.array([f.start_position for f in features], np.int32),
        end_logits=np.array([f.end_position for f in features], np.int32))
    if self._answerable_classifier:
      # Per window: one whose passage slice lacks the answer has none.
      labels["null_logits"] = np.array([f.is_impossible for f in features],
                                       np.float32)
    return self._inputs(features), labels

  def build_model(self, network) -> tf_keras.Model:
    return models.ElectraSpanLabeler(
        network, initializer=tf_keras.initializers.TruncatedNormal(
            stddev=0.02), answerable_classifier=self._answerable_classifier)

  @property
  def loss(self):
    # Keras adds the losses; halving each gives BERT's mean of start and end.
    def half_crossentropy(positions, logits):
      return 0.5 * tf_keras.losses.sparse_categorical_crossentropy(
          positions, logits, from_logits=True)
    losses = dict(start_logits=half_crossentropy, end_logits=half_crossentropy)
    if self._answerable_classifier:
      weight = self.config.answerable_weight
      def weighted_sigmoid_crossentropy(no_answer, logits):
        return weight * tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.cast(no_answer, logits.dtype), logits=logits)
      losses["null_logits"] = weighted_sigmoid_crossentropy
    return losses

  def _postprocess(self, model, path):
    """Answers, n-best lists and null scores by question id.

    Kept for the model's current training step: `finetune` scores dev after
    the last epoch and then writes the same predictions.
    """
    step = getattr(getattr(model, "optimizer", None), "iterations", None)
    if step is None:
      return self._predict(model, path)
    if self._outputs_of != (id(model), int(step)):
      self._outputs, self._outputs_of = {}, (id(model), int(step))
    if path not in self._outputs:
      self._outputs[path] = self._predict(model, path)
    return self._outputs[path]

  def _predict(self, model, path):
    features = self._features[path]
    outputs = model.predict(self._inputs(features),
                            batch_size=self.config.batch_size, verbose=0)
    results = [RawResult(f.unique_id, start, end) for f, start, end in zip(
        features, outputs["start_logits"], outputs["end_logits"])]
    predictions, nbest, null_scores = squad_lib.postprocess_output(
        self._examples[path], features, results, self.config.n_best_size,
        self.config.max_answer_length, self.do_lower_case,
        version_2_with_negative=self.version_2 and
        not self._answerable_classifier,
        null_score_diff_threshold=self.config.null_score_diff_threshold)
    if self._answerable_classifier:
      null_scores = self._classifier_null_scores(path, outputs["null_logits"])
      for qas_id, score in null_scores.items():
        if score > self.config.null_score_diff_threshold:
          predictions[qas_id] = ""
    return predictions, nbest, null_scores

  def _classifier_null_scores(self, path, null_logits):
    """Each question's lowest no-answer logit over its windows."""
    lowest = collections.defaultdict(lambda: np.inf)
    for feature, logit in zip(self._features[path], null_logits):
      lowest[feature.example_index] = min(lowest[feature.example_index],
                                          float(logit))
    return collections.OrderedDict(
        (example.qas_id, lowest[i])
        for i, example in enumerate(self._examples[path]))

  def evaluate(self, model) -> Dict[str, Dict[str, float]]:
    results = {}
    for path in self.files.get("dev", ()):
      predictions, nbest, null_scores = self._postprocess(model, path)
      if self.version_2:
        scores = score_v2(self._data[path], predictions, nbest, null_scores)
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
        predictions, nbest, null_scores = self._postprocess(model, path)
        outputs = dict(predictions=predictions, nbest_predictions=nbest)
        if self.version_2:
          outputs["null_odds"] = null_scores
        for kind, records in outputs.items():
          out = os.path.join(output_dir, f"{stem}_{kind}.json")
          with open(out, "w", encoding="utf-8") as f:
            json.dump(records, f, indent=2, default=float)  # numpy scalars
          written.append(out)
    return written
