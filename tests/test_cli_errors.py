"""Errors in what a user gives a binary end in one line and status 1."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

CASES = [
    (["electra_tf.run_pretraining", "--params_override=train.learnin_rate=1"],
     "error: --params_override: unknown config key train.learnin_rate; did "
     "you mean train.learning_rate?"),
    (["electra_tf.convert.convert_checkpoint", "--config=tiny",
      "--tf1_checkpoint=/nonexistent/model.ckpt", "--output_dir=/tmp/never"],
     "error: No TF checkpoint at /nonexistent/model.ckpt"),
    (["electra_tf.run_finetuning", "--task=sst", "--data_dir=/nonexistent",
      "--hub_module=/nonexistent/module", "--output_dir=/tmp/never"],
     "error: --hub_module /nonexistent/module is not a SavedModel (no "
     "saved_model.pb), a transformers directory or a TF1 checkpoint"),
]


def _run(command, cwd, **env):
  return subprocess.run(
      [sys.executable, "-m", *command], cwd=cwd,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO, **env),
      capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("command, message", CASES)
def test_user_errors_are_one_line(command, message, tmp_path):
  run = _run(command, tmp_path)
  assert run.returncode == 1
  assert message in run.stderr
  assert "Traceback" not in run.stderr


def test_the_traceback_on_request(tmp_path):
  run = _run(CASES[0][0], tmp_path, ELECTRA_TF_TRACEBACK="1")
  assert run.returncode != 0 and "Traceback" in run.stderr
