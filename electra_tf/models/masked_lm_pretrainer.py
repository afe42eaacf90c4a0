"""BERT's masked-LM objective over one encoder: ELECTRA's baseline."""

import tf_keras

from electra_tf.models.pretrainer_base import PretrainerBase


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class MaskedLMPretrainer(PretrainerBase):
  """Predicts the masked tokens with an MLM head tied to the word embeddings.

  The encoder is the one ELECTRA would train as its discriminator; masking
  and the head are ELECTRA's generator's (`PretrainerBase`), so a run differs
  from an ELECTRA run only in the objective.

  Inputs: as `ElectraPretrainer`'s. Outputs: `lm_outputs` [batch, P, vocab]
  and the `masked_lm_positions/ids/weights` used.

  Args:
    encoder_network: encoder returning a dict with `sequence_output`.
    vocab_size: size of the output vocabulary.
    num_token_predictions: P, the number of masked positions per sequence.
    mlm_activation, mlm_initializer: of the MLM head's dense layer.
    output_type: "logits" or "predictions" (log-probabilities).
    **kwargs: masking and `seed` (see `PretrainerBase`), Keras' arguments.
  """

  NETWORKS = ("encoder",)

  def __init__(self, encoder_network, vocab_size: int,
               num_token_predictions: int, mlm_activation=None,
               mlm_initializer="glorot_uniform", output_type: str = "logits",
               **kwargs):
    super().__init__(vocab_size, num_token_predictions, output_type, **kwargs)
    self.encoder_network = encoder_network
    self.masked_lm = self._build_masked_lm(
        encoder_network, mlm_activation, mlm_initializer,
        name="cls_predictions")

  def call(self, inputs, training=None, seed=None):
    """`seed` (int [2]) fixes the masking without drawing from rng."""
    mask_seed, = self._seeds(seed, 1)
    masked_ids, _, positions, masked_lm_ids, weights = self._mask(
        inputs, mask_seed)
    sequence_output = self.encoder_network(
        dict(input_word_ids=masked_ids, input_mask=inputs["input_mask"],
             input_type_ids=inputs["input_type_ids"]),
        training=training)["sequence_output"]
    return dict(lm_outputs=self.masked_lm(sequence_output, positions),
                masked_lm_positions=positions, masked_lm_ids=masked_lm_ids,
                masked_lm_weights=weights)

  @property
  def mlm_network(self):
    """The encoder under the masked-LM head."""
    return self.encoder_network
