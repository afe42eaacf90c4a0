"""The training loop under tf.distribute: replicas, workers, mixed precision."""

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from electra_tf import configs
from electra_tf import optimization
from electra_tf import run_pretraining
from electra_tf import trainer

from conftest import CPUS, REPO, TEXT, VOCAB


def _toy_model():
  model = tf_keras.Sequential([
      tf_keras.layers.Dense(8, activation="tanh", name="layer_0"),
      tf_keras.layers.Dense(1, name="head")])
  model.build([None, 4])
  return model


def _squared_error(model, batch):
  loss = tf.reduce_mean(tf.square(model(batch["x"])[:, 0] - batch["y"]))
  return loss, {"mse": loss}


def _train(strategy, batches, clip_norm):
  tf_keras.utils.set_random_seed(1)
  with strategy.scope():
    model = _toy_model()
    optimizer = optimization.make_optimizer(0.1, 10, 0, clip_norm=clip_norm)
  loop = trainer.make_train_loop(model, optimizer, _squared_error, clip_norm,
                                 strategy)
  loss, _ = loop(iter(batches), tf.constant(3))
  return float(loss), [v.numpy() for v in model.variables]


@pytest.mark.parametrize("clip_norm", [0.0, 0.05])
def test_two_replicas_take_the_steps_of_one_device(mirrored, clip_norm):
  rng = np.random.default_rng(0)
  batches = tf.data.Dataset.from_tensor_slices(dict(
      x=rng.normal(size=(48, 4)).astype(np.float32),
      y=rng.normal(size=48).astype(np.float32))).batch(16)
  one_loss, one = _train(tf.distribute.OneDeviceStrategy(CPUS[0]), batches,
                         clip_norm)
  two_loss, two = _train(mirrored, batches, clip_norm)
  # Half a batch on each replica, gradients averaged, then clipped: the
  # same update as the whole batch on one device.
  assert two_loss == pytest.approx(one_loss, rel=1e-5)
  for a, b in zip(one, two):
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
  initial = _toy_model().get_weights()  # same seed, fresh weights
  assert any(not np.allclose(a, b) for a, b in zip(one, initial))


def test_average_and_clip_clips_the_global_batch_gradient(mirrored):
  strategy = mirrored
  per_replica = strategy.experimental_distribute_values_from_function(
      lambda context: [tf.constant([3.0, 0.0]) if
                       context.replica_id_in_sync_group == 0 else
                       tf.constant([0.0, 4.0])])
  result = tf.function(strategy.run)(
      lambda g: trainer.average_and_clip(g, 1.0), (per_replica,))
  # Mean [1.5, 2], norm 2.5: clipped to [0.6, 0.8] on both replicas.
  for value in strategy.experimental_local_results(result[0]):
    np.testing.assert_allclose(value, [0.6, 0.8], rtol=1e-6)


def test_pretraining_on_two_replicas(mirrored, tmp_path):
  config = configs.load_experiment(
      "mini", "train.num_train_steps=20,train.batch_size=8")
  losses, _ = run_pretraining.pretrain(config, VOCAB, train_text=TEXT,
                                       model_dir=str(tmp_path), log_every=5,
                                       strategy=mirrored, evaluate=False)
  assert [step for step, _ in losses] == [5, 10, 15, 20]
  assert losses[-1][1] < losses[0][1]
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-20")


@pytest.fixture
def mixed_float16():
  tf_keras.mixed_precision.set_global_policy("mixed_float16")
  yield
  tf_keras.mixed_precision.set_global_policy("float32")


def test_mixed_float16_pretraining_scales_the_loss(tmp_path, mixed_float16):
  del mixed_float16
  config = configs.load_experiment(
      "mini", "train.num_train_steps=20,train.batch_size=8")
  losses, _ = run_pretraining.pretrain(config, VOCAB, train_text=TEXT,
                                       model_dir=str(tmp_path), log_every=5,
                                       evaluate=False)
  assert all(np.isfinite(loss) for _, loss in losses)
  assert losses[-1][1] < losses[0][1]
  reader = tf.train.load_checkpoint(str(tmp_path))
  names = reader.get_variable_to_shape_map()
  scale = "optimizer/loss_scale/current_loss_scale/.ATTRIBUTES/VARIABLE_VALUE"
  assert scale in names and 1 <= reader.get_tensor(scale) <= 2 ** 15
  # Weights stay float32; only the computation is float16.
  dtypes = reader.get_variable_to_dtype_map()
  weights = [n for n in names if n.startswith("model/") and "/rng/" not in n]
  assert len(weights) > 40
  assert all(dtypes[n] == tf.float32 for n in weights)


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_workers_train_in_sync(tmp_path):
  small_text = tmp_path / "small.txt"
  with open(TEXT, encoding="utf-8") as f:
    small_text.write_text(f.read(100_000), encoding="utf-8")
  cluster = {"worker": [f"127.0.0.1:{_free_port()}" for _ in range(2)]}
  model_dir = tmp_path / "run"
  workers = []
  for index in range(2):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_CONFIG=json.dumps(
        {"cluster": cluster, "task": {"type": "worker", "index": index}}))
    workers.append(subprocess.Popen(
        [sys.executable, "-m", "electra_tf.run_pretraining",
         "--distribution_strategy=multi_worker_mirrored", "--config=mini",
         f"--train_text={small_text}", f"--model_dir={model_dir}",
         "--num_train_steps=12", "--params_override=train.batch_size=8",
         "--checkpoint_every=6", "--log_every=6"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True))
  outputs = [w.communicate(timeout=540)[0] for w in workers]
  for worker, output in zip(workers, outputs):
    assert worker.returncode == 0, output[-3000:]
  # Losses are averaged over the workers, so both report the same ones.
  summaries = [re.findall(r"loss ([\d.]+) -> ([\d.]+)", o) for o in outputs]
  assert summaries[0] == summaries[1] and len(summaries[0]) == 1
  first, last = map(float, summaries[0][0])
  assert last < first
  # Both end with the same weights: the chief's checkpoint in
  # model_dir, worker 1's in model_dir/worker_1.
  chief = tf.train.load_checkpoint(str(model_dir))
  other = tf.train.load_checkpoint(str(model_dir / "worker_1"))
  names = [n for n in chief.get_variable_to_shape_map()
           if n.startswith("model/") and "rng" not in n]
  assert len(names) > 40
  for name in names:
    np.testing.assert_array_equal(other.get_tensor(name),
                                  chief.get_tensor(name), err_msg=name)
  assert os.listdir(model_dir / "train")  # summaries: the chief's only
  assert not os.path.exists(model_dir / "worker_1" / "train")
  # Both score the same held-out batches together; the chief writes results.
  evaluations = [re.findall(r"eval +12 .*", o) for o in outputs]
  assert evaluations[0] == evaluations[1] and len(evaluations[0]) == 1
  assert os.path.exists(model_dir / "eval_results.json")
  assert not os.path.exists(model_dir / "worker_1" / "eval_results.json")
