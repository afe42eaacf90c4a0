"""Held-out evaluation: exact, repeatable, the same on any number of replicas,
and never on text the model trains on."""

import contextlib
import io
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from sklearn import metrics as sk_metrics

from electra_tf import builders
from electra_tf import configs
from electra_tf import evaluation
from electra_tf import losses
from electra_tf import run_pretraining
from electra_tf.data import text_examples

from conftest import TEXT, VOCAB


@pytest.fixture(scope="module")
def documents():
  return text_examples.read_documents(TEXT)[:3]


@pytest.fixture(scope="module")
def examples(documents):
  return text_examples.examples_from_documents(documents[2:], VOCAB, 64)


def _model(objective="electra", strategy=None):
  config = configs.load_experiment("tiny").model.replace(objective=objective)
  with (strategy or tf.distribute.get_strategy()).scope():
    tf_keras.utils.set_random_seed(0)
    return builders.build_pretrainer(config, seed=0)


def test_evaluation_is_exact_and_leaves_training_alone(examples):
  model = _model()
  evaluate = evaluation.make_evaluator(model, examples, batch_size=16, seed=5)
  state = model.rng.state.numpy()
  results = evaluate()
  assert results == evaluate()
  np.testing.assert_array_equal(model.rng.state.numpy(), state)

  # The same numbers from the model, batch by batch, with the seeds (5, i);
  # the last batch is filled up with padding, which must count nowhere. The
  # discriminator is scored on the generator's and on uniform replacements.
  totals = {"": {}, "random_": {}}
  scored = {"": ([], []), "random_": ([], [])}
  num_examples = len(examples["input_word_ids"])
  assert num_examples % 16
  for i, start in enumerate(range(0, num_examples, 16)):
    batch = {k: np.pad(v[start:start + 16],
                       [(0, max(0, start + 16 - num_examples)), (0, 0)])
             for k, v in examples.items()}
    real = batch["input_mask"] == 1
    for prefix, uniform in (("", False), ("random_", True)):
      outputs = model(batch, training=False,
                      seed=tf.constant([5, i], tf.int64),
                      uniform_generator=uniform)
      for name, value in losses.pretraining_statistics(
          outputs, batch["input_mask"]).items():
        totals[prefix][name] = totals[prefix].get(name, 0.0) + float(value)
      scored[prefix][0].append(outputs["disc_label"].numpy()[real])
      scored[prefix][1].append(outputs["disc_logits"].numpy()[real])
  expected = {k: float(v) for k, v in
              losses.metrics_from_statistics(totals[""]).items()}
  expected["random_disc_gain"] = float(
      losses.metrics_from_statistics(totals["random_"])["disc_gain"])
  for prefix, (labels, logits) in scored.items():
    expected[prefix + "rtd_auc"] = sk_metrics.roc_auc_score(
        np.concatenate(labels), np.concatenate(logits))
  assert results.keys() == expected.keys()
  for name, value in expected.items():
    assert results[name] == pytest.approx(value, rel=1e-5), name
  # Uniform replacements are other masks' draws than the generator's, at the
  # same positions: as many replaced, hardly ever the original token.
  assert results["random_rtd_auc"] != results["rtd_auc"]
  assert totals["random_"]["num_replaced"] == pytest.approx(
      totals[""]["num_masked"], rel=0.01)
  # Most of the masked quarter (rounded per row) is replaced by an untrained
  # generator.
  assert 0.2 < results["replaced_fraction"] < 0.26
  assert results["rtd_precision"] <= 1.0 and results["rtd_recall"] <= 1.0


def test_two_replicas_give_the_one_device_numbers(examples, mirrored):
  one = _model()
  two = _model(strategy=mirrored)
  two.set_weights(one.get_weights())
  single = evaluation.make_evaluator(one, examples, batch_size=8)()
  # 2 replicas x 8 rows a step: each replica takes whole seeded batches.
  double = evaluation.make_evaluator(two, examples, mirrored, batch_size=8)()
  for name, value in single.items():
    assert double[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name


def test_random_replacements_score_the_discriminator_alone(examples):
  # Fixed uniform replacements do not depend on the generator: other
  # generator weights change the scores on its fakes, not on random ones.
  model = _model()
  evaluate = evaluation.make_evaluator(model, examples, seed=3)
  before = evaluate()
  for variable in model.trainable_variables:
    if variable.name.startswith("generator"):  # not the shared embeddings
      variable.assign(variable + tf.random.normal(variable.shape, stddev=0.1))
  after = evaluate()
  assert after["rtd_auc"] != before["rtd_auc"]
  assert after["mlm_loss"] != before["mlm_loss"]
  for name in ("random_rtd_auc", "random_disc_gain"):
    assert after[name] == before[name], name


@pytest.mark.parametrize("gains, verdict", [
    ([0.02, 0.2, 0.35], "discriminator learning at step 750"),
    ([0.3, 0.12, 0.01], "discriminator stuck at the base rate at step 750: "
                        "it beat it by 0.300 at step 250"),
    ([-0.1, 0.05, 0.01], "discriminator never trained past the base rate "
                         "(by step 750)"),
])
def test_the_verdict_tells_learning_stuck_and_never_trained(gains, verdict):
  evaluations = [
      (250 * (i + 1), dict(disc_gain=gain, disc_loss=0.5, rtd_auc=0.6,
                           random_rtd_auc=0.7, mlm_accuracy=0.1 * (i + 1),
                           replaced_fraction=0.24))
      for i, gain in enumerate(gains)]
  line = evaluation.discriminator_verdict(evaluations)
  assert line.startswith(verdict)
  # The numbers it rests on, the base rate's loss among them: H(0.24).
  assert "0.551 for guessing 24% replaced" in line
  assert "AUC 0.600 on the generator's fakes and 0.700 on random ones" in line
  assert line.endswith("generator MLM accuracy 0.100 -> 0.300 (rising)")


def test_masked_lm_model_gets_the_masked_lm_metrics(examples):
  results = evaluation.make_evaluator(_model("mlm"), examples)()
  assert set(results) == {"mlm_loss", "mlm_accuracy"}
  # An untrained model: about log(vocabulary size) nats a token.
  assert results["mlm_loss"] == pytest.approx(np.log(30522), rel=0.05)


def test_held_out_documents_are_never_trained_on(tmp_path):
  all_documents = text_examples.read_documents(TEXT)
  training, held_out = text_examples.hold_out_documents(all_documents)
  assert len(held_out) == 4 and len(training) == 80
  assert all(d in all_documents[19::20] for d in held_out)
  assert not {tuple(d) for d in held_out} & {tuple(d) for d in training}

  # run_pretraining trains on the rest only.
  text = tmp_path / "text.txt"
  text.write_text("\n\n".join("\n".join(d) for d in all_documents[:25]),
                  encoding="utf-8")
  config = configs.load_experiment("tiny", "train.num_train_steps=2")
  printed = io.StringIO()
  with contextlib.redirect_stdout(printed):
    _, evaluations = run_pretraining.pretrain(config, VOCAB,
                                              train_text=str(text))
  count = lambda docs: len(text_examples.examples_from_documents(  # noqa: E731
      docs, VOCAB, 64)["input_word_ids"])
  trained = int(re.search(r"training on (\d+) examples",
                          printed.getvalue()).group(1))
  evaluated = int(re.search(r"evaluating on (\d+) examples",
                            printed.getvalue()).group(1))
  assert evaluated == count([all_documents[19]])
  assert trained == count(all_documents[:19] + all_documents[20:25])
  # A fresh run is scored before its first step and at its end.
  assert [step for step, _ in evaluations] == [0, 2]


def _write(path, documents):
  path.write_text("\n\n".join("\n".join(d) for d in documents),
                  encoding="utf-8")
  return str(path)


@pytest.mark.parametrize("case, error, message", [
    ("missing", FileNotFoundError, "Text file not found: .*nowhere.txt"),
    ("empty", ValueError, "empty.txt holds no text"),
    ("overlapping", ValueError,
     r"overlaps the training text: \d+ of its \d+ lines"),
    ("both", ValueError, "--eval_text or --eval_data, not both"),
])
def test_bad_held_out_text_is_reported(documents, tmp_path, case, error,
                                       message):
  train_text = _write(tmp_path / "train.txt", documents[:2])
  eval_text, eval_data = dict(
      missing=(str(tmp_path / "nowhere.txt"), None),
      empty=(str(tmp_path / "empty.txt"), None),
      overlapping=(_write(tmp_path / "eval.txt", documents[1:3]), None),
      both=(train_text, str(tmp_path / "*.tfrecord")))[case]
  (tmp_path / "empty.txt").write_text("\n\n \n", encoding="utf-8")
  config = configs.load_experiment("tiny", "train.num_train_steps=1")
  with pytest.raises(error, match=message):
    run_pretraining.pretrain(config, VOCAB, train_text=train_text,
                             eval_text=eval_text, eval_data=eval_data)


def test_a_single_document_cannot_be_split():
  with pytest.raises(ValueError, match="give a held-out file"):
    text_examples.hold_out_documents([["one line"]])


def test_eval_records_must_not_be_training_records(tmp_path):
  (tmp_path / "shard.tfrecord").write_bytes(b"")
  config = configs.load_experiment("tiny", "train.num_train_steps=1")
  pattern = os.path.join(tmp_path, "*.tfrecord")
  with pytest.raises(ValueError, match="matches files of --train_data"):
    run_pretraining.pretrain(config, VOCAB, train_data=pattern,
                             eval_data=pattern)


def test_eval_records_of_another_length_are_named(tmp_path):
  path = str(tmp_path / "eval.tfrecord")
  feature = lambda values: tf.train.Feature(  # noqa: E731
      int64_list=tf.train.Int64List(value=values))
  with tf.io.TFRecordWriter(path) as writer:
    writer.write(tf.train.Example(features=tf.train.Features(feature={
        name: feature([1] * 16) for name in
        ("input_ids", "input_mask", "segment_ids")})).SerializeToString())
  config = configs.load_experiment("tiny", "train.num_train_steps=1")
  with pytest.raises(ValueError, match=r"records of .*eval.tfrecord are not "
                     "pretraining examples of 64 tokens"):
    run_pretraining.pretrain(config, VOCAB, train_text=TEXT, eval_data=path)
