"""A pretraining run killed mid-way and resumed ends where an unbroken run does.

Model, optimizer, input position and the random state of masking, sampling
and dropout are all restored, so the weights are bit-identical.
"""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from conftest import REPO, TEXT


def _command(tmp_path, model_dir):
  small_text = tmp_path / "small.txt"
  if not small_text.exists():
    with open(TEXT, encoding="utf-8") as f:
      small_text.write_text(f.read(150_000), encoding="utf-8")
  return [sys.executable, "-m", "electra_tf.run_pretraining",
          "--config=mini", f"--train_text={small_text}",
          f"--model_dir={model_dir}",
          "--params_override=train.num_train_steps=30,train.batch_size=8",
          "--checkpoint_every=10", "--log_every=1"]


def _weights(model_dir):
  reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(model_dir))
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name.startswith("model/")}


def test_kill_and_resume_matches_an_unbroken_run(tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  subprocess.run(_command(tmp_path, tmp_path / "unbroken"), cwd=REPO,
                 check=True, env=env, capture_output=True)

  killed_dir = tmp_path / "killed"
  process = subprocess.Popen(_command(tmp_path, killed_dir), cwd=REPO,
                             env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
  for line in process.stdout:
    if line.startswith("step     13"):  # past the checkpoint at step 10
      process.kill()
      break
  process.wait()
  assert process.returncode != 0
  assert tf.train.latest_checkpoint(str(killed_dir)).endswith("ckpt-10")

  resumed = subprocess.run(_command(tmp_path, killed_dir), cwd=REPO,
                           check=True, env=env, capture_output=True,
                           text=True)
  assert "resumed from" in resumed.stdout and "at step 10" in resumed.stdout
  unbroken, after_kill = _weights(tmp_path / "unbroken"), _weights(killed_dir)
  assert len(unbroken) > 40 and unbroken.keys() == after_kill.keys()
  for name, value in unbroken.items():
    np.testing.assert_array_equal(after_kill[name], value, err_msg=name)
  # Summaries for TensorBoard were written.
  assert os.listdir(killed_dir / "train")
