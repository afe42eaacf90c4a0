"""The quick start's main job, end to end on the shipped text."""

import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from electra_tf import configs
from electra_tf import run_pretraining

from conftest import REPO, TEXT, VOCAB


def test_tiny_pretraining_learns_and_checkpoints(tmp_path):
  config = configs.load_experiment(
      "mini", "train.num_train_steps=80,train.batch_size=16")
  losses, evaluations = run_pretraining.pretrain(
      config, VOCAB, train_text=TEXT, model_dir=str(tmp_path), log_every=40,
      steps_per_loop=10)
  # (step, mean loss) of each loop of 10 steps.
  assert [step for step, _ in losses] == list(range(10, 81, 10))
  assert losses[-1][1] < 0.8 * losses[0][1]
  assert tf.train.latest_checkpoint(str(tmp_path))
  # Held-out evaluation at the end: printed, in eval/ and eval_results.json.
  with open(tmp_path / "eval_results.json", encoding="utf-8") as f:
    results = json.load(f)
  assert results == dict(step=80, **evaluations[-1][1])
  assert [step for step, _ in evaluations] == [80]
  assert set(results) == {"step", "mlm_loss", "mlm_accuracy", "disc_loss",
                          "rtd_accuracy", "rtd_precision", "rtd_recall",
                          "replaced_fraction", "sampled_accuracy", "disc_gain",
                          "rtd_auc", "random_rtd_auc", "random_disc_gain"}
  assert os.listdir(tmp_path / "eval")


def test_masked_lm_objective_pretrains_through_the_same_loop(tmp_path):
  config = configs.load_experiment(
      "mini", "model.objective=mlm,train.num_train_steps=60,"
      "train.learning_rate=2e-3")
  losses, evaluations = run_pretraining.pretrain(
      config, VOCAB, train_text=TEXT, model_dir=str(tmp_path), log_every=20,
      steps_per_loop=10, eval_every=30)
  # From log(30522) = 10.3 nats, by more than a nat in 60 steps.
  assert losses[-1][1] < losses[0][1] - 1.0
  assert [step for step, _ in evaluations] == [30, 60]
  first, last = evaluations[0][1], evaluations[1][1]
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
    ("--log_every=0", "--log_every must be a positive integer"),
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
