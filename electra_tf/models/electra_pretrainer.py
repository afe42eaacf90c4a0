"""The ELECTRA generator + discriminator training model."""

from typing import Optional, Sequence

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils
from official.nlp.modeling import layers as nlp_layers

from electra_tf.layers import ReplacedTokenDetectionHead
from electra_tf.ops import masking

# [PAD], [CLS], [SEP] and [MASK] in the BERT uncased vocabulary.
BERT_SPECIAL_TOKEN_IDS = (0, 101, 102)
BERT_MASK_TOKEN_ID = 103
# The pretrainer's two encoders, as named by its `<name>_network` attributes.
NETWORKS = ("discriminator", "generator")


class ElectraPretrainer(tf_keras.Model):
  """Replaced-token detection: a small MLM generator feeds a discriminator.

  Inputs: a dict of `input_word_ids`, `input_mask`, `input_type_ids` (int32
  [batch, seq]). Without `masked_lm_positions`, tokens are masked in-graph
  (dynamic masking); with BERT-style `masked_lm_positions`, `masked_lm_ids` and
  `masked_lm_weights`, `input_word_ids` is taken as already masked.

  Outputs: `lm_outputs` [batch, P, vocab] (generator MLM at the masked
  positions), `disc_logits` [batch, seq], `disc_label` [batch, seq] (1 where the
  sampled token differs from the original; 0 on padding), `disc_input_ids`
  (what the discriminator saw), the `masked_lm_positions/ids/weights` used, and `sentence_outputs` [batch,
  num_classes] when `num_classes` is set.

  Args:
    generator_network: encoder returning a dict with `sequence_output`; it
      should share its embeddings with the discriminator.
    discriminator_network: encoder returning a dict with `sequence_output`.
    vocab_size: size of the generator's output vocabulary.
    num_token_predictions: P, the number of masked positions per sequence.
    mlm_activation: activation of the MLM and replaced-token-detection heads.
    mlm_initializer: initializer of the heads.
    output_type: "logits" or "predictions" (log-probabilities) for lm_outputs.
    disallow_correct: never sample the original token.
    temperature: sampling temperature of the generator.
    num_classes: adds a classification head on the generator's [CLS] output.
    mask_prob, mask_token_rate, mask_token_id, special_token_ids: dynamic
      masking, see `ops.masking.mask_tokens`.
    seed: seed of the random generator behind masking and sampling; its state
      is checkpointed with the model.
  """

  def __init__(self, generator_network, discriminator_network, vocab_size: int,
               num_token_predictions: int, mlm_activation=None,
               mlm_initializer="glorot_uniform", output_type: str = "logits",
               disallow_correct: bool = False, temperature: float = 1.0,
               num_classes: Optional[int] = None, mask_prob: float = 0.15,
               mask_token_rate: float = 0.85,
               mask_token_id: int = BERT_MASK_TOKEN_ID,
               special_token_ids: Sequence[int] = BERT_SPECIAL_TOKEN_IDS,
               seed: Optional[int] = None, **kwargs):
    super().__init__(**kwargs)
    if output_type not in ("logits", "predictions"):
      raise ValueError(f"output_type must be 'logits' or 'predictions', got "
                       f"{output_type!r}")
    self.generator_network = generator_network
    self.discriminator_network = discriminator_network
    self.vocab_size = vocab_size
    self.num_token_predictions = num_token_predictions
    self.output_type = output_type
    self.disallow_correct = disallow_correct
    self.temperature = temperature
    self.mask_prob = mask_prob
    self.mask_token_rate = mask_token_rate
    self.mask_token_id = mask_token_id
    self.special_token_ids = tuple(special_token_ids)
    self.masked_lm = nlp_layers.MaskedLM(
        embedding_table=generator_network.get_embedding_table(),
        activation=mlm_activation,
        initializer=tf_utils.clone_initializer(mlm_initializer),
        output=output_type,
        name="generator_predictions")
    self.discriminator_head = ReplacedTokenDetectionHead(
        hidden_size=discriminator_network.config.hidden_size,
        activation=mlm_activation, initializer=mlm_initializer,
        name="discriminator_predictions")
    self.classification = None
    if num_classes:
      self.classification = nlp_layers.ClassificationHead(
          inner_dim=generator_network.config.hidden_size,
          num_classes=num_classes,
          initializer=tf_utils.clone_initializer(mlm_initializer),
          name="generator_classification_head")
    self.rng = (tf.random.Generator.from_seed(seed) if seed is not None
                else tf.random.Generator.from_non_deterministic_state())
    # Create the heads' variables now, so weights load before the first call.
    generator_output = tf.zeros([1, 1, generator_network.config.hidden_size])
    self.masked_lm(generator_output, tf.zeros([1, 1], tf.int32))
    self.discriminator_head(
        tf.zeros([1, 1, discriminator_network.config.hidden_size]))
    if self.classification is not None:
      self.classification(generator_output)

  def _masked_inputs(self, inputs, seed):
    """Returns (masked ids, original ids, positions, ids, weights)."""
    word_ids = inputs["input_word_ids"]
    if "masked_lm_positions" in inputs:
      positions = inputs["masked_lm_positions"]
      masked_lm_ids = inputs["masked_lm_ids"]
      weights = tf.cast(inputs["masked_lm_weights"], tf.float32)
      original = masking.replace_at_positions(
          word_ids, positions, masked_lm_ids, weights)
      return word_ids, original, positions, masked_lm_ids, weights
    masked, positions, masked_lm_ids, weights = masking.mask_tokens(
        word_ids, inputs["input_mask"], seed=seed,
        num_predictions=self.num_token_predictions, mask_prob=self.mask_prob,
        mask_token_id=self.mask_token_id,
        special_token_ids=self.special_token_ids,
        mask_token_rate=self.mask_token_rate)
    return masked, word_ids, positions, masked_lm_ids, weights

  def call(self, inputs, training=None):
    mask_seed, sample_seed = tf.unstack(self.rng.make_seeds(2), axis=1)
    input_mask = inputs["input_mask"]
    input_type_ids = inputs["input_type_ids"]
    masked_ids, original_ids, positions, masked_lm_ids, weights = (
        self._masked_inputs(inputs, mask_seed))

    generator_output = self.generator_network(
        dict(input_word_ids=masked_ids, input_mask=input_mask,
             input_type_ids=input_type_ids), training=training)
    sequence_output = generator_output["sequence_output"]
    lm_outputs = self.masked_lm(sequence_output, positions)

    sampled_ids = masking.sample_tokens(
        lm_outputs, seed=sample_seed, temperature=self.temperature,
        disallowed_ids=masked_lm_ids if self.disallow_correct else None)
    disc_ids = masking.replace_at_positions(
        original_ids, positions, sampled_ids, weights)
    disc_label = (tf.cast(tf.not_equal(disc_ids, original_ids), tf.int32) *
                  tf.cast(input_mask, tf.int32))

    disc_output = self.discriminator_network(
        dict(input_word_ids=disc_ids, input_mask=input_mask,
             input_type_ids=input_type_ids), training=training)
    outputs = dict(
        lm_outputs=lm_outputs,
        disc_logits=self.discriminator_head(disc_output["sequence_output"]),
        disc_label=disc_label,
        disc_input_ids=disc_ids,
        masked_lm_positions=positions,
        masked_lm_ids=masked_lm_ids,
        masked_lm_weights=weights)
    if self.classification is not None:
      outputs["sentence_outputs"] = self.classification(sequence_output)
    return outputs

  def get_network(self, name: str):
    """The "discriminator" or "generator" encoder."""
    if name not in NETWORKS:
      raise ValueError(f"network must be one of {NETWORKS}, got {name!r}")
    return getattr(self, f"{name}_network")
