"""The ELECTRA vs masked-LM study, end to end on a minute-sized setting."""

import json
import os
import subprocess
import sys

import pytest

from electra_tf import configs
from electra_tf import flops

from conftest import REPO

STUDY = os.path.join(REPO, "experiments", "sample_efficiency.py")


def _run(*flags):
  return subprocess.run(
      [sys.executable, STUDY, *flags], cwd=REPO, capture_output=True,
      text=True, check=False, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def test_study_pretrains_to_equal_flops_and_scores_every_run(tmp_path):
  override = "finetune.num_train_epochs=1"
  result = _run(f"--output_dir={tmp_path}", "--budgets=1e10", "--seeds=1",
                "--tasks=sentiment", f"--params_override={override}")
  assert result.returncode == 0, result.stderr[-3000:]
  progress = [line for line in result.stdout.splitlines()
              if line.startswith("[")]
  assert len(progress) == 5 and progress[-1].startswith("[5/5] fine-tuned")

  with open(tmp_path / "results.json", encoding="utf-8") as f:
    results = json.load(f)
  experiment = configs.load_experiment("mini", override)
  train = experiment.train
  for run in results["pretraining"]:
    # Each objective gets the steps its FLOPs per step buy.
    model = experiment.model.replace(objective=run["objective"])
    per_step = flops.train_flops_per_example(
        model, train.seq_length) * train.batch_size
    assert run["steps"] == round(1e10 / per_step)
    assert run["held_out"]["mlm_accuracy"] >= 0
  steps = {run["objective"]: run["steps"] for run in results["pretraining"]}
  assert steps["mlm"] > steps["electra"]  # no generator to pay for
  assert "rtd_auc" in next(r["held_out"] for r in results["pretraining"]
                           if r["objective"] == "electra")
  runs = {(r["objective"], r["task"], r["seed"]): r["score"]
          for r in results["finetuning"]}
  assert set(runs) == {(o, "sentiment", 1)
                       for o in ("random init", "electra", "mlm")}
  assert all(0.3 < score < 1.0 for score in runs.values())

  table = (tmp_path / "results.md").read_text(encoding="utf-8")
  assert "| objective | pretraining FLOPs | steps | sentiment (accuracy) |" in (
      table)
  for objective in ("random init", "electra", "mlm"):
    assert f"| {objective} |" in table
  assert table in result.stdout
  with open(tmp_path / "results.png", "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  again = _run(f"--output_dir={tmp_path}", "--budgets=1e10")
  assert again.returncode != 0 and "is not empty" in again.stderr


@pytest.mark.parametrize("flag, message", [
    ("--tasks=parsing", "unknown tasks or objectives ['parsing']"),
    ("--budgets=-1e12", "--budgets must be positive numbers of FLOPs"),
    ("--budgets=lots", "--budgets: 'lots' is not a number"),
])
def test_bad_flags_are_reported(tmp_path, flag, message):
  result = _run(f"--output_dir={tmp_path}", flag)
  assert result.returncode != 0
  assert message in result.stderr
  assert not os.listdir(tmp_path)
