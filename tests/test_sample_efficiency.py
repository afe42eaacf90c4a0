"""The ELECTRA vs masked-LM study, end to end on a minute-sized setting."""

import json
import os
import re
import sys

from absl import app
from absl import flags
import pytest

from electra_tf import configs
from electra_tf import flops

from conftest import REPO

STUDY = os.path.join(REPO, "experiments", "sample_efficiency.py")
sys.path.insert(0, os.path.dirname(STUDY))
import sample_efficiency  # noqa: E402  pylint: disable=wrong-import-position


def _study(*argv):
  """Runs the study's main in this process (no start-up to pay), as the
  command line would with `argv`."""
  flags.FLAGS([STUDY, *argv])
  try:
    sample_efficiency.main([])
  finally:
    flags.FLAGS.unparse_flags()


def test_study_pretrains_to_equal_flops_and_scores_every_run(tmp_path,
                                                             capsys):
  override = "finetune.num_train_epochs=1"
  _study(f"--output_dir={tmp_path}", "--budgets=1e10", "--seeds=1",
         "--tasks=sentiment", "--train_sizes=60",
         "--learning_rates=1e-3,3e-3", "--probe",
         f"--params_override={override}")
  stdout = capsys.readouterr().out
  progress = [line for line in stdout.splitlines() if line.startswith("[")]
  # 2 pretraining runs; 3 starting points x (probe + 2 rates).
  assert len(progress) == 11 and progress[-1].startswith("[11/11] fine-tuned")

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
  runs = {(r["objective"], r["mode"], r.get("learning_rate")): r["score"]
          for r in results["finetuning"]}
  assert set(runs) == {(o, mode, rate)
                       for o in ("random init", "electra", "mlm")
                       for mode, rate in (("probe", None), ("fine-tune", 1e-3),
                                          ("fine-tune", 3e-3))}
  assert all(0.3 < score < 1.0 for score in runs.values())
  assert {r["train_size"] for r in results["finetuning"]} == {60}
  sample = (tmp_path / "finetune" / "mlm_1e+10_sentiment_60_1" /
            "train_60.tsv").read_text(encoding="utf-8").splitlines()
  assert len(sample) == 61

  table = (tmp_path / "results.md").read_text(encoding="utf-8")
  assert ("| objective | pretraining FLOPs | steps | sentiment, 60, probe "
          "(accuracy) | sentiment, 60, fine-tune (accuracy) |") in table
  for objective in ("random init", "electra", "mlm"):
    row = next(line for line in table.splitlines()
               if line.startswith(f"| {objective} |"))
    # The fine-tuning cell is the better learning rate's.
    best = max((1e-3, 3e-3), key=lambda r: runs[(objective, "fine-tune", r)])
    assert (f"{runs[(objective, 'fine-tune', best)]:.3f} +- 0.000 "
            f"(n=1, lr {best:g})") in row
  assert table in stdout
  with open(tmp_path / "results.png", "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  with pytest.raises(app.UsageError, match="is not empty"):
    _study(f"--output_dir={tmp_path}", "--budgets=1e10")


def test_each_seed_draws_its_own_training_sample(tmp_path):
  train = os.path.join(REPO, "tests", "data", "movie_reviews", "sst",
                       "train.tsv")
  with open(train, encoding="utf-8") as f:
    header, *rows = f.read().splitlines()
  samples = []
  for seed in (1, 2, 1):
    out_dir = tmp_path / str(len(samples))
    out_dir.mkdir()
    path = sample_efficiency.train_sample(train, 250, seed, str(out_dir))
    with open(path, encoding="utf-8") as f:
      samples.append(f.read().splitlines())
  for sample in samples:
    assert sample[0] == header and len(set(sample[1:])) == 250
    assert set(sample[1:]) <= set(rows)
  assert samples[0] != samples[1] and samples[0] == samples[2]
  assert sample_efficiency.train_sample(train, "all", 1, "unused") == train


def test_the_learning_rate_with_the_best_mean_is_reported():
  run = dict(objective="electra", budget_flops=1e12, task="sentiment",
             train_size=250, mode="fine-tune")
  scores = {1e-3: (0.70, 0.80), 3e-3: (0.74, 0.74), 1e-4: (0.90, 0.50)}
  runs = [dict(run, learning_rate=rate, seed=seed, score=score)
          for rate, pair in scores.items() for seed, score in enumerate(pair)]
  runs.append(dict(run, mode="probe", seed=0, score=0.6))
  summary = sample_efficiency.summarize(runs)
  key = ("electra", 1e12, "sentiment", 250)
  assert summary[key + ("fine-tune",)] == pytest.approx((0.75, 0.05, 2, 1e-3))
  assert summary[key + ("probe",)] == (0.6, 0.0, 1, None)


@pytest.mark.parametrize("flag, message", [
    ("--tasks=parsing", "unknown tasks or objectives ['parsing']"),
    ("--budgets=-1e12", "--budgets must be positive numbers of FLOPs"),
    ("--budgets=lots", "--budgets: 'lots' is not a number"),
    ("--train_sizes=5000", "--train_sizes: sentiment has 2000 training"),
    ("--train_sizes=0", "--train_sizes must be positive numbers or 'all'"),
    ("--learning_rates=fast", "--learning_rates: 'fast' is not a number"),
])
def test_bad_flags_are_reported(tmp_path, flag, message):
  # In this process: the checks come before any work, so no start-up to pay.
  with pytest.raises(app.UsageError, match=re.escape(message)):
    _study(f"--output_dir={tmp_path}", flag)
  assert not os.listdir(tmp_path)
