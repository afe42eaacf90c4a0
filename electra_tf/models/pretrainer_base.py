"""What ELECTRA and its masked-LM baseline share: masking and the MLM head."""

from typing import Optional, Sequence

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils
from official.nlp.modeling import layers as nlp_layers

from electra_tf import keras_config
from electra_tf.networks import ElectraEncoder
from electra_tf.ops import masking


class PretrainerBase(tf_keras.Model):
  """Masks its inputs (dynamically or BERT's static masks) for an MLM head.

  Subclasses name their encoders in `NETWORKS` (attributes `<name>_network`;
  the first is the one to fine-tune and export), build the head with
  `_build_masked_lm` and mask with `_mask`, seeded by `_seeds`. Both draw from one
  `tf.random.Generator`, `rng`, checkpointed with the model.

  Args:
    vocab_size: size of the MLM head's output vocabulary.
    num_token_predictions: P, the number of masked positions per sequence.
    output_type: "logits" or "predictions" (log-probabilities) of the head.
    mask_prob, mask_token_rate, mask_token_id, special_token_ids: dynamic
      masking, see `ops.masking.mask_tokens`.
    seed: seed of `rng`; None draws a nondeterministic one.
  """

  NETWORKS: Sequence[str] = ()

  def __init__(self, vocab_size: int, num_token_predictions: int,
               output_type: str = "logits", mask_prob: float = 0.15,
               mask_token_rate: float = 0.85,
               mask_token_id: int = masking.BERT_MASK_TOKEN_ID,
               special_token_ids: Sequence[int] = masking.BERT_SPECIAL_TOKEN_IDS,
               seed: Optional[int] = None, **kwargs):
    super().__init__(**kwargs)
    if output_type not in ("logits", "predictions"):
      raise ValueError(f"output_type must be 'logits' or 'predictions', got "
                       f"{output_type!r}")
    self.vocab_size = vocab_size
    self.num_token_predictions = num_token_predictions
    self.output_type = output_type
    self.mask_prob = mask_prob
    self.mask_token_rate = mask_token_rate
    self.mask_token_id = mask_token_id
    self.special_token_ids = tuple(special_token_ids)
    self._seed = seed
    self.rng = (tf.random.Generator.from_seed(seed) if seed is not None
                else tf.random.Generator.from_non_deterministic_state())
    # Subclasses make every variable in __init__ (built networks, heads
    # called once), so loaders must not try to build it from float shapes.
    self.built = True

  def _build_masked_lm(self, network, activation, initializer, name: str):
    """The MLM head over `network`, tied to its word embeddings, built."""
    self._head_config = dict(
        mlm_activation=keras_config.activation(activation),
        mlm_initializer=keras_config.initializer(initializer))
    masked_lm = nlp_layers.MaskedLM(
        embedding_table=network.get_embedding_table(), activation=activation,
        initializer=tf_utils.clone_initializer(initializer),
        output=self.output_type, name=name)
    # Variables now, so that weights load before the first call.
    masked_lm(tf.zeros([1, 1, network.config.hidden_size]),
              tf.zeros([1, 1], tf.int32))
    return masked_lm

  def get_config(self):
    """The arguments, the networks as `ElectraEncoder` configs.

    A network that shares the first network's embeddings (ELECTRA's
    generator) is rebuilt sharing them.
    """
    first = self.get_network()
    networks = {}
    for name in self.NETWORKS:
      network = self.get_network(name)
      if not isinstance(network, ElectraEncoder):
        raise NotImplementedError(
            f"{type(self).__name__}.get_config saves ElectraEncoder networks "
            f"only; its {name} network is a {type(network).__name__}")
      networks[f"{name}_network"] = dict(
          network.get_config(), shares_embeddings=(
              network is not first and network.embeddings is first.embeddings))
    return dict(
        name=self.name, vocab_size=self.vocab_size,
        num_token_predictions=self.num_token_predictions,
        output_type=self.output_type, mask_prob=self.mask_prob,
        mask_token_rate=self.mask_token_rate,
        mask_token_id=self.mask_token_id,
        special_token_ids=list(self.special_token_ids), seed=self._seed,
        **self._head_config, **networks)

  def get_build_config(self):
    return None  # built in __init__: loading must not build it on floats

  @classmethod
  def from_config(cls, config, custom_objects=None):
    config = dict(config)
    first = None
    for name in cls.NETWORKS:
      network_config = dict(config[f"{name}_network"])
      shares = network_config.pop("shares_embeddings")
      network = ElectraEncoder.from_config(
          network_config, embeddings=first.embeddings if shares else None)
      first = first or network
      config[f"{name}_network"] = network
    return cls(**config)

  def _seeds(self, seed, count: int):
    """`count` seeds for stateless ops: from `seed` if given, else from `rng`.

    A given seed leaves `rng` untouched, so evaluating with fixed seeds does
    not change what training draws next.
    """
    if seed is None:
      return tf.unstack(self.rng.make_seeds(count), axis=1)
    return tf.unstack(tf.random.experimental.stateless_split(seed, count))

  def _mask(self, inputs, seed):
    """(masked ids, original ids, positions, masked_lm_ids, weights)."""
    return masking.mask_inputs(
        inputs, seed=seed, num_predictions=self.num_token_predictions,
        mask_prob=self.mask_prob, mask_token_id=self.mask_token_id,
        special_token_ids=self.special_token_ids,
        mask_token_rate=self.mask_token_rate)

  def get_network(self, name: Optional[str] = None):
    """One of `NETWORKS` by name; by default the one to fine-tune."""
    name = name or self.NETWORKS[0]
    if name not in self.NETWORKS:
      raise ValueError(f"a {type(self).__name__}'s networks are "
                       f"{', '.join(self.NETWORKS)}; there is no {name!r}")
    return getattr(self, f"{name}_network")
