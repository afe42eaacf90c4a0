"""ELECTRA against masked-LM pretraining at equal compute, scored downstream.

For each pretraining budget (matmul FLOPs of forward and backward, the
generator included, as the ELECTRA paper counts them) and each objective,
pretrains the config's model on the same text for as many steps as the
budget buys, then fine-tunes it, and a randomly initialised encoder as the
control, on the shipped sentiment classification set (SST layout, accuracy)
and the shipped regression set (human scores, Pearson) with several seeds,
on all training examples or a few (--train_sizes: a seed's own sample), at
each of --learning_rates (the one with the best mean dev score is reported
per starting point, task and size). --probe also scores each frozen encoder
under a linear model (`linear_probe`). Writes `results.json` (every run),
`results.md` (mean +- std per budget and objective) and `results.png`
(score against pretraining FLOPs, beside ELECTRA's held-out dynamics).

  python experiments/sample_efficiency.py --output_dir=/tmp/study
  python experiments/sample_efficiency.py --config=tiny --budgets=1.34e13 \
    --tasks=sentiment --seeds=1,2,3,4,5 --train_sizes=250,1000,all \
    --learning_rates=3e-4,1e-3,3e-3 --probe --output_dir=/tmp/study_v2
  python experiments/sample_efficiency.py --config=small \
    --budgets=1e16,4e16,1.6e17 --train_data='/data/records/*' \
    --output_dir=/tmp/study_small

Each budget is a run of its own with the full learning-rate schedule
(warmup over the first 10% of its steps, then linear decay to zero). The
model, its recipes and the pretraining data come from run_pretraining's
flags (--config, default mini here; --params_override; --train_text or
--train_data; --eval_text or --eval_data; --distribution_strategy; ...);
the masked-LM model is the config's discriminator under the generator's
MLM head.
"""

# Before TensorFlow: our CPU kernels (see electra_tf/__init__), no start-up
# lines of its own.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

import contextlib
import itertools
import json
import os
import time

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tf_keras
from official.nlp.tools import tokenization

from electra_tf import builders
from electra_tf import common_flags
from electra_tf import configs
from electra_tf import finetuning
from electra_tf import flops
from electra_tf import paths
from electra_tf import run_pretraining  # also defines the model/data flags

import linear_probe  # beside this script

FLAGS = flags.FLAGS

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_REVIEWS = os.path.join(_REPO, "tests", "data", "movie_reviews")
# name: (task, files, make_task arguments, the dev metric reported).
TASKS = dict(
    sentiment=("sst", dict(train=[f"{_REVIEWS}/sst/train.tsv"],
                           dev=[f"{_REVIEWS}/sst/dev.tsv"]), {}, "accuracy"),
    regression=("custom", dict(train=[f"{_REVIEWS}/scores/train.jsonl"],
                               dev=[f"{_REVIEWS}/scores/dev.jsonl"]),
                dict(text_columns=["text"], label_column="score",
                     regression=True), "pearson"),
)
CONTROL = "random init"

# Defaults that finished in 22 minutes on a 2-core CPU.
flags.FLAGS.set_default("config", "mini")
_BUDGETS = flags.DEFINE_list(
    "budgets", ["2e11", "6e11", "1.8e12"],
    "Pretraining budgets in FLOPs (forward + backward matmuls).")
_OBJECTIVES = flags.DEFINE_list("objectives", list(configs.OBJECTIVES),
                                "Pretraining objectives to compare.")
_TASKS = flags.DEFINE_list("tasks", list(TASKS), "Downstream tasks.")
_SEEDS = flags.DEFINE_list("seeds", ["1", "2", "3"], "Fine-tuning seeds.")
_TRAIN_SIZES = flags.DEFINE_list(
    "train_sizes", ["all"], "Training examples per downstream run: numbers "
    "(each seed draws its own sample) or 'all'.")
_LEARNING_RATES = flags.DEFINE_list(
    "learning_rates", [], "Fine-tuning learning rates tried (default: the "
    "config's); the best by mean dev score is reported.")
_PROBE = flags.DEFINE_bool("probe", False, "Also score each frozen encoder "
                           "under a linear probe.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None,
                                  "Checkpoints, logs and results.")
flags.mark_flag_as_required("output_dir")
paths.require_literal("output_dir")


def pretraining_steps(model_config, seq_length, batch_size, budget):
  """Steps of `batch_size` examples that spend `budget` FLOPs (at least 1)."""
  per_step = flops.train_flops_per_example(model_config, seq_length) * (
      batch_size)
  return max(1, round(budget / per_step))


@contextlib.contextmanager
def _logged_to(path):
  """Sends what a run prints to `path`, so the study prints one line a run."""
  with open(path, "w", encoding="utf-8") as log, \
      contextlib.redirect_stdout(log):
    yield


def pretrain(experiment, objective, budget, run_dir, strategy):
  """Pretrains to `budget` FLOPs; returns the run's record."""
  train = experiment.train
  model_config = experiment.model.replace(objective=objective)
  steps = pretraining_steps(model_config, train.seq_length, train.batch_size,
                            budget)
  config = experiment.replace(model=model_config, train=train.replace(
      num_train_steps=steps, num_warmup_steps=steps // 10))
  start = time.perf_counter()
  with _logged_to(os.path.join(run_dir, "pretraining.log")):
    losses, evaluations = run_pretraining.pretrain(
        config, FLAGS.vocab_file, train_text=FLAGS.train_text,
        train_data=FLAGS.train_data, eval_text=FLAGS.eval_text,
        eval_data=FLAGS.eval_data, do_lower_case=FLAGS.do_lower_case,
        static_masks=FLAGS.static_masks, model_dir=run_dir,
        checkpoint_every=steps, log_every=max(1, steps // 10),
        eval_every=min(FLAGS.eval_every, steps), eval_seed=FLAGS.eval_seed,
        strategy=strategy, jit_compile=FLAGS.jit_compile,
        steps_per_loop=FLAGS.steps_per_loop, peak_tflops=FLAGS.peak_tflops)
  tf_keras.backend.clear_session()
  return dict(objective=objective, budget_flops=budget, steps=steps,
              final_loss=losses[-1][1] if losses else None,
              held_out=evaluations[-1][1] if evaluations else None,
              held_out_curve=evaluations,
              seconds=round(time.perf_counter() - start, 1))


def starting_network(experiment, objective, checkpoint):
  """The encoder of an `objective` run's `checkpoint` (None: a random one)."""
  if checkpoint is None:
    return builders.build_encoder(experiment.model.discriminator)
  return builders.restore_pretrainer(
      experiment.model.replace(objective=objective), checkpoint).get_network()


def _header_and_rows(path):
  with open(path, encoding="utf-8") as f:
    lines = f.read().splitlines()
  header = lines[:1] if path.endswith((".tsv", ".csv")) else []
  return header, lines[len(header):]


def train_sample(path, size, seed, out_dir):
  """`path`, or for a number `size` a seed's sample of that many of its
  examples (a TSV or CSV header kept), written under `out_dir`."""
  if size == "all":
    return path
  header, rows = _header_and_rows(path)
  chosen = np.sort(np.random.RandomState(seed).permutation(len(rows))[:size])
  sample = os.path.join(out_dir, f"train_{size}{os.path.splitext(path)[1]}")
  with open(sample, "w", encoding="utf-8") as f:
    f.write("\n".join(header + [rows[i] for i in chosen]) + "\n")
  return sample


def finetune(experiment, task_name, files, objective, checkpoint, seed,
             learning_rate, run_dir, strategy):
  """Fine-tunes the encoder of an `objective` run's `checkpoint` (None: a
  random encoder) on `files`; returns the dev metrics."""
  task, _, arguments, _ = TASKS[task_name]
  config = experiment.finetune.replace(seed=seed, learning_rate=learning_rate)
  tokenizer = tokenization.FullTokenizer(FLAGS.vocab_file,
                                         FLAGS.do_lower_case)
  with _logged_to(os.path.join(run_dir, "finetuning.log")):
    results = finetuning.finetune(
        finetuning.make_task(task, files, tokenizer, config, **arguments),
        lambda: starting_network(experiment, objective, checkpoint), config,
        run_dir, strategy)
  tf_keras.backend.clear_session()
  return next(iter(results.values()))


def probe(experiment, task_name, files, objective, checkpoint, seed):
  """(dev score, regularisation strength) of a linear probe of the frozen
  encoder (`linear_probe`) trained on `files`."""
  task, _, arguments, metric = TASKS[task_name]
  config = experiment.finetune
  tokenizer = tokenization.FullTokenizer(FLAGS.vocab_file,
                                         FLAGS.do_lower_case)
  task = finetuning.make_task(task, files, tokenizer, config, **arguments)
  train_features, train_labels = task.train_data()
  dev_features, dev_labels = task.dev_data()
  tf_keras.utils.set_random_seed(seed)  # a random encoder's draw
  network = starting_network(experiment, objective, checkpoint)
  score = linear_probe.fit_and_score(
      linear_probe.mean_pooled(network, train_features),
      np.ravel(train_labels), linear_probe.mean_pooled(network, dev_features),
      dev_labels, task.task.is_regression, metric)
  tf_keras.backend.clear_session()
  return score


def summarize(runs):
  """(objective, budget, task, size, mode) -> (mean, std, count, learning
  rate, None when only one was tried) of the scores at the learning rate
  with the best mean."""
  groups = {}
  for run in runs:
    key = (run["objective"], run["budget_flops"], run["task"],
           run["train_size"], run["mode"])
    groups.setdefault(key, {}).setdefault(run.get("learning_rate"),
                                          []).append(run["score"])
  summary = {}
  for key, by_rate in groups.items():
    rate, scores = max(by_rate.items(), key=lambda item: np.mean(item[1]))
    summary[key] = (float(np.mean(scores)), float(np.std(scores)),
                    len(scores), rate if len(by_rate) > 1 else None)
  return summary


def columns(summary):
  """The table's score columns: (task, size, mode), in the runs' order."""
  return list(dict.fromkeys(key[2:] for key in summary))


def write_table(path, summary, pretraining, description):
  heads = [f"{task}, {size}, {mode} ({TASKS[task][3]})"
           for task, size, mode in columns(summary)]
  lines = [description, "",
           "| objective | pretraining FLOPs | steps | " + " | ".join(heads) +
           " |", "| --- | --- | --- |" + " --- |" * len(heads)]
  steps = {(p["objective"], p["budget_flops"]): p["steps"] for p in pretraining}
  for objective, budget in sorted({key[:2] for key in summary},
                                  key=lambda k: (k[1], k[0] != CONTROL, k[0])):
    cells = []
    for column in columns(summary):
      mean, std, count, rate = summary[(objective, budget, *column)]
      chosen = f", lr {rate:g}" if rate else ""
      cells.append(f"{mean:.3f} +- {std:.3f} (n={count}{chosen})")
    lines.append(f"| {objective} | {budget:.2g} | "
                 f"{steps.get((objective, budget), 0)} | " +
                 " | ".join(cells) + " |")
  with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
  return "\n".join(lines)


def write_plot(path, summary, pretraining, objectives, title):
  """One panel per table column (score against FLOPs), and ELECTRA's held-out
  dynamics against FLOPs."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=g-import-not-at-top
  panels = columns(summary)
  figure, axes = pyplot.subplots(1, len(panels) + 1,
                                 figsize=(5 * (len(panels) + 1), 4),
                                 squeeze=False)
  for axis, (task, size, mode) in zip(axes[0], panels):
    for objective in objectives:
      points = sorted((key[1], mean, std) for key, (mean, std, _, _)
                      in summary.items()
                      if key[0] == objective and key[2:] == (task, size, mode))
      budgets, means, stds = zip(*points)
      axis.errorbar(budgets, means, yerr=stds, marker="o", capsize=3,
                    label=objective)
    mean, std, _, _ = summary[(CONTROL, 0.0, task, size, mode)]
    axis.axhline(mean, color="gray", linestyle="--", label=CONTROL)
    axis.axhspan(mean - std, mean + std, color="gray", alpha=0.15)
    axis.set_xscale("log")
    axis.set_xlabel("pretraining FLOPs")
    axis.set_ylabel(f"dev {TASKS[task][3]}")
    axis.set_title(f"{task}, {size} examples, {mode}")
    axis.legend(fontsize=8)
  axis = axes[0][-1]
  for run in pretraining:
    if run["objective"] != "electra":
      continue
    per_step = run["budget_flops"] / run["steps"]
    curve = [(step * per_step, metrics) for step, metrics
             in run["held_out_curve"] if step > 0]
    for name in ("rtd_auc", "random_rtd_auc", "disc_gain",
                 "sampled_accuracy"):
      axis.plot([f for f, _ in curve], [m.get(name) for _, m in curve],
                marker=".", label=f"{name} ({run['budget_flops']:.2g})")
  axis.set_xscale("log")
  axis.set_xlabel("pretraining FLOPs")
  axis.set_title("ELECTRA, held out")
  axis.legend(fontsize=6)
  figure.suptitle(title)
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  pyplot.close(figure)


def _number(kind, flag, text):
  try:
    return kind(text)
  except ValueError:
    raise app.UsageError(f"--{flag}: {text!r} is not a number") from None


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  budgets = [_number(float, "budgets", b) for b in _BUDGETS.value]
  seeds = [_number(int, "seeds", s) for s in _SEEDS.value]
  sizes = [size if size == "all" else _number(int, "train_sizes", size)
           for size in _TRAIN_SIZES.value]
  unknown = sorted(set(_TASKS.value) - set(TASKS)) + sorted(
      set(_OBJECTIVES.value) - set(configs.OBJECTIVES))
  if unknown:
    raise app.UsageError(f"unknown tasks or objectives {unknown}; tasks: "
                         f"{', '.join(TASKS)}; objectives: "
                         f"{', '.join(configs.OBJECTIVES)}")
  if not budgets or min(budgets) <= 0 or not seeds:
    raise app.UsageError("--budgets must be positive numbers of FLOPs and "
                         "--seeds not empty")
  if not sizes or min(s for s in sizes + [1] if s != "all") <= 0:
    raise app.UsageError("--train_sizes must be positive numbers or 'all'")
  for task_name in _TASKS.value:
    train_file = TASKS[task_name][1]["train"][0]
    available = len(_header_and_rows(train_file)[1])
    if max(s for s in sizes + [0] if s != "all") > available:
      raise app.UsageError(f"--train_sizes: {task_name} has {available} "
                           f"training examples ({train_file})")
  experiment = configs.load_experiment(FLAGS.config, FLAGS.params_override)
  learning_rates = [_number(float, "learning_rates", rate)
                    for rate in _LEARNING_RATES.value] or [
                        experiment.finetune.learning_rate]
  strategy = common_flags.configure_runtime()
  output_dir = _OUTPUT_DIR.value
  if os.path.isdir(output_dir) and os.listdir(output_dir):
    raise app.UsageError(f"--output_dir {output_dir} is not empty; a study "
                         "starts in a new directory")
  os.makedirs(output_dir, exist_ok=True)
  downstream = len(_TASKS.value) * len(sizes) * len(seeds) * (
      len(learning_rates) + _PROBE.value)
  total = len(_OBJECTIVES.value) * len(budgets) * (1 + downstream) + downstream
  done, started = 0, time.perf_counter()

  def progress(text):
    nonlocal done
    done += 1
    print(f"[{done}/{total}] {text}  ({time.perf_counter() - started:.0f} s)",
          flush=True)

  pretraining, runs = [], []
  checkpoints = [(CONTROL, 0.0, None)]
  for objective in _OBJECTIVES.value:
    for budget in budgets:
      run_dir = os.path.join(output_dir, f"{objective}_{budget:.2g}")
      os.makedirs(run_dir, exist_ok=True)
      record = pretrain(experiment, objective, budget, run_dir, strategy)
      pretraining.append(record)
      held_out = ", ".join(f"{k} {v:.3f}" for k, v in
                           (record["held_out"] or {}).items())
      progress(f"pretrained {objective} for {budget:.2g} FLOPs "
               f"({record['steps']} steps): held-out {held_out}")
      checkpoints.append((objective, budget, run_dir))
  for objective, budget, checkpoint in checkpoints:
    for task_name, size, seed in itertools.product(_TASKS.value, sizes, seeds):
      name = f"{objective.replace(' ', '_')}_{budget:.2g}_{task_name}"
      sample_dir = os.path.join(output_dir, "finetune", f"{name}_{size}_{seed}")
      os.makedirs(sample_dir, exist_ok=True)
      files = dict(TASKS[task_name][1])
      files["train"] = [train_sample(files["train"][0], size, seed,
                                     sample_dir)]
      record = dict(objective=objective, budget_flops=budget, task=task_name,
                    train_size=size, seed=seed)
      about = f"{objective} {budget:.2g} on {task_name} ({size}), seed {seed}"
      metric = TASKS[task_name][3]
      if _PROBE.value:
        start = time.perf_counter()
        score, strength = probe(experiment, task_name, files, objective,
                                checkpoint, seed)
        runs.append(dict(record, mode="probe", score=score,
                         probe_strength=strength,
                         seconds=round(time.perf_counter() - start, 1)))
        progress(f"probed {about}: {metric} {score:.3f}")
      for rate in learning_rates:
        run_dir = os.path.join(sample_dir, f"lr_{rate:g}")
        os.makedirs(run_dir, exist_ok=True)
        start = time.perf_counter()
        results = finetune(experiment, task_name, files, objective,
                           checkpoint, seed, rate, run_dir, strategy)
        runs.append(dict(record, mode="fine-tune", learning_rate=rate,
                         score=results[metric], dev_metrics=results,
                         seconds=round(time.perf_counter() - start, 1)))
        progress(f"fine-tuned {about}, lr {rate:g}: {metric} "
                 f"{results[metric]:.3f}")

  train = experiment.train
  overrides = f" ({FLAGS.params_override})" if FLAGS.params_override else ""
  description = (
      f"Config {FLAGS.config}{overrides}: hidden {experiment.model.discriminator.hidden_size} x "
      f"{experiment.model.discriminator.num_layers} layers, generator "
      f"{experiment.model.generator_size:g} wide; pretraining batch "
      f"{train.batch_size} x {train.seq_length} tokens on "
      f"{FLAGS.train_data or os.path.basename(FLAGS.train_text)}; "
      f"fine-tuning seeds {','.join(map(str, seeds))}, learning rates "
      f"{','.join(f'{r:g}' for r in learning_rates)} (the best mean on dev "
      f"shown); "
      f"{os.cpu_count()} CPUs; {time.perf_counter() - started:.0f} s in all.")
  summary = summarize(runs)
  with open(os.path.join(output_dir, "results.json"), "w",
            encoding="utf-8") as f:
    json.dump(dict(description=description, pretraining=pretraining,
                   finetuning=runs), f, indent=2)
  print(write_table(os.path.join(output_dir, "results.md"), summary,
                    pretraining, description))
  write_plot(os.path.join(output_dir, "results.png"), summary, pretraining,
             _OBJECTIVES.value, f"{FLAGS.config}: downstream dev score "
             "against pretraining compute")
  print(f"wrote {output_dir}/results.json, results.md, results.png")


if __name__ == "__main__":
  app.run(main)
