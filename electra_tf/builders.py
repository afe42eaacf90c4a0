"""Builds encoders and pretrainers from configs."""

from typing import Optional

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
