"""Builds encoders and pretrainers from configs."""

from typing import Optional

import tensorflow as tf
import tf_keras

from electra_tf import activations
from electra_tf.configs import EncoderConfig, PretrainerConfig
from electra_tf.models import ElectraPretrainer
from electra_tf.networks import ElectraEncoder


def build_encoder(config: EncoderConfig, **kwargs) -> ElectraEncoder:
  return ElectraEncoder(config, **kwargs)


def build_pretrainer(config: PretrainerConfig, seed: Optional[int] = None,
                     **kwargs) -> ElectraPretrainer:
  """The generator and discriminator of `config`, sharing one embeddings layer.

  Extra keyword arguments go to `ElectraPretrainer` (e.g. `mask_token_id`).
  """
  config.validate()
  discriminator = ElectraEncoder(config.discriminator, name="discriminator")
  generator = ElectraEncoder(config.generator(),
                             embeddings=discriminator.embeddings,
                             name="generator")
  disc_config = config.discriminator
  return ElectraPretrainer(
      generator_network=generator,
      discriminator_network=discriminator,
      vocab_size=disc_config.vocab_size,
      num_token_predictions=config.max_predictions_per_seq,
      mlm_activation=activations.get_activation(disc_config.hidden_act),
      mlm_initializer=tf_keras.initializers.TruncatedNormal(
          stddev=disc_config.initializer_range),
      disallow_correct=config.disallow_correct,
      temperature=config.temperature,
      mask_prob=config.mask_prob,
      mask_token_rate=config.mask_token_rate,
      seed=seed,
      **kwargs)


def restore_pretrainer(config: PretrainerConfig, checkpoint_path: str,
                       **kwargs) -> ElectraPretrainer:
  """The pretrainer of `config` with weights from a run_pretraining checkpoint.

  `checkpoint_path` is a checkpoint prefix or a directory (its latest one).
  """
  if tf.io.gfile.isdir(checkpoint_path):
    latest = tf.train.latest_checkpoint(checkpoint_path)
    if latest is None:
      raise FileNotFoundError(f"No checkpoint in directory {checkpoint_path}")
    checkpoint_path = latest
  if not tf.io.gfile.exists(checkpoint_path + ".index"):
    raise FileNotFoundError(f"No checkpoint at {checkpoint_path}")
  pretrainer = build_pretrainer(config, **kwargs)
  status = tf.train.Checkpoint(model=pretrainer).restore(checkpoint_path)
  status.expect_partial().assert_existing_objects_matched()
  return pretrainer
