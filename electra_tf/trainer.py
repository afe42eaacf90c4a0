"""Optimizer and distributed training loop for ELECTRA pretraining."""

from typing import Callable

import tensorflow as tf
import tf_keras

from electra_tf import losses
from electra_tf import optimization
from electra_tf.configs import PretrainerConfig, TrainConfig


# ELECTRA's generator encoder and MLM head; the embeddings it shares with
# the discriminator are the discriminator's.
GENERATOR_VARIABLES = r"^generator(_predictions)?/"


def make_optimizer(config: TrainConfig):
  """The optimizer of `config` (see `optimization.make_optimizer`); the
  generator's variables learn at `generator_learning_rate_factor` times the
  rate.

  It does not clip: `make_train_loop` clips to `config.clip_norm` after
  averaging over the replicas. Under a mixed_float16 policy it is wrapped in
  a dynamic loss-scale optimizer, so that small float16 gradients do not
  underflow.
  """
  optimizer = optimization.make_optimizer(
      config.learning_rate, config.num_train_steps, config.num_warmup_steps,
      weight_decay=config.weight_decay, clip_norm=0.0,
      lr_multipliers=[(GENERATOR_VARIABLES,
                       config.generator_learning_rate_factor)])
  if tf_keras.mixed_precision.global_policy().compute_dtype == "float16":
    optimizer = tf_keras.mixed_precision.LossScaleOptimizer(optimizer)
  return optimizer


def sampling_temperature(model_config: PretrainerConfig, step):
  """ELECTRA's sampling temperature at `step`: `temperature`, falling
  linearly to 1 over `temperature_decay_steps` when that is set."""
  start, steps = model_config.temperature, model_config.temperature_decay_steps
  progress = tf.minimum(tf.cast(step, tf.float32) / steps, 1.0)
  return start + (1.0 - start) * progress


def pretraining_loss(model_config: PretrainerConfig, step=None):
  """(model, batch) -> (loss, metrics) of one training forward pass.

  `step` (the optimizer's iterations) drives the sampling temperature when
  `model_config.temperature_decay_steps` is set.
  """
  decays = model_config.objective == "electra" and (
      model_config.temperature_decay_steps > 0)
  if decays and step is None:
    raise ValueError("model.temperature_decay_steps needs the training step")

  def loss_fn(model, batch):
    if decays:
      outputs = model(batch, training=True,
                      temperature=sampling_temperature(model_config, step))
    else:
      outputs = model(batch, training=True)
    return losses.pretraining_loss_and_metrics(
        outputs, batch["input_mask"], mlm_weight=model_config.mlm_weight,
        disc_weight=model_config.disc_weight)

  return loss_fn


def average_and_clip(gradients, clip_norm: float):
  """Averages gradients over the replicas, then clips their global norm.

  Called in a replica context. Clipping after the average clips the
  gradient of the global batch, as on one device; Keras optimizers would clip
  each replica's share before summing.
  """
  context = tf.distribute.get_replica_context()
  if context.num_replicas_in_sync > 1:
    gradients = context.all_reduce(tf.distribute.ReduceOp.MEAN, gradients)
  if clip_norm > 0:
    gradients, _ = tf.clip_by_global_norm(gradients, clip_norm)
  return gradients


def make_train_loop(model, optimizer, loss_fn: Callable, clip_norm: float,
                    strategy: tf.distribute.Strategy, num_workers: int = 1,
                    jit_compile: bool = False):
  """A compiled function (iterator, num_steps) -> (loss, metrics).

  The iterator yields this worker's share of each global batch; it is split
  evenly over the worker's replicas. The function runs `num_steps` steps and
  returns the loss and metrics averaged over those steps and the replicas.
  With `jit_compile`, XLA compiles each replica's forward and backward pass;
  the gradient all-reduce and the update stay outside it, so every strategy
  can run them.
  """
  loss_scaled = isinstance(optimizer,
                           tf_keras.mixed_precision.LossScaleOptimizer)
  local_replicas = strategy.num_replicas_in_sync // num_workers

  @tf.function(jit_compile=jit_compile)
  def forward_backward(batch):
    with tf.GradientTape() as tape:
      loss, metrics = loss_fn(model, batch)
      scaled_loss = optimizer.get_scaled_loss(loss) if loss_scaled else loss
    return loss, metrics, tape.gradient(scaled_loss,
                                        model.trainable_variables)

  def replica_step(batch):
    loss, metrics, gradients = forward_backward(batch)
    # The poolers get no gradient: ELECTRA does not pretrain them.
    pairs = [(g, v) for g, v in zip(gradients, model.trainable_variables)
             if g is not None]
    gradients = [g for g, _ in pairs]
    if loss_scaled:
      gradients = optimizer.get_unscaled_gradients(gradients)
    gradients = average_and_clip(gradients, clip_norm)
    # Already averaged and clipped: the optimizer must not do either again.
    # A loss-scale optimizer skips the update when they are not finite.
    optimizer.apply_gradients(zip(gradients, [v for _, v in pairs]),
                              experimental_aggregate_gradients=False)
    return loss, metrics

  def replica_share(worker_batch):
    def value_fn(context):
      if local_replicas == 1:
        return worker_batch
      index = context.replica_id_in_sync_group % local_replicas
      return tf.nest.map_structure(
          lambda t: tf.split(t, local_replicas)[index], worker_batch)
    return strategy.experimental_distribute_values_from_function(value_fn)

  def step(iterator):
    per_replica = strategy.run(replica_step, (replica_share(next(iterator)),))
    return tf.nest.map_structure(
        lambda value: strategy.reduce(tf.distribute.ReduceOp.MEAN, value,
                                      axis=None), per_replica)

  @tf.function
  def train_loop(iterator, num_steps):
    totals = step(iterator)
    for _ in tf.range(num_steps - 1):
      totals = tf.nest.map_structure(tf.add, totals, step(iterator))
    steps = tf.cast(num_steps, tf.float32)
    return tf.nest.map_structure(lambda total: total / steps, totals)

  return train_loop
