"""Held-out pretraining dynamics of ELECTRA under named settings ("levers").

Each lever is a set of config overrides (or a corpus vocabulary) tried
against the preset; levers join with "+". Every run pretrains for
--num_train_steps and is scored on the held-out text every --eval_every
steps: the discriminator's AUC on the generator's fakes and on uniformly
random replacements, its gain over the base rate, the generator's MLM and
sampled-token accuracy. Writes `dynamics.jsonl` (one line per run, appended
as each ends, so a later call adds its levers to the same table),
`dynamics.md` (the table) and `dynamics.png` (the curves).

  python experiments/pretraining_dynamics.py --output_dir=/tmp/dynamics \
    --levers=baseline,temperature_2,corpus_vocab+temperature_2

Other run_pretraining flags (--config, --params_override, --train_text,
--eval_text, ...) apply to every run; `--levers=` (none) only redraws the
table and plot of the runs already in --output_dir.
"""

# Before TensorFlow: our CPU kernels (see electra_tf/__init__), no start-up
# lines of its own.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags

from electra_tf import common_flags
from electra_tf import configs
from electra_tf import paths
from electra_tf import run_pretraining  # also defines the model/data flags

FLAGS = flags.FLAGS

# name: overrides ({steps}: the run's length); "corpus_vocab" learns a
# vocabulary from --train_text instead.
LEVERS = {
    "baseline": "",
    "uniform_generator": "model.uniform_generator=true",
    "temperature_1.5": "model.temperature=1.5",
    "temperature_2": "model.temperature=2.0",
    "temperature_3": "model.temperature=3.0",
    "temperature_2_decaying": "model.temperature=2.0,"
                              "model.temperature_decay_steps={steps}",
    "temperature_3_decaying": "model.temperature=3.0,"
                              "model.temperature_decay_steps={steps}",
    "generator_lr_0.3": "train.generator_learning_rate_factor=0.3",
    "generator_1_layer": "model.generator_num_layers=1",
    "generator_half": "model.generator_size=0.5",
    "seq_128": "train.seq_length=128,model.max_predictions_per_seq=32",
    "lr_5e-4": "train.learning_rate=5e-4",
    "own_embeddings": "model.share_embeddings=false",
    "warmup_10pct": "train.num_warmup_steps={tenth}",
    "corpus_vocab": "",
}
_METRICS = ("rtd_auc", "random_rtd_auc", "disc_gain", "mlm_accuracy",
            "sampled_accuracy")

_LEVERS = flags.DEFINE_list("levers", ["baseline"],
                            f"Levers, each of {', '.join(LEVERS)} or "
                            "several joined with '+'.")
_VOCAB_SIZE = flags.DEFINE_integer("corpus_vocab_size", 8000,
                                   "Size of the corpus_vocab lever's "
                                   "vocabulary.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Runs and results.")
flags.mark_flag_as_required("output_dir")
paths.require_literal("output_dir")
FLAGS.set_default("eval_every", 250)
FLAGS.set_default("log_every", 250)


def corpus_vocab(output_dir: str, train_text: str, vocab_size: int) -> str:
  """A WordPiece vocabulary learned from `train_text`, built once."""
  path = os.path.join(output_dir, f"vocab_{vocab_size}.txt")
  if not os.path.exists(path):
    subprocess.run([sys.executable, "-m", "electra_tf.data.build_vocab",
                    f"--input_files={train_text}", f"--output_file={path}",
                    f"--vocab_size={vocab_size}"], check=True)
  return path


def check_levers(levers):
  unknown = [name for lever in levers for name in lever.split("+")
             if name not in LEVERS]
  if unknown:
    raise app.UsageError(f"unknown levers {unknown}; known: "
                         f"{', '.join(LEVERS)}")


def lever_run(lever: str, num_train_steps: int):
  """(overrides, vocab file or None) of a lever name such as 'a+b'."""
  overrides, vocab_file = [], None
  for name in lever.split("+"):
    if name == "corpus_vocab":
      vocab_file = corpus_vocab(_OUTPUT_DIR.value, FLAGS.train_text,
                                _VOCAB_SIZE.value)
      with open(vocab_file, encoding="utf-8") as f:
        overrides.append(
            f"model.discriminator.vocab_size={sum(1 for _ in f)}")
    elif LEVERS[name]:
      overrides.append(LEVERS[name].format(steps=num_train_steps,
                                           tenth=num_train_steps // 10))
  return ",".join(overrides), vocab_file


def table_steps(evaluations):
  """The evaluated steps a table row is shown for: the last at or before
  250, 1,000 and 3,000 steps, and the run's end."""
  evaluated = [step for step, _ in evaluations if step > 0]
  shown = {max((s for s in evaluated if s <= target), default=None)
           for target in (250, 1000, 3000)} | {evaluated[-1]}
  return sorted(shown - {None})


def markdown_table(runs) -> str:
  """One row per run and shown step: its held-out metrics there."""
  rows = ["| lever | overrides | minutes | step | " +
          " | ".join(_METRICS) + " |",
          "| --- | --- | --- | --- | " + " | ".join("---" for _ in _METRICS) +
          " |"]
  for run in runs:
    metrics_at = dict((step, metrics) for step, metrics in run["evaluations"])
    for step in table_steps(run["evaluations"]):
      rows.append(
          f"| {run['lever']} | {run['overrides'] or '-'} | "
          f"{run['minutes']:.1f} | {step} | " +
          " | ".join(f"{metrics_at[step].get(name, float('nan')):.3f}"
                     for name in _METRICS) + " |")
  return "\n".join(rows)


def plot(runs, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=g-import-not-at-top
  figure, axes = pyplot.subplots(1, len(_METRICS), figsize=(4 * len(_METRICS),
                                                            3.6))
  for run in runs:
    steps = [step for step, _ in run["evaluations"]]
    for axis, name in zip(axes, _METRICS):
      axis.plot(steps, [m.get(name) for _, m in run["evaluations"]],
                marker=".", label=run["lever"])
  for axis, name in zip(axes, _METRICS):
    axis.set_title(f"held-out {name}")
    axis.set_xlabel("step")
    axis.grid(alpha=0.3)
  axes[0].legend(fontsize=7)
  figure.tight_layout()
  figure.savefig(path, dpi=90)


def main(argv):
  del argv
  check_levers(_LEVERS.value)
  output_dir = _OUTPUT_DIR.value
  os.makedirs(output_dir, exist_ok=True)
  results_file = os.path.join(output_dir, "dynamics.jsonl")
  base = FLAGS.params_override
  for lever in _LEVERS.value:
    config = configs.load_experiment(FLAGS.config, base)
    steps = FLAGS.num_train_steps or config.train.num_train_steps
    overrides, vocab_file = lever_run(lever, steps)
    config = configs.load_experiment(
        FLAGS.config, ",".join(o for o in (base, overrides) if o))
    config.override({"train": {"num_train_steps": steps}})
    print(f"=== {lever}: {overrides or 'preset'}, {steps} steps", flush=True)
    started = time.perf_counter()
    _, evaluations = run_pretraining.pretrain(
        config, vocab_file or common_flags.VOCAB_FILE.value,
        train_text=FLAGS.train_text, eval_text=FLAGS.eval_text,
        log_every=FLAGS.log_every, eval_every=FLAGS.eval_every,
        eval_seed=FLAGS.eval_seed, steps_per_loop=FLAGS.steps_per_loop)
    run = dict(lever=lever, overrides=overrides, config=FLAGS.config,
               minutes=(time.perf_counter() - started) / 60,
               evaluations=evaluations)
    with open(results_file, "a", encoding="utf-8") as f:
      f.write(json.dumps(run) + "\n")
  with open(results_file, encoding="utf-8") as f:
    runs = [json.loads(line) for line in f]
  table = markdown_table(runs)
  with open(os.path.join(output_dir, "dynamics.md"), "w",
            encoding="utf-8") as f:
    f.write(table + "\n")
  plot(runs, os.path.join(output_dir, "dynamics.png"))
  print(table)


if __name__ == "__main__":
  app.run(main)
