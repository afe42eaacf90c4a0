"""Builds encoders and pretrainers from configs."""

from typing import Optional

import tensorflow as tf
import tf_keras

from electra_tf import activations
from electra_tf import checkpoint_fit
from electra_tf import runtime
from electra_tf.configs import EncoderConfig, PretrainerConfig
from electra_tf.models import ElectraPretrainer
from electra_tf.models import MaskedLMPretrainer
from electra_tf.models.pretrainer_base import PretrainerBase
from electra_tf.networks import ElectraEncoder


def build_encoder(config: EncoderConfig, **kwargs) -> ElectraEncoder:
  return ElectraEncoder(config, **kwargs)


def build_pretrainer(config: PretrainerConfig, seed: Optional[int] = None,
                     **kwargs) -> PretrainerBase:
  """The pretrainer of `config.objective`.

  electra: the generator and discriminator, sharing one embeddings layer.
  mlm: the discriminator's encoder under the generator's masked-LM head.
  Extra keyword arguments go to the model (e.g. `mask_token_id`).
  """
  config.validate()
  # Dropout draws from tf.random.Generator state, which checkpoints and
  # SavedModels keep: a resumed run, or two fine-tunings of one Hub export,
  # draw the same masks.
  with runtime.checkpointable_dropout():
    return _build_pretrainer(config, seed, **kwargs)


def _build_pretrainer(config, seed, **kwargs):
  disc_config = config.discriminator
  discriminator = ElectraEncoder(disc_config, name="discriminator")
  shared = dict(
      vocab_size=disc_config.vocab_size,
      num_token_predictions=config.max_predictions_per_seq,
      mlm_activation=activations.get_activation(config.masked_lm_head_act()),
      mlm_initializer=tf_keras.initializers.TruncatedNormal(
          stddev=disc_config.initializer_range),
      mask_prob=config.mask_prob,
      mask_token_rate=config.mask_token_rate,
      seed=seed,
      **kwargs)
  if config.objective == "mlm":
    return MaskedLMPretrainer(encoder_network=discriminator, **shared)
  generator = ElectraEncoder(
      config.generator(),
      embeddings=discriminator.embeddings if config.share_embeddings else None,
      name="generator")
  return ElectraPretrainer(
      generator_network=generator,
      discriminator_network=discriminator,
      rtd_activation=activations.get_activation(disc_config.hidden_act),
      disallow_correct=config.disallow_correct,
      temperature=config.temperature,
      uniform_generator=config.uniform_generator,
      **shared)


def restore_pretrainer(config: PretrainerConfig, checkpoint_path: str,
                       **kwargs) -> PretrainerBase:
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
  checkpoint_fit.check_readable(checkpoint_path, next_step=(
      "Give a sound one (a run keeps its last three). Nothing was written."))
  saved = {name.split("/")[1] for name, _ in
           tf.train.list_variables(checkpoint_path) if name.startswith("model/")}
  for objective, network in (("electra", "generator_network"),
                             ("mlm", "encoder_network")):
    if network in saved and config.objective != objective:
      raise ValueError(f"{checkpoint_path} holds a model.objective "
                       f"{objective} pretrainer; the config says "
                       f"{config.objective}")
  checkpoint_fit.check(config, checkpoint_path)
  pretrainer = build_pretrainer(config, **kwargs)
  status = tf.train.Checkpoint(model=pretrainer).restore(checkpoint_path)
  status.expect_partial().assert_existing_objects_matched()
  return pretrainer
