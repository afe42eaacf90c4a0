"""Bad inputs a user can give, each refused in one line that names it.

The command-line cases run every binary as a user would: status 1, an
`error:` (or absl's flag-parsing) line naming what is wrong, no traceback.
Cases tested where their feature lives: a second writer on a run directory
(test_run_lock.py), --noresume over checkpoints (test_run_pretraining.py), a
config that does not fit a checkpoint (test_checkpoint_fit.py), wrong types,
ranges and unknown keys in configs (test_configs.py), byte-order marks in
table files and text (test_finetuning.py, test_text_examples.py), bad
vocabularies read by the tokenizer (test_tokenization.py).
"""

import concurrent.futures
import os
import subprocess
import sys

import numpy as np
import pytest

from electra_tf import paths
from electra_tf import run_lock
from electra_tf.convert import weight_files
from electra_tf.data import tagging_data
from export import export_tfhub_lib

from conftest import REPO

SST = os.path.join(REPO, "tests", "data", "movie_reviews", "sst")
TEXT = os.path.join(REPO, "data", "sotu_1940_2021.txt")
VOCAB = os.path.join(REPO, "data", "vocab_uncased.txt")

# (binary and flags, what stderr must say); {tmp} is the test's directory.
CASES = [
    (["electra_tf.run_pretraining", "--params_override=train.learnin_rate=1"],
     "error: --params_override: unknown config key train.learnin_rate; did "
     "you mean train.learning_rate?"),
    (["electra_tf.convert.convert_checkpoint", "--config=tiny",
      "--tf1_checkpoint=/nonexistent/model.ckpt", "--output_dir={tmp}/never"],
     "error: No TF checkpoint at /nonexistent/model.ckpt"),
    (["electra_tf.run_finetuning", "--task=sst", f"--data_dir={SST}",
      "--hub_module=/nonexistent/module", "--output_dir={tmp}/never"],
     "error: --hub_module /nonexistent/module is not a SavedModel (no "
     "saved_model.pb), a transformers directory or a TF1 checkpoint"),
    # Glob characters: TensorFlow could never find the checkpoints again.
    (["electra_tf.run_pretraining", "--model_dir={tmp}/run[1]"],
     "--model_dir may not contain any of *?[]"),
    (["export.export_tfhub", f"--vocab_file={VOCAB}",
      "--checkpoint={tmp}/run", "--export_path={tmp}/hub*"],
     "--export_path may not contain any of *?[]"),
    (["electra_tf.data.build_pretraining_dataset", f"--input_files={TEXT}",
      f"--vocab_file={VOCAB}", "--output_dir={tmp}/out", "--num_processes=0"],
     "flag --num_processes=0: 0 is not a positive integer"),
    (["electra_tf.data.build_pretraining_dataset", f"--input_files={TEXT}",
      "--vocab_file={tmp}/binary.txt", "--output_dir={tmp}/out"],
     "error: vocabulary {tmp}/binary.txt is not UTF-8 text (byte 0"),
    # An output directory that cannot be made, found before any tokenizing.
    (["electra_tf.data.build_pretraining_dataset", f"--input_files={TEXT}",
      f"--vocab_file={VOCAB}", "--output_dir={tmp}/a_file/out"],
     "error: cannot write in {tmp}/a_file/out: {tmp}/a_file is not a "
     "directory"),
    (["electra_tf.run_finetuning", "--task=sst", f"--data_dir={SST}",
      "--config=tiny", "--vocab_file={tmp}/big_vocab.txt",
      "--output_dir={tmp}/never"],
     "error: vocabulary {tmp}/big_vocab.txt has 40000 tokens, more than the "
     "model's 30522 embeddings"),
    # Damaged files (more in test_damaged_files.py).
    (["electra_tf.convert.convert_checkpoint",
      "--hf_discriminator={tmp}/truncated_hf", "--output_dir={tmp}/never"],
     "error: transformers config {tmp}/truncated_hf/config.json is damaged or "
     "not JSON (Expecting property name enclosed in double quotes at line 1 "
     "column 23). It should hold the model's sizes"),
    (["electra_tf.run_finetuning", "--task=sst", f"--data_dir={SST}",
      "--hub_module={tmp}/damaged_hub", "--output_dir={tmp}/never"],
     "error: --hub_module {tmp}/damaged_hub does not load ("),
]


def _run(command, cwd, **env):
  # The binaries' own default, not one this process inherited or set.
  inherited = {key: value for key, value in os.environ.items()
               if key != "TF_CPP_MIN_LOG_LEVEL"}
  return subprocess.run(
      [sys.executable, "-m", *command], cwd=cwd,
      env=dict(inherited, PYTHONPATH=REPO, **env),
      capture_output=True, text=True, timeout=300, check=False)


def test_user_errors_are_one_line(tmp_path):
  (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
  (tmp_path / "a_file").write_text("not a directory")
  (tmp_path / "truncated_hf").mkdir()
  (tmp_path / "truncated_hf" / "config.json").write_text(
      '{"vocab_size": 30522, ')
  (tmp_path / "truncated_hf" / "model.safetensors").write_bytes(b"\0" * 64)
  (tmp_path / "damaged_hub").mkdir()
  (tmp_path / "damaged_hub" / "saved_model.pb").write_bytes(
      b"\x08\x01\x12\xff\xff\xff\xff\x0f")
  (tmp_path / "big_vocab.txt").write_text("\n".join(
      ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] +
      [f"word{i}" for i in range(40000 - 5)]) + "\n")
  cases = [([part.format(tmp=tmp_path) for part in command],
            message.format(tmp=tmp_path)) for command, message in CASES]
  # Two at a time: each run is mostly TensorFlow's import.
  with concurrent.futures.ThreadPoolExecutor(2) as pool:
    runs = list(pool.map(lambda case: _run(case[0], tmp_path), cases))
  for (command, message), run in zip(cases, runs):
    assert run.returncode == 1, (command, run.stderr[-2000:])
    assert message in run.stderr, (command, run.stderr[-2000:])
    # Quiet: nothing of the libraries' before our one line.
    assert run.stderr.startswith(("error: ", "FATAL Flags parsing error")), (
        command, run.stderr[-2000:])
    assert "Traceback" not in run.stderr, command
  assert not any(tmp_path.glob("never")) and not any(tmp_path.glob("out"))


def test_the_traceback_on_request(tmp_path):
  run = _run(CASES[0][0], tmp_path, ELECTRA_TF_TRACEBACK="1")
  assert run.returncode != 0 and "Traceback" in run.stderr


def test_a_file_named_like_a_glob_is_taken_as_named(tmp_path):
  (tmp_path / "data[1].txt").write_text("a")
  (tmp_path / "data1.txt").write_text("b")
  assert paths.matching_files(str(tmp_path / "data[1].txt")) == [
      str(tmp_path / "data[1].txt")]
  assert paths.matching_files(str(tmp_path / "data*.txt")) == [
      str(tmp_path / "data1.txt"), str(tmp_path / "data[1].txt")]


def test_unwritable_directory_is_named(tmp_path):
  (tmp_path / "a_file").write_text("")
  with pytest.raises(PermissionError, match=r"cannot write in .*a_file/sub"):
    paths.check_writable(str(tmp_path / "a_file" / "sub"))
  paths.check_writable(str(tmp_path / "new" / "deeper"))
  assert sorted(os.listdir(tmp_path)) == ["a_file"]  # nothing is created


def test_checkpoint_staging_left_by_a_kill_is_removed(tmp_path):
  for leftover in ("ckpt-3_temp", "checkpoints/ckpt-2_temp"):
    (tmp_path / leftover).mkdir(parents=True)
    (tmp_path / leftover / "part-00000-of-00001.index").write_text("")
  (tmp_path / "my_temp").mkdir()  # not TensorFlow's: kept
  with run_lock.hold(str(tmp_path)):
    assert sorted(p.name for p in tmp_path.rglob("*_temp")) == ["my_temp"]
    assert (tmp_path / "checkpoints").is_dir()


def test_export_staging_left_by_a_kill_is_removed(tmp_path):
  """A killed export's staging directory (its process gone) goes at the
  next export to that path; one whose process lives is left alone."""
  import socket  # pylint: disable=g-import-not-at-top
  owner = f".export-hub.{socket.gethostname()}."
  dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                        capture_output=True, text=True, check=True).stdout
  (tmp_path / f"{owner}{dead.strip()}.abc").mkdir()
  (tmp_path / f"{owner}{os.getpid()}.def").mkdir()
  with export_tfhub_lib.atomic_directory(str(tmp_path / "hub")) as staging:
    os.makedirs(staging)
  assert sorted(p.name for p in tmp_path.iterdir()) == [
      f"{owner}{os.getpid()}.def", "hub"]


def test_an_unknown_tag_is_cited_at_its_own_line(tmp_path):
  dev = tmp_path / "dev.txt"
  dev.write_text("Paris B-LOC\nis O\nnice B-ADJ\n\nRome B-LOC\n")
  sentences = tagging_data.read_conll(str(dev))
  with pytest.raises(ValueError, match=r"dev.txt:3: tags \['B-ADJ'\] are "
                     "not in the training tags"):
    tagging_data.check_tags(sentences, ("O", "B-LOC"), str(dev))


def test_truncated_safetensors_is_named(tmp_path):
  weight_files.write_hf_model(str(tmp_path / "hf"),
                              {"w": np.zeros((64, 64), np.float32)}, {})
  path = tmp_path / "hf" / "model.safetensors"
  # Written with the mode config.json gets, not safetensors' 0600.
  assert path.stat().st_mode & 0o777 == (
      tmp_path / "hf" / "config.json").stat().st_mode & 0o777
  path.write_bytes(path.read_bytes()[:1000])
  with pytest.raises(ValueError, match=r"model.safetensors is not a readable "
                     "safetensors file"):
    weight_files.read_weights(str(tmp_path / "hf"))
