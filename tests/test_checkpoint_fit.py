"""A checkpoint restored under a config of other sizes is refused, by name."""

import os
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf

from electra_tf import builders
from electra_tf import checkpoint_fit
from electra_tf import configs
from electra_tf import run_pretraining

from conftest import REPO, TEXT, VOCAB


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
  """A two-step tiny pretraining run's directory."""
  model_dir = str(tmp_path_factory.mktemp("run"))
  experiment = configs.load_experiment(
      "tiny", "train.num_train_steps=2,train.batch_size=2,train.seq_length=32")
  run_pretraining.pretrain(experiment, VOCAB, train_text=TEXT,
                           model_dir=model_dir, evaluate=False,
                           steps_per_loop=2)
  return model_dir, experiment


def test_each_differing_size_is_named(tiny_run):
  model_dir, _ = tiny_run
  small = configs.load_experiment("small").model
  with pytest.raises(ValueError) as error:
    builders.restore_pretrainer(small, model_dir)
  message = str(error.value)
  assert "does not fit the config" in message
  for line in ("discriminator hidden_size: checkpoint 128, config 256",
               "discriminator num_layers: checkpoint 2, config 12",
               "embeddings embedding_size: checkpoint 32, config 128",
               "generator hidden_size: checkpoint 32, config 64"):
    assert line in message
  # A head count alone would restore without complaint (the kernels only
  # reshape): it is named too.
  heads = configs.load_experiment(
      "tiny", "model.discriminator.num_attention_heads=2").model
  assert checkpoint_fit.mismatches(
      heads, tf.train.latest_checkpoint(model_dir)) == [
          "discriminator num_attention_heads: checkpoint 4, config 2"]


def test_masked_lm_and_matching_configs_pass(tiny_run, tmp_path):
  model_dir, experiment = tiny_run
  builders.restore_pretrainer(experiment.model, model_dir)
  mlm = configs.load_experiment("tiny", "model.objective=mlm").model
  path = tf.train.Checkpoint(model=builders.build_pretrainer(mlm)).save(
      str(tmp_path / "ckpt"))
  assert checkpoint_fit.mismatches(mlm, path) == []
  wide = mlm.replace(discriminator=mlm.discriminator.replace(
      intermediate_size=1024))
  assert checkpoint_fit.mismatches(wide, path) == [
      "encoder intermediate_size: checkpoint 512, config 1024"]


def test_resume_under_another_config_is_refused(tiny_run):
  model_dir, _ = tiny_run
  other = configs.load_experiment(
      "tiny", "train.num_train_steps=4,train.batch_size=2,train.seq_length=32,"
      "model.discriminator.intermediate_size=256")
  before = sorted(os.listdir(model_dir))
  with pytest.raises(ValueError, match="discriminator intermediate_size: "
                     "checkpoint 512, config 256"):
    run_pretraining.pretrain(other, VOCAB, train_text=TEXT,
                             model_dir=model_dir, evaluate=False,
                             steps_per_loop=2)
  assert sorted(os.listdir(model_dir)) == before


def test_runs_and_conversions_record_their_config(tiny_run, tmp_path):
  model_dir, experiment = tiny_run
  recorded = configs.load_run_experiment(None, None, model_dir)
  assert recorded.as_dict() == experiment.as_dict()
  # --config still wins; without either there is a clear request for one.
  assert configs.load_run_experiment(
      "small", None, model_dir).model.discriminator.hidden_size == 256
  with pytest.raises(ValueError, match="give --config"):
    configs.load_run_experiment(None, None, str(tmp_path))
  # A conversion without --config reads it and writes it beside its output.
  subprocess.run(
      [sys.executable, "-m", "electra_tf.convert.convert_checkpoint",
       f"--checkpoint={model_dir}", f"--output_dir={tmp_path / 'converted'}"],
      cwd=REPO, check=True, capture_output=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  converted = str(tmp_path / "converted")
  assert configs.load_run_experiment(
      None, None, converted).as_dict() == experiment.as_dict()
  builders.restore_pretrainer(experiment.model, converted)


def test_noresume_refuses_an_earlier_run_unless_overwritten(tiny_run,
                                                            tmp_path):
  model_dir = str(tmp_path / "run")
  shutil.copytree(tiny_run[0], model_dir)
  experiment = tiny_run[1]
  before = sorted(os.listdir(model_dir))
  run = dict(train_text=TEXT, model_dir=model_dir, evaluate=False,
             steps_per_loop=1, resume=False)
  with pytest.raises(FileExistsError, match="holds an earlier run .* pass "
                     "--overwrite to delete it"):
    run_pretraining.pretrain(experiment, VOCAB, **run)
  assert sorted(os.listdir(model_dir)) == before
  fresh = experiment.replace(train=dict(num_train_steps=1))
  run_pretraining.pretrain(fresh, VOCAB, overwrite=True, **run)
  # Only the new run is left: one checkpoint, at its only step.
  state = tf.train.get_checkpoint_state(model_dir)
  assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
      "ckpt-1"]
  assert not any(name.startswith("ckpt-2") for name in os.listdir(model_dir))
  old_events = set(os.listdir(os.path.join(tiny_run[0], "train")))
  assert not old_events & set(os.listdir(os.path.join(model_dir, "train")))


def test_resume_under_other_settings_is_refused(tiny_run, tmp_path, capsys):
  model_dir = str(tmp_path / "run")
  shutil.copytree(tiny_run[0], model_dir)
  experiment = tiny_run[1]
  run = dict(train_text=TEXT, model_dir=model_dir, evaluate=False,
             steps_per_loop=1)
  other = experiment.replace(train=dict(learning_rate=2e-3),
                             model=dict(mask_prob=0.3))
  before = sorted(os.listdir(model_dir))
  with pytest.raises(ValueError) as error:
    run_pretraining.pretrain(other, VOCAB, **run)
  message = str(error.value)
  assert f"{model_dir} holds a run made with other settings" in message
  assert (f"train.learning_rate: {experiment.train.learning_rate!r} -> 0.002"
          in message)
  assert f"model.mask_prob: {experiment.model.mask_prob!r} -> 0.3" in message
  assert "--noresume --overwrite" in message and "seed" not in message
  assert sorted(os.listdir(model_dir)) == before
  # Its own settings resume it; having finished, it says so and trains
  # nothing; only a longer run trains on.
  losses, _ = run_pretraining.pretrain(experiment, VOCAB, **run)
  assert losses == []
  assert "the run had already finished" in capsys.readouterr().out
  longer = experiment.replace(train=dict(num_train_steps=3))
  losses, _ = run_pretraining.pretrain(longer, VOCAB, **run)
  assert [step for step, _ in losses] == [3]
