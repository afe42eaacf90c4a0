"""Evaluation metrics of the fine-tuning tasks (GLUE and CoNLL conventions)
and the ROC AUC of pretraining's replaced-token detection.

Each function takes plain sequences or arrays and returns a float; scores are
fractions in [0, 1] (correlations in [-1, 1]). SQuAD is scored by Model
Garden's ports of the official scripts (`official.nlp.tools.squad_evaluate_*`).
"""

from typing import List, Sequence, Set, Tuple

import numpy as np


def accuracy(labels, predictions) -> float:
  labels, predictions = np.asarray(labels), np.asarray(predictions)
  return float(np.mean(labels == predictions)) if labels.size else 0.0


def f1(labels, predictions, positive=1) -> float:
  """F1 of the positive class (GLUE's MRPC and QQP); 0 when undefined."""
  labels = np.asarray(labels) == positive
  predictions = np.asarray(predictions) == positive
  true_positives = np.sum(labels & predictions)
  denominator = np.sum(labels) + np.sum(predictions)
  return float(2 * true_positives / denominator) if denominator else 0.0


def matthews_corrcoef(labels, predictions) -> float:
  """Matthews correlation for any number of classes (CoLA); 0 when undefined."""
  labels, predictions = np.asarray(labels), np.asarray(predictions)
  classes = np.union1d(labels, predictions)
  confusion = np.array([[np.sum((labels == a) & (predictions == b))
                         for b in classes] for a in classes], np.float64)
  total = confusion.sum()
  correct = np.trace(confusion)
  true_counts, predicted_counts = confusion.sum(1), confusion.sum(0)
  covariance = correct * total - true_counts @ predicted_counts
  scale = np.sqrt((total ** 2 - predicted_counts @ predicted_counts) *
                  (total ** 2 - true_counts @ true_counts))
  return float(covariance / scale) if scale else 0.0


def pearson(labels, predictions) -> float:
  labels = np.asarray(labels, np.float64)
  predictions = np.asarray(predictions, np.float64)
  labels, predictions = labels - labels.mean(), predictions - predictions.mean()
  scale = np.sqrt(np.sum(labels ** 2) * np.sum(predictions ** 2))
  return float(np.sum(labels * predictions) / scale) if scale else 0.0


def _average_ranks(values) -> np.ndarray:
  """1-based ranks, ties sharing their mean rank."""
  values = np.asarray(values, np.float64)
  order = np.argsort(values, kind="stable")
  ranks = np.empty(len(values))
  ranks[order] = np.arange(1, len(values) + 1)
  unique, inverse = np.unique(values, return_inverse=True)
  sums = np.bincount(inverse, weights=ranks, minlength=len(unique))
  return sums[inverse] / np.bincount(inverse)[inverse]


def roc_auc(labels, scores) -> float:
  """Area under the ROC curve of binary `labels` ranked by `scores`.

  The Mann-Whitney form: the chance that a random positive scores above a
  random negative, ties counting half. 0.5 when a class is absent.
  """
  labels = np.asarray(labels).astype(bool)
  num_positive = int(labels.sum())
  num_negative = labels.size - num_positive
  if not num_positive or not num_negative:
    return 0.5
  positive_ranks = _average_ranks(scores)[labels].sum()
  return float((positive_ranks - num_positive * (num_positive + 1) / 2) /
               (num_positive * num_negative))


def spearman(labels, predictions) -> float:
  return pearson(_average_ranks(labels), _average_ranks(predictions))


def get_spans(tags: Sequence[str]) -> Set[Tuple[str, int, int]]:
  """(type, start, end) chunks of a BIO (IOB2), IOB1 or BIOES tag sequence.

  A chunk starts at B-/S- or at an I-/E- whose type differs from the open
  chunk's (so IOB1 reads correctly), and ends before O, B-, S- or a type
  change, or after E-/S- — the rules of the CoNLL `conlleval` script.
  """
  spans, start, open_type = set(), None, None
  for i, tag in enumerate(list(tags) + ["O"]):
    prefix, _, chunk_type = tag.partition("-")
    if tag == "O" or not chunk_type:
      prefix, chunk_type = "O", None
    begins = (prefix in ("B", "S") or
              (prefix in ("I", "E") and chunk_type != open_type))
    if open_type is not None and (prefix == "O" or begins):
      spans.add((open_type, start, i))
      open_type = None
    if begins:
      start, open_type = i, chunk_type
    if prefix in ("E", "S") and open_type is not None:
      spans.add((open_type, start, i + 1))
      open_type = None
  return spans


def span_f1(gold_sequences: List[Sequence[str]],
            predicted_sequences: List[Sequence[str]]) -> float:
  """Micro-averaged chunk F1 over sentences (CoNLL chunking and NER)."""
  true_positives = gold_total = predicted_total = 0
  for gold, predicted in zip(gold_sequences, predicted_sequences):
    gold_spans, predicted_spans = get_spans(gold), get_spans(predicted)
    true_positives += len(gold_spans & predicted_spans)
    gold_total += len(gold_spans)
    predicted_total += len(predicted_spans)
  denominator = gold_total + predicted_total
  return 2 * true_positives / denominator if denominator else 0.0
