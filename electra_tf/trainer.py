"""Optimizer and train step for ELECTRA pretraining (original recipe)."""

import tensorflow as tf
import tf_keras
from official.nlp import optimization

from electra_tf import losses
from electra_tf.configs import PretrainerConfig, TrainConfig


def make_optimizer(config: TrainConfig):
  """AdamW (no decay on LayerNorm and biases), linear warmup then decay to 0.

  The optimizer clips gradients to `clip_norm` by global norm before applying.
  """
  schedule = tf_keras.optimizers.schedules.PolynomialDecay(
      initial_learning_rate=config.learning_rate,
      decay_steps=config.num_train_steps, end_learning_rate=0.0, power=1.0)
  if config.num_warmup_steps:
    schedule = optimization.WarmUp(
        initial_learning_rate=config.learning_rate,
        decay_schedule_fn=schedule, warmup_steps=config.num_warmup_steps)
  return optimization.AdamWeightDecay(
      learning_rate=schedule, weight_decay_rate=config.weight_decay,
      beta_1=0.9, beta_2=0.999, epsilon=1e-6,
      exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"],
      gradient_clip_norm=config.clip_norm)


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
