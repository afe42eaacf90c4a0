"""run_finetuning keeps its model: resumable checkpoints, the best epoch, and
evaluation of a kept model."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401  registers the serving export's ops

from conftest import REPO

SST = os.path.join(REPO, "tests", "data", "movie_reviews", "sst")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  """320 training and 100 dev sentences: 20 steps an epoch."""
  directory = tmp_path_factory.mktemp("sst")
  for name, lines in (("train.tsv", 321), ("dev.tsv", 101)):
    with open(os.path.join(SST, name), encoding="utf-8") as f:
      head = [next(f) for _ in range(lines)]
    (directory / name).write_text("".join(head), encoding="utf-8")
  return directory


def _command(files, output_dir, *flags):
  return [sys.executable, "-m", "electra_tf.run_finetuning", "--task=sst",
          f"--train_file={files / 'train.tsv'}",
          f"--dev_file={files / 'dev.tsv'}", "--config=mini",
          f"--output_dir={output_dir}",
          "--params_override=finetune.num_train_epochs=3", *flags]


def _run(command):
  run = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                       timeout=600, check=False)
  assert run.returncode == 0, run.stderr[-3000:]
  # Quiet: no library's warnings (e.g. of saved values a restore left).
  assert "WARNING" not in run.stderr and "Value in checkpoint" not in (
      run.stderr), run.stderr[-3000:]
  return run.stdout


def _model_variables(output_dir):
  reader = tf.train.load_checkpoint(
      tf.train.latest_checkpoint(os.path.join(output_dir, "checkpoints")))
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name.startswith("model/")}


@pytest.fixture(scope="module")
def finished(files, tmp_path_factory):
  """An uninterrupted run: its output directory and stdout."""
  output_dir = tmp_path_factory.mktemp("finished")
  return output_dir, _run(_command(files, output_dir))


def test_killed_fine_tuning_resumes_to_identical_weights(files, finished,
                                                         tmp_path):
  whole, killed = finished[0], tmp_path / "killed"
  process = subprocess.Popen(_command(files, killed), cwd=REPO,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  first_epoch = killed / "checkpoints" / "ckpt-1.index"
  deadline = time.time() + 300
  while not first_epoch.exists() and time.time() < deadline:
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  assert process.wait() == -signal.SIGKILL, "finished before it was killed"

  stdout = _run(_command(files, killed))
  assert "resumed from" in stdout and "after epoch" in stdout
  expected, resumed = _model_variables(whole), _model_variables(killed)
  assert expected.keys() == resumed.keys() and len(expected) > 20
  for name, value in expected.items():
    np.testing.assert_array_equal(value, resumed[name], err_msg=name)
  assert (json.loads((whole / "eval_results.json").read_text()) ==
          json.loads((killed / "eval_results.json").read_text()))

  # A finished run rerun trains no more.
  assert "resumed from" in _run(_command(files, whole))
  np.testing.assert_array_equal(
      _model_variables(whole)["model/classifier/out_proj/kernel/"
                              ".ATTRIBUTES/VARIABLE_VALUE"],
      expected["model/classifier/out_proj/kernel/.ATTRIBUTES/VARIABLE_VALUE"])


def test_best_epoch_is_kept_evaluates_and_exports_alone(files, finished,
                                                       tmp_path):
  output_dir, stdout = finished
  scores = [json.loads(line.split(": ", 1)[1])["SST-2"]["accuracy"]
            for line in stdout.splitlines() if line.startswith("epoch ")]
  best = json.loads((output_dir / "best" / "best.json").read_text())
  assert len(scores) == 3
  assert best["metric"] == "SST-2/accuracy"
  assert best["value"] == max(scores)
  assert best["epoch"] == scores.index(max(scores)) + 1

  # --nodo_train scores the best model again (the same numbers, no
  # training) and exports it.
  serving, hub_encoder = tmp_path / "serving", tmp_path / "hub"
  stdout = _run(_command(files, tmp_path / "scored", "--nodo_train",
                         f"--init_checkpoint={output_dir}",
                         f"--export_dir={serving}",
                         f"--hub_export_dir={hub_encoder}"))
  assert "training examples" not in stdout
  assert f"model from {output_dir / 'best'}" in stdout
  assert (json.loads((tmp_path / "scored" / "eval_results.json").read_text())
          == best["results"])
  _check_exports(files, serving, hub_encoder, best)


def test_damaged_checkpoint_is_named_and_nothing_changed(files, finished,
                                                        tmp_path):
  output_dir = tmp_path / "copy"
  shutil.copytree(finished[0], output_dir)
  newest = output_dir / "checkpoints" / "ckpt-3"
  data = newest.with_name("ckpt-3.data-00000-of-00001")
  data.write_bytes(data.read_bytes()[:1000])
  before = {path: path.read_bytes() for path in output_dir.rglob("*")
            if path.is_file() and path.name != ".lock"}
  run = subprocess.run(_command(files, output_dir), cwd=REPO,
                       capture_output=True, text=True, timeout=300,
                       check=False)
  assert run.returncode == 1 and "Traceback" not in run.stderr
  assert run.stderr.startswith(
      f"error: checkpoint {newest} is damaged: {data}: "), run.stderr
  assert (f"Move {newest.parent} out of the way (nothing was changed) and "
          "rerun" in run.stderr)
  assert f"--init_checkpoint={output_dir / 'best'}" in run.stderr
  assert before == {path: path.read_bytes() for path in output_dir.rglob("*")
                    if path.is_file() and path.name != ".lock"}


def test_evaluation_only_needs_a_kept_model(files, tmp_path):
  run = subprocess.run(_command(files, tmp_path / "empty", "--nodo_train"),
                       cwd=REPO, capture_output=True, text=True, timeout=300,
                       check=False)
  assert run.returncode != 0
  assert "no fine-tuned model in" in run.stderr


def _check_exports(files, serving, hub_encoder, best):
  """The serving export answers like the best model; the Hub encoder loads."""
  serve = tf.saved_model.load(str(serving)).signatures["serving_default"]
  assert list(serve.structured_input_signature[1]) == ["text"]
  assert sorted(serve.structured_outputs) == ["label_ids", "labels",
                                              "probabilities"]
  rows = [line.rstrip("\n").split("\t") for line in
          (files / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]]
  outputs = serve(text=tf.constant([text for text, _ in rows]))
  labels = outputs["labels"].numpy().astype(str)
  # The served model is the best epoch's: its dev accuracy, to the example.
  assert np.mean(labels == [label for _, label in rows]) == best["value"]
  np.testing.assert_allclose(
      outputs["probabilities"].numpy().sum(-1), 1.0, rtol=1e-5)

  encoder = hub.load(str(hub_encoder))
  assert bool(encoder.do_lower_case.numpy())
  assert os.path.exists(encoder.vocab_file.asset_path.numpy().decode())
  ids = tf.constant([[101, 7592, 102, 0]])
  result = encoder(dict(input_word_ids=ids, input_mask=tf.cast(ids > 0, tf.int32),
                        input_type_ids=tf.zeros_like(ids)))
  # Its pooler restarts as the identity: tanh of the [CLS] vector.
  np.testing.assert_allclose(result["pooled_output"],
                             np.tanh(result["sequence_output"][:, 0]),
                             atol=1e-6)
