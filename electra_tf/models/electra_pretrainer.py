"""The ELECTRA generator + discriminator training model."""

from typing import Optional

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils
from official.nlp.modeling import layers as nlp_layers

from electra_tf import keras_config
from electra_tf.layers import ReplacedTokenDetectionHead
from electra_tf.models.pretrainer_base import PretrainerBase
from electra_tf.ops import masking


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ElectraPretrainer(PretrainerBase):
  """Replaced-token detection: a small MLM generator feeds a discriminator.

  Inputs: a dict of `input_word_ids`, `input_mask`, `input_type_ids` (int32
  [batch, seq]). Without `masked_lm_positions`, tokens are masked in-graph
  (dynamic masking); with BERT-style `masked_lm_positions`, `masked_lm_ids` and
  `masked_lm_weights`, `input_word_ids` is taken as already masked.

  Outputs: `lm_outputs` [batch, P, vocab] (generator MLM at the masked
  positions), `disc_logits` [batch, seq], `disc_label` [batch, seq] (1 where the
  sampled token differs from the original; 0 on padding), `disc_input_ids`
  (what the discriminator saw), the `masked_lm_positions/ids/weights` used,
  and `sentence_outputs` [batch, num_classes] when `num_classes` is set.

  Args:
    generator_network: encoder returning a dict with `sequence_output`; it
      should share its embeddings with the discriminator.
    discriminator_network: encoder returning a dict with `sequence_output`.
    vocab_size: size of the generator's output vocabulary.
    num_token_predictions: P, the number of masked positions per sequence.
    mlm_activation: activation of the MLM head, and of the
      replaced-token-detection head unless `rtd_activation` is given.
    mlm_initializer: initializer of the heads.
    output_type: "logits" or "predictions" (log-probabilities) for lm_outputs.
    disallow_correct: never sample the original token.
    temperature: sampling temperature of the generator.
    num_classes: adds a classification head on the generator's [CLS] output.
    uniform_generator: replace masked tokens by draws from the uniform
      distribution over the vocabulary instead of the generator's (the
      original's sanity check `uniform_generator`): the generator is not run
      and `lm_outputs` are zeros, so it learns nothing.
    **kwargs: masking and `seed` (see `PretrainerBase`), Keras' arguments.
  """

  # Its encoders, as named by `<name>_network` attributes; the first is the
  # one to fine-tune.
  NETWORKS = ("discriminator", "generator")

  def __init__(self, generator_network, discriminator_network, vocab_size: int,
               num_token_predictions: int, mlm_activation=None,
               mlm_initializer="glorot_uniform", output_type: str = "logits",
               disallow_correct: bool = False, temperature: float = 1.0,
               num_classes: Optional[int] = None, rtd_activation=None,
               uniform_generator: bool = False, **kwargs):
    super().__init__(vocab_size, num_token_predictions, output_type, **kwargs)
    self.generator_network = generator_network
    self.discriminator_network = discriminator_network
    self.disallow_correct = disallow_correct
    self.temperature = temperature
    self.num_classes = num_classes
    self.uniform_generator = uniform_generator
    self.masked_lm = self._build_masked_lm(
        generator_network, mlm_activation, mlm_initializer,
        name="generator_predictions")
    self.rtd_activation = rtd_activation or mlm_activation
    self.discriminator_head = ReplacedTokenDetectionHead(
        hidden_size=discriminator_network.config.hidden_size,
        activation=self.rtd_activation, initializer=mlm_initializer,
        name="discriminator_predictions")
    self.discriminator_head(
        tf.zeros([1, 1, discriminator_network.config.hidden_size]))
    self.classification = None
    if num_classes:
      self.classification = nlp_layers.ClassificationHead(
          inner_dim=generator_network.config.hidden_size,
          num_classes=num_classes,
          initializer=tf_utils.clone_initializer(mlm_initializer),
          name="generator_classification_head")
      self.classification(
          tf.zeros([1, 1, generator_network.config.hidden_size]))

  def get_config(self):
    return dict(super().get_config(), disallow_correct=self.disallow_correct,
                temperature=self.temperature, num_classes=self.num_classes,
                rtd_activation=keras_config.activation(self.rtd_activation),
                uniform_generator=self.uniform_generator)

  def call(self, inputs, training=None, seed=None, uniform_generator=None,
           temperature=None):
    """`seed` (int [2]) fixes masking and sampling without drawing from rng;
    `uniform_generator` and `temperature` (a float or scalar tensor)
    override the model's own settings for this call (evaluation scores the
    discriminator on uniform replacements too; training may anneal the
    temperature)."""
    if uniform_generator is None:
      uniform_generator = self.uniform_generator
    if temperature is None:
      temperature = self.temperature
    mask_seed, sample_seed = self._seeds(seed, 2)
    input_mask = inputs["input_mask"]
    input_type_ids = inputs["input_type_ids"]
    masked_ids, original_ids, positions, masked_lm_ids, weights = self._mask(
        inputs, mask_seed)

    if uniform_generator:
      lm_outputs = tf.zeros(tf.concat(
          [tf.shape(positions), [self.vocab_size]], 0),
                            self.compute_dtype)
    else:
      sequence_output = self.generator_network(
          dict(input_word_ids=masked_ids, input_mask=input_mask,
               input_type_ids=input_type_ids),
          training=training)["sequence_output"]
      lm_outputs = self.masked_lm(sequence_output, positions)

    sampled_ids = masking.sample_tokens(
        lm_outputs, seed=sample_seed, temperature=temperature,
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
    if self.classification is not None and not uniform_generator:
      outputs["sentence_outputs"] = self.classification(sequence_output)
    return outputs

  @property
  def mlm_network(self):
    """The encoder under the masked-LM head."""
    return self.generator_network
