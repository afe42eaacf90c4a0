"""The quick start's main job, end to end on the shipped text."""

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
      "tiny", "train.num_train_steps=80,train.batch_size=16")
  losses = run_pretraining.pretrain(config, VOCAB, train_text=TEXT,
                                    model_dir=str(tmp_path), log_every=40,
                                    steps_per_loop=10)
  # (step, mean loss) of each loop of 10 steps.
  assert [step for step, _ in losses] == list(range(10, 81, 10))
  assert losses[-1][1] < 0.8 * losses[0][1]
  assert tf.train.latest_checkpoint(str(tmp_path))


def test_tiny_pretraining_compiles_with_xla():
  # --jit_compile: masking, sampling and dropout must all have XLA kernels.
  config = configs.load_experiment(
      "tiny", "train.num_train_steps=20,train.batch_size=8")
  losses = run_pretraining.pretrain(config, VOCAB, train_text=TEXT,
                                    log_every=10, steps_per_loop=10,
                                    jit_compile=True)
  assert [step for step, _ in losses] == [10, 20]
  assert losses[1][1] < losses[0][1]


@pytest.mark.parametrize("flag, message", [
    ("--config=medium", "No config file 'medium'"),
    ("--log_every=0", "--log_every must be a positive integer"),
])
def test_command_line_reports_bad_flags(flag, message):
  result = subprocess.run(
      [sys.executable, "-m", "electra_tf.run_pretraining", flag],
      cwd=REPO, capture_output=True, text=True, check=False,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode != 0
  assert message in result.stderr
