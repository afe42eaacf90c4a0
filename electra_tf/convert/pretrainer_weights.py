"""Moves whole ELECTRA pretrainers between checkpoint formats."""

import os
from typing import Mapping, NamedTuple, Optional

import numpy as np

from electra_tf.configs import EncoderConfig
from electra_tf.convert import huggingface
from electra_tf.convert import original_tf1
from electra_tf.convert import weight_files


def encoder_prefix(weights: Mapping[str, np.ndarray]) -> str:
  """Where a transformers state dict keeps its encoder: `electra.`
  (ElectraFor*), `bert.` (BertFor*) or nowhere (ElectraModel, BertModel)."""
  for prefix in ("electra.", "bert.", ""):
    if prefix + "embeddings.word_embeddings.weight" in weights:
      return prefix
  raise ValueError(
      "no encoder in these weights: expected embeddings.word_embeddings.weight"
      f" under electra., bert. or no prefix; they hold {len(weights)} "
      f"tensors, e.g. {sorted(weights)[:4]}")


class ReleasedEncoder(NamedTuple):
  """An encoder to fine-tune as released: its sizes, its weights (Hugging
  Face names) and, where the release has them, vocabulary and casing."""
  config: EncoderConfig
  weights: Mapping[str, np.ndarray]
  vocab_file: Optional[str]
  do_lower_case: Optional[bool]

  def load_into(self, encoder):
    huggingface.load_encoder(encoder, self.weights,
                             prefix=encoder_prefix(self.weights))


def released_encoder(path: str) -> Optional[ReleasedEncoder]:
  """The discriminator of a transformers directory or an original TF1
  checkpoint at `path`; None for anything else (e.g. a run of ours)."""
  if weight_files.is_hf_model_dir(path):
    vocab_file, do_lower_case = weight_files.hf_vocabulary(path) or (None,
                                                                     None)
    return ReleasedEncoder(weight_files.read_hf_encoder_config(path),
                           weight_files.read_weights(path), vocab_file,
                           do_lower_case)
  if original_tf1.is_checkpoint(path):
    weights = original_tf1.read_checkpoint(path, "discriminator")
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    vocab_file = os.path.join(directory, "vocab.txt")  # as Google ships it
    return ReleasedEncoder(original_tf1.encoder_config(weights), weights,
                           vocab_file if os.path.isfile(vocab_file) else None,
                           None)
  return None


def load_discriminator(pretrainer, weights: Mapping[str, np.ndarray]):
  """ElectraForPreTraining weights, or a BERT encoder's (with its pooler);
  the RTD head loads if present."""
  huggingface.load_encoder(pretrainer.discriminator_network, weights,
                           prefix=encoder_prefix(weights))
  if any(k.startswith(huggingface.DISCRIMINATOR_HEAD_PREFIX) for k in weights):
    huggingface.load_discriminator_head(pretrainer.discriminator_head, weights)


def load_generator(pretrainer, weights: Mapping[str, np.ndarray]):
  """ElectraForMaskedLM weights into the generator, after the discriminator.

  The generator shares the discriminator's embeddings, so its own copy must
  equal them.
  """
  huggingface.load_encoder(pretrainer.generator_network, weights,
                           load_embeddings=False)
  huggingface.load_generator_head(pretrainer.masked_lm, weights)


def load_from_hf(pretrainer, discriminator_path: str,
                 generator_path: Optional[str] = None):
  load_discriminator(pretrainer, weight_files.read_weights(discriminator_path))
  if generator_path:
    load_generator(pretrainer, weight_files.read_weights(generator_path))


def load_from_tf1(pretrainer, checkpoint_path: str, with_generator=True):
  load_discriminator(pretrainer, original_tf1.read_checkpoint(
      checkpoint_path, "discriminator"))
  if with_generator:
    load_generator(pretrainer, original_tf1.read_checkpoint(
        checkpoint_path, "generator"))


def save_as_bert(pretrainer, network: str, output_dir: str):
  """The encoder as a transformers `BertModel` (BERT's names, no prefix),
  pooler included; BERT has no embedding projection, so the embedding width
  must be the hidden size."""
  encoder = pretrainer.get_network(network)
  if encoder.embedding_projection is not None:
    raise ValueError(
        f"the {network}'s embeddings ({encoder.config.embedding_size} wide) "
        f"are projected to its hidden size ({encoder.config.hidden_size}); "
        "BERT's layout has no projection, so write it as ELECTRA")
  weights = huggingface.state_dict(
      huggingface.encoder_entries(encoder, with_pooler=True))
  weight_files.write_hf_model(
      output_dir, weights,
      weight_files.hf_config(encoder.config, "BertModel", model_type="bert"))


def save_as_hf(pretrainer, network: str, output_dir: str):
  """ElectraForPreTraining (ELECTRA's discriminator) or ElectraForMaskedLM
  (its generator, or a masked-LM pretrainer's encoder with its head)."""
  encoder = pretrainer.get_network(network)
  weights = huggingface.state_dict(huggingface.encoder_entries(encoder),
                                   "electra.")
  if encoder is not pretrainer.mlm_network:
    weights.update(huggingface.state_dict(
        huggingface.discriminator_head_entries(pretrainer.discriminator_head),
        huggingface.DISCRIMINATOR_HEAD_PREFIX))
    architecture = "ElectraForPreTraining"
  else:
    activation = pretrainer.get_config()["mlm_activation"]
    if activation != "electra_tf>gelu":
      print(f"warning: the masked-LM head applies {activation}; "
            "transformers' ElectraForMaskedLM applies the exact GELU, so its "
            "logits will differ slightly (train with "
            "model.generator_head_act=gelu to match)", flush=True)
    weights.update(huggingface.state_dict(
        huggingface.generator_head_entries(pretrainer.masked_lm),
        huggingface.GENERATOR_HEAD_PREFIX))
    # generator_lm_head.weight is left out: transformers ties it on load.
    architecture = "ElectraForMaskedLM"
  weight_files.write_hf_model(
      output_dir, weights,
      weight_files.hf_config(encoder.config, architecture))
