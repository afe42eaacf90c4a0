"""Damaged files (truncated, corrupted, not what they should be), each refused
by name with the next step, nothing deleted or overwritten.

Command-line cases (a fine-tuning checkpoint, config.json, a Hub module) are
in test_bad_inputs.py and test_finetuning_checkpoints.py; vocabularies in
test_tokenization.py.
"""

import os
import shutil

import pytest
import tensorflow as tf

from electra_tf import checkpoint_fit
from electra_tf import configs
from electra_tf import file_readers
from electra_tf import finetuning
from electra_tf import run_lock
from electra_tf import run_pretraining
from electra_tf.convert import original_tf1
from electra_tf.convert import weight_files
from electra_tf.data import pretraining_dataset
from electra_tf.data import pretraining_records

from conftest import TEXT, VOCAB


def _truncate(path, keep=0.5):
  data = open(path, "rb").read()
  with open(path, "wb") as f:
    f.write(data[:int(len(data) * keep)])


def _flip_byte(path, at=0.5):
  data = bytearray(open(path, "rb").read())
  data[int(len(data) * at)] ^= 0xFF
  with open(path, "wb") as f:
    f.write(bytes(data))


def _contents(directory):
  """Every file but the run lock, which holds the last holder's name."""
  return {path: path.read_bytes() for path in directory.rglob("*")
          if path.is_file() and path.name != run_lock.LOCK_NAME}


def _pretrain(model_dir, steps, **kwargs):
  config = configs.load_experiment(
      "mini", f"train.num_train_steps={steps},train.batch_size=8")
  return run_pretraining.pretrain(
      config, VOCAB, model_dir=str(model_dir), checkpoint_every=2,
      log_every=2, steps_per_loop=2, evaluate=False, **kwargs)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
  """A 6-step run: checkpoints at steps 2, 4 and 6."""
  model_dir = tmp_path_factory.mktemp("run")
  _pretrain(model_dir, 6, train_text=TEXT)
  return model_dir


@pytest.mark.parametrize("damage", ["truncated data", "flipped data byte",
                                    "truncated index"])
def test_damaged_pretraining_checkpoint_is_named_and_kept(
    pretrained, tmp_path, capsys, damage):
  model_dir = tmp_path / "run"
  shutil.copytree(pretrained, model_dir)
  newest = model_dir / "ckpt-6"
  damaged_file = (f"{newest}.index" if damage == "truncated index" else
                  f"{newest}.data-00000-of-00001")
  (_truncate if "truncated" in damage else _flip_byte)(damaged_file)
  before = _contents(model_dir)

  with pytest.raises(checkpoint_fit.DamagedCheckpointError) as error:
    _pretrain(model_dir, 8, train_text=TEXT)
  message = str(error.value)
  assert message.startswith(f"checkpoint {newest} is damaged: {damaged_file}")
  assert (f"The newest sound checkpoint beside it is {model_dir / 'ckpt-4'}"
          in message)
  assert f"move {newest}.index and its .data files out of {model_dir}" in (
      message)
  assert _contents(model_dir) == before

  # Its way out: with the damaged files moved away, the run goes on from
  # the checkpoint before.
  aside = tmp_path / "aside"
  aside.mkdir()
  for path in model_dir.glob("ckpt-6.*"):
    path.rename(aside / path.name)
  capsys.readouterr()
  losses, _ = _pretrain(model_dir, 8, train_text=TEXT)
  assert f"resumed from {model_dir / 'ckpt-4'} at step 4" in (
      capsys.readouterr().out)
  assert [step for step, _ in losses] == [6, 8]


def test_damaged_tfrecords_are_named(tmp_path):
  documents = open(TEXT, encoding="utf-8").read().split("\n\n")[:8]
  halves = []
  for i, part in enumerate((documents[:len(documents) // 2],
                            documents[len(documents) // 2:])):
    halves.append(tmp_path / f"half{i}.txt")
    halves[-1].write_text("\n\n".join(part), encoding="utf-8")
  records = tmp_path / "records"
  files = sorted(pretraining_records.build(
      [str(path) for path in halves], VOCAB, str(records), max_seq_length=64))
  assert len(files) == 2
  _truncate(files[1], keep=0.7)
  pattern = str(records / "*")

  with pytest.raises(file_readers.DamagedFileError,
                     match=f"TFRecord file {files[1]} is damaged"):
    pretraining_dataset.read_examples(pattern, 64)
  # Met while training: the run stops, its last checkpoint kept.
  model_dir = tmp_path / "run"
  with pytest.raises(file_readers.DamagedFileError) as error:
    _pretrain(model_dir, 100, train_data=pattern)
  assert str(error.value).startswith(f"TFRecord file {files[1]} is damaged")
  assert "rerun to resume from" in str(error.value) or (
      "Nothing was saved" in str(error.value))


def test_damaged_kept_and_released_checkpoints_are_named(pretrained,
                                                         tmp_path):
  shutil.copytree(pretrained, tmp_path / "run")
  newest = tmp_path / "run" / "ckpt-6"
  _truncate(f"{newest}.data-00000-of-00001")
  for read in (finetuning.kept_checkpoint,
               lambda path: original_tf1.read_checkpoint(path,
                                                         "discriminator")):
    with pytest.raises(checkpoint_fit.DamagedCheckpointError,
                       match=f"checkpoint {newest} is damaged"):
      read(str(newest))


@pytest.mark.parametrize("text, problem", [
    ('{"vocab_size": 30522, "hidden_', "not JSON (Unterminated string"),
    ('{"vocab_size": ', "not JSON (Expecting value at line 1 column 16)"),
    ("[1, 2]", "not a JSON object (it holds a list)"),
])
def test_damaged_config_json_is_named(tmp_path, text, problem):
  (tmp_path / "config.json").write_text(text)
  with pytest.raises(file_readers.DamagedFileError) as error:
    weight_files.read_hf_encoder_config(str(tmp_path))
  assert str(error.value).startswith(
      f"transformers config {tmp_path / 'config.json'} is damaged or "
      f"{problem}")


def test_damaged_experiment_yaml_is_named(tmp_path):
  path = tmp_path / "experiment.yaml"
  path.write_text("model:\n  discriminator:\n    hidden_size: [128\n")
  with pytest.raises(file_readers.DamagedFileError,
                     match=f"config {path} is damaged or not YAML .* at "
                     "line 4 column 1"):
    configs.load_experiment(str(path))
  path.write_bytes(b"model:\n  \xff\xfe\x00")
  with pytest.raises(file_readers.DamagedFileError,
                     match="not UTF-8 text"):
    configs.load_experiment(str(path))


def test_damaged_best_json_is_named(tmp_path):
  keeper = finetuning._EvaluateAndKeep(  # pylint: disable=protected-access
      None, str(tmp_path), tf.train.Checkpoint(), tf.Module())
  os.makedirs(tmp_path / "best")
  best = tmp_path / "best" / "best.json"
  for text in ('{"epoch": 2, "metric": "SST-2/accu', '{"epoch": 2}'):
    best.write_text(text)
    with pytest.raises(file_readers.DamagedFileError,
                       match=f"the best epoch's record {best} "):
      keeper._best_value()  # pylint: disable=protected-access
    assert best.read_text() == text
