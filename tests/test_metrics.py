"""Metrics against scikit-learn, SciPy and seqeval (installed with tf-models)."""

import numpy as np
import pytest
from scipy import stats
from seqeval import metrics as seqeval_metrics
from sklearn import metrics as sk_metrics

from electra_tf import metrics
from electra_tf.tasks import question_answering


@pytest.mark.parametrize("seed,num_classes", [(0, 2), (1, 2), (2, 3), (3, 5)])
def test_classification_metrics_match_sklearn(seed, num_classes):
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, num_classes, 200)
  # Correlated with the labels, so the scores are far from 0.
  predictions = np.where(rng.random(200) < 0.7, labels,
                         rng.integers(0, num_classes, 200))
  assert metrics.accuracy(labels, predictions) == pytest.approx(
      sk_metrics.accuracy_score(labels, predictions))
  assert metrics.matthews_corrcoef(labels, predictions) == pytest.approx(
      sk_metrics.matthews_corrcoef(labels, predictions), abs=1e-12)
  if num_classes == 2:
    assert metrics.f1(labels, predictions) == pytest.approx(
        sk_metrics.f1_score(labels, predictions))


def test_degenerate_cases_are_zero_not_nan():
  assert metrics.matthews_corrcoef([1, 1, 1], [1, 1, 1]) == 0.0
  assert metrics.f1([0, 0], [0, 0]) == 0.0
  assert metrics.pearson([1, 2, 3], [5, 5, 5]) == 0.0
  assert metrics.matthews_corrcoef([0, 1, 0, 1], [1, 0, 1, 0]) == -1.0


def test_correlations_match_scipy_with_ties():
  rng = np.random.default_rng(0)
  labels = np.round(rng.random(300) * 5, 1)  # STS-B style scores with ties
  predictions = labels + rng.normal(0, 1.5, 300)
  predictions[:40] = np.round(predictions[:40])
  assert metrics.pearson(labels, predictions) == pytest.approx(
      stats.pearsonr(labels, predictions)[0], abs=1e-12)
  assert metrics.spearman(labels, predictions) == pytest.approx(
      stats.spearmanr(labels, predictions)[0], abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_roc_auc_matches_sklearn_with_ties(seed):
  rng = np.random.default_rng(seed)
  labels = rng.random(500) < 0.15  # replaced tokens are the rarer class
  scores = labels * 1.0 + rng.normal(0, 1, 500)
  scores[:100] = np.round(scores[:100])
  assert metrics.roc_auc(labels, scores) == pytest.approx(
      sk_metrics.roc_auc_score(labels, scores), abs=1e-12)
  assert metrics.roc_auc(labels, -scores) == pytest.approx(
      1 - sk_metrics.roc_auc_score(labels, scores), abs=1e-12)
  assert metrics.roc_auc([0, 0, 0], [1.0, 2.0, 3.0]) == 0.5


def test_spans_follow_conlleval_rules():
  tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG", "O",
          "S-MISC", "B-PER", "E-PER"]
  assert metrics.get_spans(tags) == {
      ("PER", 0, 2), ("LOC", 3, 5), ("LOC", 5, 6), ("ORG", 6, 7),
      ("MISC", 8, 9), ("PER", 9, 11)}


@pytest.mark.parametrize("seed", range(4))
def test_span_f1_matches_seqeval(seed):
  rng = np.random.default_rng(seed)
  tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]
  gold = [list(rng.choice(tags, rng.integers(1, 15))) for _ in range(50)]
  predicted = [[t if rng.random() < 0.8 else str(rng.choice(tags)) for t in g]
               for g in gold]
  assert metrics.span_f1(gold, predicted) == pytest.approx(
      seqeval_metrics.f1_score(gold, predicted), abs=1e-12)
  assert metrics.span_f1(gold, gold) == 1.0


def test_squad_scoring_follows_the_official_rules():
  """Model Garden's port of the official SQuAD 2.0 script, on hand-made cases."""
  from official.nlp.tools import squad_evaluate_v2_0  # pylint: disable=g-import-not-at-top
  dataset = [{"paragraphs": [{"qas": [
      {"id": "a", "answers": [{"text": "The Eiffel Tower"}]},
      {"id": "b", "answers": [{"text": "in 1889"}, {"text": "1889"}]},
      {"id": "c", "answers": [{"text": "Gustave Eiffel's company"}]},
      {"id": "d", "answers": []},
  ]}]}]
  predictions = {"a": "eiffel tower!", "b": "1889", "c": "company of Eiffel",
                 "d": ""}
  scores = squad_evaluate_v2_0.evaluate(dataset, predictions)
  # a: articles, case, punctuation ignored; b: best of the gold answers;
  # c: tokens {company, of, eiffel} vs {gustave, eiffels, company}: one shared,
  # P = R = 1/3, F1 = 1/3; d: unanswerable and left empty.
  assert scores["exact"] == pytest.approx(75.0)
  assert scores["f1"] == pytest.approx(100 * (3 + 1 / 3) / 4)
  assert scores["NoAns_exact"] == 100.0


def test_squad_v2_scores_are_the_predictions_and_sweep_the_best_spans():
  dataset = [{"paragraphs": [{"qas": [
      {"id": "a", "answers": [{"text": "x"}]},
      {"id": "b", "answers": [{"text": "y"}]},
      {"id": "c", "answers": []},
      {"id": "e", "answers": [{"text": "e"}]},
  ]}]}]
  nbest = {"a": [{"text": "x"}], "b": [{"text": ""}, {"text": "y"}],
           "c": [{"text": "w"}], "e": [{"text": "e"}]}
  null_scores = {"a": -3.0, "b": 2.0, "c": 2.5, "e": 1.2}
  # At threshold 1.8: b and c are left unanswered.
  predictions = {"a": "x", "b": "", "c": "", "e": "e"}
  scores = question_answering.score_v2(dataset, predictions, nbest,
                                       null_scores)
  # The official script would also count e (null score 1.2 > 1.0) unanswered.
  assert scores["exact"] == 75.0
  assert scores["HasAns_exact"] == pytest.approx(200 / 3)
  # Answering a, e and b with their best non-empty spans, c not: all right.
  assert scores["final_exact"] == 100.0
  assert scores["final_exact_thresh"] == 2.0
