"""The pretraining-dynamics study, end to end on a minute-sized setting."""

import json
import os
import subprocess
import sys

from conftest import REPO

STUDY = os.path.join(REPO, "experiments", "pretraining_dynamics.py")


def _run(*flags):
  return subprocess.run(
      [sys.executable, STUDY, "--config=mini", *flags], cwd=REPO,
      capture_output=True, text=True, check=False,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def test_levers_are_run_scored_and_tabulated(tmp_path):
  result = _run(f"--output_dir={tmp_path}", "--num_train_steps=20",
                "--eval_every=10", "--log_every=10", "--steps_per_loop=10",
                "--levers=baseline,uniform_generator+temperature_2")
  assert result.returncode == 0, result.stderr[-3000:]
  with open(tmp_path / "dynamics.jsonl", encoding="utf-8") as f:
    runs = [json.loads(line) for line in f]
  assert [run["lever"] for run in runs] == [
      "baseline", "uniform_generator+temperature_2"]
  assert runs[1]["overrides"] == ("model.uniform_generator=true,"
                                  "model.temperature=2.0")
  for run in runs:
    assert [step for step, _ in run["evaluations"]] == [0, 10, 20]
  # The uniform generator is never trained: its MLM loss stays log(30522).
  uniform = runs[1]["evaluations"][-1][1]
  assert abs(uniform["mlm_loss"] - 10.326) < 0.01
  assert runs[0]["evaluations"][-1][1]["mlm_loss"] < 10.3
  table = (tmp_path / "dynamics.md").read_text(encoding="utf-8")
  assert table.startswith("| lever | overrides | minutes | step | rtd_auc | "
                          "random_rtd_auc | disc_gain |")
  assert table.count("\n| baseline | - |") == 1
  assert table in result.stdout
  with open(tmp_path / "dynamics.png", "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_lever_is_refused_before_any_run(tmp_path):
  result = _run(f"--output_dir={tmp_path}/out", "--levers=baseline,magic")
  assert result.returncode != 0
  assert "unknown levers ['magic']" in result.stderr
  assert not os.path.exists(tmp_path / "out")
