"""Pretraining compute: matmul FLOPs of a train step, as the ELECTRA paper
counts it (generator included; backward = 2 x forward).
"""

from electra_tf.configs import EncoderConfig, PretrainerConfig


def encoder_flops(config: EncoderConfig, seq_length: int) -> int:
  """Matmul FLOPs of one sequence's forward pass through an encoder."""
  hidden, inner = config.hidden_size, config.intermediate_size
  per_layer = (2 * seq_length * (4 * hidden * hidden + 2 * hidden * inner) +
               2 * 2 * seq_length * seq_length * hidden)  # QK^T and AV
  projection = (2 * seq_length * config.embedding_size * hidden
                if config.embedding_size != hidden else 0)
  return config.num_layers * per_layer + projection


def _masked_lm_head_flops(config: PretrainerConfig, mlm_encoder: EncoderConfig):
  """The MLM head at the masked positions: dense to the embedding width,
  then the tied output layer over the vocabulary."""
  embedding = config.discriminator.embedding_size
  return 2 * config.max_predictions_per_seq * (
      mlm_encoder.hidden_size * embedding +
      embedding * config.discriminator.vocab_size)


def train_flops_per_example(config: PretrainerConfig, seq_length: int) -> int:
  """Matmul FLOPs of forward + backward (3 x forward) for one example.

  ELECTRA: generator, its MLM head, discriminator and RTD head. Masked LM:
  the encoder and its MLM head.
  """
  disc = config.discriminator
  if config.objective == "mlm":
    forward = encoder_flops(disc, seq_length) + _masked_lm_head_flops(config,
                                                                      disc)
  else:
    generator = config.generator()
    rtd_head = 2 * seq_length * (disc.hidden_size * disc.hidden_size +
                                 disc.hidden_size)
    forward = (encoder_flops(generator, seq_length) +
               _masked_lm_head_flops(config, generator) +
               encoder_flops(disc, seq_length) + rtd_head)
  return 3 * forward
