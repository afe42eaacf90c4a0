"""Distribution strategy, mixed precision and exact resumption for the binaries."""

import contextlib
import os

import tensorflow as tf
import tf_keras
from official.common import distribute_utils

STRATEGIES = ("one_device", "mirrored", "multi_worker_mirrored", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def configure(distribution_strategy: str = "one_device",
              mixed_precision: str = "float32", num_gpus: int = -1,
              tpu: str = "", intra_op_threads: int = 0,
              inter_op_threads: int = 0) -> tf.distribute.Strategy:
  """Sets the Keras precision policy and returns the strategy to build under.

  `num_gpus=-1` uses every visible GPU (one_device: the first, or the CPU).
  multi_worker_mirrored reads the cluster from TF_CONFIG. The thread counts
  size TensorFlow's CPU thread pools (0: its default, one thread per core in
  each); they must be set before TensorFlow runs anything.
  """
  if intra_op_threads:
    tf.config.threading.set_intra_op_parallelism_threads(intra_op_threads)
  if inter_op_threads:
    tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads)
  if distribution_strategy not in STRATEGIES:
    raise ValueError(f"distribution_strategy must be one of {STRATEGIES}, "
                     f"got {distribution_strategy!r}")
  if mixed_precision not in PRECISIONS:
    raise ValueError(f"mixed_precision must be one of {PRECISIONS}, "
                     f"got {mixed_precision!r}")
  tf_keras.mixed_precision.set_global_policy(mixed_precision)
  if num_gpus < 0:
    num_gpus = len(tf.config.list_physical_devices("GPU"))
  if distribution_strategy == "one_device":
    num_gpus = min(num_gpus, 1)
  return distribute_utils.get_distribution_strategy(
      distribution_strategy=distribution_strategy, num_gpus=num_gpus,
      tpu_address=tpu or None)


def worker_input_context(strategy: tf.distribute.Strategy
                         ) -> tf.distribute.InputContext:
  """This worker's input pipeline: one per worker, each with its own shard.

  Workers are numbered as MultiWorkerMirroredStrategy numbers them: the chief
  (if any) first, then the workers in TF_CONFIG order.
  """
  pipeline, num_pipelines = 0, 1
  if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    resolver = strategy.cluster_resolver
    cluster = resolver.cluster_spec().as_dict()
    tasks = [("chief", i) for i in range(len(cluster.get("chief", [])))]
    tasks += [("worker", i) for i in range(len(cluster.get("worker", [])))]
    if tasks:
      pipeline = tasks.index((resolver.task_type, resolver.task_id))
      num_pipelines = len(tasks)
  return tf.distribute.InputContext(
      num_input_pipelines=num_pipelines, input_pipeline_id=pipeline,
      num_replicas_in_sync=strategy.num_replicas_in_sync)


def writer_directory(directory: str, strategy: tf.distribute.Strategy) -> str:
  """Where this worker writes: `directory` for the chief, else its own
  `directory/worker_<i>`, since a worker's input position is its own."""
  if strategy.extended.should_checkpoint:
    return directory
  return os.path.join(
      directory, f"worker_{worker_input_context(strategy).input_pipeline_id}")


@contextlib.contextmanager
def checkpointable_dropout():
  """Dropout layers made inside draw from `tf.random.Generator` state.

  That state can be checkpointed (`dropout_generators`), so a resumed run
  draws the masks the uninterrupted one would have drawn.
  """
  experimental = tf_keras.backend.experimental
  enabled = experimental.is_tf_random_generator_enabled()  # when nested
  experimental.enable_tf_random_generator()
  try:
    yield
  finally:
    if not enabled:
      experimental.disable_tf_random_generator()


def dropout_generators(model):
  """The random generators of the model's dropout layers.

  Keras leaves them out of checkpoints on purpose (for compatibility); we
  save them beside the model.
  """
  return [layer._random_generator._generator  # pylint: disable=protected-access
          for layer in model.submodules
          if isinstance(layer, tf_keras.layers.Dropout)]
