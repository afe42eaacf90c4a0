"""Raw text -> TFRecords in the original ELECTRA format, and reading them back."""

import os

import numpy as np
import pytest
import tensorflow as tf

from electra_tf import builders
from electra_tf import configs
from electra_tf import losses as losses_lib
from electra_tf import run_pretraining
from electra_tf.data import pretraining_records as builder
from electra_tf.data import pretraining_dataset

from conftest import TEXT, VOCAB


@pytest.fixture(scope="module")
def text_files(tmp_path_factory):
  """The shipped text split into three files of whole documents."""
  root = tmp_path_factory.mktemp("text")
  documents = open(TEXT, encoding="utf-8").read().split("\n\n")[:24]
  paths = []
  for i in range(3):
    path = root / f"part{i}.txt"
    path.write_text("\n\n".join(documents[i::3]), encoding="utf-8")
    paths.append(str(path))
  return paths




def test_shards_are_deterministic_and_well_formed(text_files, tmp_path):
  one = builder.build(text_files, VOCAB, str(tmp_path / "one"), 128,
                      num_processes=1, seed=3)
  two = builder.build(text_files, VOCAB, str(tmp_path / "two"), 128,
                      num_processes=2, seed=3)
  assert len(one) == 3 and not any(p.endswith(".incomplete")
                                   for p in os.listdir(tmp_path / "one"))
  for a, b in zip(one, two):
    assert open(a, "rb").read() == open(b, "rb").read()
  other = builder.build(text_files, VOCAB, str(tmp_path / "other"), 128,
                        seed=4)
  assert open(one[0], "rb").read() != open(other[0], "rb").read()

  batch = next(iter(pretraining_dataset.make_dataset(
      str(tmp_path / "one" / "*"), 1000, 128, seed=0)))
  ids = batch["input_word_ids"].numpy()
  mask = batch["input_mask"].numpy()
  types = batch["input_type_ids"].numpy()
  lengths = mask.sum(1)
  assert (ids[:, 0] == 101).all()
  assert (ids[np.arange(len(ids)), lengths - 1] == 102).all()
  assert not ids[mask == 0].any() and not types[mask == 0].any()
  # Segment ids are 0s then 1s; about 10% of examples have one segment.
  assert (np.diff(types, axis=1)[mask[:, 1:] == 1] >= 0).all()
  single = (types.sum(1) == 0).mean()
  assert 0.05 < single < 0.25
  assert (lengths == 128).mean() > 0.8


def test_bad_inputs_leave_nothing(tmp_path):
  bad = tmp_path / "bad.txt"
  bad.write_bytes(b"fine line\n\xc3\x28 broken\n")
  empty = tmp_path / "empty.txt"
  empty.write_text("\n\n")
  out = tmp_path / "out"
  with pytest.raises(ValueError, match="bad.txt is not valid UTF-8"):
    builder.build([str(bad)], VOCAB, str(out))
  with pytest.raises(ValueError, match="empty.txt holds no text"):
    builder.build([str(empty)], VOCAB, str(out))
  with pytest.raises(FileNotFoundError, match="no_vocab"):
    builder.build([TEXT], str(tmp_path / "no_vocab.txt"), str(out))
  with pytest.raises(FileNotFoundError, match="missing.txt"):
    builder.build([str(tmp_path / "missing.txt")], VOCAB, str(out))
  assert not out.exists()


def test_bert_static_masked_records(tmp_path):
  path = str(tmp_path / "bert.tfrecord")
  ids = [101] + list(range(2000, 2010)) + [102] + [0] * 4
  masked = list(ids)
  masked[3] = 103
  feature = lambda values: tf.train.Feature(
      int64_list=tf.train.Int64List(value=values))
  with tf.io.TFRecordWriter(path) as writer:
    for _ in range(4):
      writer.write(tf.train.Example(features=tf.train.Features(feature=dict(
          input_ids=feature(masked), input_mask=feature([int(i > 0) for i in ids]),
          segment_ids=feature([0] * 16),
          masked_lm_positions=feature([3, 0]),
          masked_lm_ids=feature([ids[3], 0]),
          masked_lm_weights=tf.train.Feature(
              float_list=tf.train.FloatList(value=[1.0, 0.0])),
          next_sentence_labels=feature([0])))).SerializeToString())
  batch = next(iter(pretraining_dataset.make_dataset(
      path, 2, 16, seed=0, max_predictions=2, static_masks=True)))
  assert batch["masked_lm_positions"].numpy().tolist() == [[3, 0]] * 2
  config = configs.load_experiment("tiny").model.replace(
      max_predictions_per_seq=2)
  out = builders.build_pretrainer(config, seed=0)(batch)
  assert out["lm_outputs"].shape == (2, 2, 30522)
  disc_ids = out["disc_input_ids"].numpy()
  assert (np.delete(disc_ids, 3, axis=1) == np.delete(
      np.array([ids] * 2), 3, axis=1)).all()


def test_pretraining_from_records_learns(text_files, tmp_path):
  """Shipped text -> records -> 300 steps: the loss falls and the
  discriminator beats calling every token original."""
  builder.build(text_files, VOCAB, str(tmp_path / "data"), 64, seed=0)
  config = configs.load_experiment(
      "mini", "train.num_train_steps=300,train.seq_length=64")
  records = str(tmp_path / "data" / "*")
  losses, _ = run_pretraining.pretrain(
      config, VOCAB, train_data=records, model_dir=str(tmp_path / "run"),
      log_every=50, steps_per_loop=50)
  # (step, mean loss) of each loop of 50 steps.
  assert losses[-1][1] < 0.7 * losses[0][1]

  model = builders.restore_pretrainer(config.model, str(tmp_path / "run"))
  accuracy, baseline = [], []
  batches = pretraining_dataset.make_dataset(records, 32, 64, seed=1).take(8)
  for batch in batches:
    _, metrics = losses_lib.pretraining_loss_and_metrics(
        model(batch, training=False), batch["input_mask"])
    accuracy.append(float(metrics["rtd_accuracy"]))
    baseline.append(1 - float(metrics["replaced_fraction"]))
  assert np.mean(accuracy) > np.mean(baseline) + 0.02
