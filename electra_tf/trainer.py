"""Optimizer and train step for ELECTRA pretraining (original recipe)."""

import tensorflow as tf

from electra_tf import losses
from electra_tf import optimization
from electra_tf.configs import PretrainerConfig, TrainConfig


def make_optimizer(config: TrainConfig):
  """The pretraining optimizer of `config` (see `optimization.make_optimizer`)."""
  return optimization.make_optimizer(
      config.learning_rate, config.num_train_steps, config.num_warmup_steps,
      weight_decay=config.weight_decay, clip_norm=config.clip_norm)


def make_train_step(model, optimizer, model_config: PretrainerConfig,
                    jit_compile: bool = False):
  """A compiled function: batch -> (loss, metrics), updating the weights."""

  @tf.function(jit_compile=jit_compile)
  def train_step(batch):
    with tf.GradientTape() as tape:
      outputs = model(batch, training=True)
      loss, metrics = losses.pretraining_loss_and_metrics(
          outputs, batch["input_mask"], mlm_weight=model_config.mlm_weight,
          disc_weight=model_config.disc_weight)
    # The poolers get no gradient: ELECTRA does not pretrain them.
    grads_and_vars = [(g, v) for g, v in zip(
        tape.gradient(loss, model.trainable_variables),
        model.trainable_variables) if g is not None]
    optimizer.apply_gradients(grads_and_vars)
    return loss, metrics

  return train_step
