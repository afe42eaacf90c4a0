"""The quick start's main job, end to end on the shipped text."""

import json
import os
import re
import subprocess
import sys

import pytest
import tensorflow as tf

from electra_tf import configs
from electra_tf import evaluation
from electra_tf import flops
from electra_tf import run_pretraining

from conftest import REPO, TEXT, VOCAB


def test_tiny_pretraining_learns_and_checkpoints(tmp_path, capsys):
  config = configs.load_experiment(
      "mini", "train.num_train_steps=80,train.batch_size=16")
  losses, evaluations = run_pretraining.pretrain(
      config, VOCAB, train_text=TEXT, model_dir=str(tmp_path), log_every=40,
      steps_per_loop=10, peak_tflops=0.01)
  printed = capsys.readouterr().out.splitlines()
  # Progress lines: examples/s, the model FLOP/s they make, the MFU.
  # and the time: elapsed, and left at the pace so far.
  progress = [re.search(r"^step +(\d+)/80 .* ([\d.]+) examples/s  "
                        r"([\d.e+-]+) TFLOP/s  MFU ([\d.]+)%  "
                        r"elapsed (\d+):(\d\d)  left (\d+):(\d\d)$", line)
              for line in printed if line.startswith("step ")]
  assert len(progress) == 2 and all(progress)
  (step, *_, minutes, seconds, left_minutes, left_seconds) = progress[0].groups()
  elapsed, left = (int(minutes) * 60 + int(seconds),
                   int(left_minutes) * 60 + int(left_seconds))
  assert step == "40" and abs(left - elapsed) <= 1  # halfway
  assert progress[1].groups()[0] == "80" and progress[1].group(7, 8) == (
      "0", "00")
  per_example = flops.train_flops_per_example(config.model, 64)
  for match in progress:
    rate, tflops, mfu = (float(value) for value in match.groups()[1:4])
    assert tflops == pytest.approx(rate * per_example / 1e12, rel=0.01)
    assert mfu == pytest.approx(100 * tflops / 0.01, rel=0.01)
  # The last line says what the held-out numbers mean.
  assert printed[-1].startswith("discriminator ")
  assert "gain over the base rate" in printed[-1]
  # (step, mean loss) of each loop of 10 steps.
  assert [step for step, _ in losses] == list(range(10, 81, 10))
  assert losses[-1][1] < 0.8 * losses[0][1]
  assert tf.train.latest_checkpoint(str(tmp_path))
  # Held-out evaluation at the end: printed, in eval/ and eval_results.json.
  with open(tmp_path / "eval_results.json", encoding="utf-8") as f:
    results = json.load(f)
  assert results == dict(step=80, **evaluations[-1][1])
  assert [step for step, _ in evaluations] == [0, 80]
  assert set(results) == {"step", "mlm_loss", "mlm_accuracy", "disc_loss",
                          "rtd_accuracy", "rtd_precision", "rtd_recall",
                          "replaced_fraction", "sampled_accuracy", "disc_gain",
                          "rtd_auc", "random_rtd_auc", "random_disc_gain"}
  assert os.listdir(tmp_path / "eval")


def test_quick_start_preset_trains_a_discriminator_past_the_base_rate():
  # The tiny preset (the quick start's) at a third of its steps: its
  # discriminator beats the base rate on the generator's fakes and on random
  # ones, while the generator learns.
  config = configs.load_experiment("tiny", "train.num_train_steps=200")
  _, evaluations = run_pretraining.pretrain(
      config, VOCAB, train_text=TEXT, log_every=100, steps_per_loop=100,
      eval_every=100)
  start, last = evaluations[0][1], evaluations[-1][1]
  assert last["rtd_auc"] > 0.85 and last["random_rtd_auc"] > 0.85
  assert last["disc_gain"] > 0.3 > start["disc_gain"]
  assert last["rtd_precision"] > 0.5 and last["rtd_recall"] > 0.3
  assert last["mlm_accuracy"] > start["mlm_accuracy"] + 0.02
  assert evaluation.discriminator_verdict(evaluations).startswith(
      "discriminator learning at step 200")


def test_masked_lm_objective_pretrains_through_the_same_loop(tmp_path):
  config = configs.load_experiment(
      "mini", "model.objective=mlm,train.num_train_steps=60,"
      "train.learning_rate=2e-3")
  losses, evaluations = run_pretraining.pretrain(
      config, VOCAB, train_text=TEXT, model_dir=str(tmp_path), log_every=20,
      steps_per_loop=10, eval_every=30)
  # From log(30522) = 10.3 nats, by more than a nat in 60 steps.
  assert losses[-1][1] < losses[0][1] - 1.0
  assert [step for step, _ in evaluations] == [0, 30, 60]
  first, last = evaluations[1][1], evaluations[2][1]
  assert set(last) == {"mlm_loss", "mlm_accuracy"}
  assert last["mlm_loss"] < first["mlm_loss"]
  reader = tf.train.load_checkpoint(str(tmp_path))
  assert any(name.startswith("model/encoder_network/")
             for name in reader.get_variable_to_shape_map())


def test_tiny_pretraining_compiles_with_xla():
  # --jit_compile: masking, sampling and dropout must all have XLA kernels.
  config = configs.load_experiment(
      "mini", "train.num_train_steps=20,train.batch_size=8")
  losses, _ = run_pretraining.pretrain(config, VOCAB, train_text=TEXT,
                                       log_every=10, steps_per_loop=10,
                                       jit_compile=True, evaluate=False)
  assert [step for step, _ in losses] == [10, 20]
  assert losses[1][1] < losses[0][1]


@pytest.mark.parametrize("flag, message", [
    ("--config=medium", "No config file 'medium'"),
    ("--log_every=0", "flag --log_every=0: 0 is not a positive integer"),
    ("--eval_every=0", "--eval_every must be a positive integer"),
    ("--eval_text=/nowhere/held_out.txt",
     "Text file not found: /nowhere/held_out.txt"),
    ("--inter_op_threads=-1",
     "flag --inter_op_threads=-1: -1 is not a non-negative integer"),
])
def test_command_line_reports_bad_flags(flag, message):
  result = subprocess.run(
      [sys.executable, "-m", "electra_tf.run_pretraining", flag],
      cwd=REPO, capture_output=True, text=True, check=False,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode != 0
  assert message in result.stderr
