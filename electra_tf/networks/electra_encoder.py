"""The ELECTRA transformer encoder network."""

from typing import Optional

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils

from electra_tf import activations
from electra_tf.configs import EncoderConfig
from electra_tf.layers import ElectraEmbeddings
from electra_tf.layers import TransformerBlock

INPUT_KEYS = ("input_word_ids", "input_mask", "input_type_ids")


def make_embeddings(config: EncoderConfig) -> ElectraEmbeddings:
  return ElectraEmbeddings(
      vocab_size=config.vocab_size,
      embedding_size=config.embedding_size,
      max_position_embeddings=config.max_position_embeddings,
      type_vocab_size=config.type_vocab_size,
      dropout_rate=config.hidden_dropout_prob,
      layer_norm_eps=config.layer_norm_eps,
      initializer=tf_keras.initializers.TruncatedNormal(
          stddev=config.initializer_range),
      name="embeddings")


def encoder_inputs(features):
  """The encoder's three inputs out of a dict that may hold more."""
  return {key: features[key] for key in INPUT_KEYS}


def dummy_inputs(shape=(1, 1)):
  """Encoder inputs of `shape` that make a model create all its variables."""
  zeros = tf.zeros(shape, tf.int32)
  return dict(input_word_ids=zeros, input_mask=zeros + 1, input_type_ids=zeros)


def _with_shape_of(word_ids, tensor, name):
  """`tensor`, checked to have the shape of `word_ids` before anything uses it.

  The reshape gives later ops the shape of `word_ids`, so a mismatch fails
  here rather than deep inside attention. Graph shape inference may reject
  the reshape before the assert runs; its node name then tells what is wrong.
  """
  shape = tf.shape(word_ids)
  rule = f"{name} must have the shape of input_word_ids"
  check = tf.debugging.assert_equal(tf.shape(tensor), shape,
                                    message=f"ElectraEncoder: {rule}")
  with tf.control_dependencies([check]):
    return tf.reshape(tensor, shape, name=rule.replace(" ", "_"))


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ElectraEncoder(tf_keras.Model):
  """Embeddings, a projection to `hidden_size`, then post-LN transformer blocks.

  Call with a dict of int32 `input_word_ids`, `input_mask`, `input_type_ids`
  ([batch, seq]); returns `sequence_output` [batch, seq, hidden],
  `pooled_output` [batch, hidden] (tanh dense on the first token) and
  `encoder_outputs` (one [batch, seq, hidden] tensor per layer).

  `output_range=n` computes only the first n positions in the last layer, as
  Model Garden's encoders do: `sequence_output` and the last encoder output
  are then [batch, n, hidden]. A head that reads only [CLS] passes 1 and so
  skips most of the last layer's work (all but its keys and values).

  Args:
    config: the encoder's sizes.
    embeddings: an `ElectraEmbeddings` to share with another encoder; a new
      one is made when None. Its `embedding_size` must match the config's.
  """

  def __init__(self, config: EncoderConfig,
               embeddings: Optional[ElectraEmbeddings] = None, **kwargs):
    super().__init__(**kwargs)
    config.validate()
    self.config = config
    if embeddings is None:
      embeddings = make_embeddings(config)
    elif embeddings.embedding_size != config.embedding_size:
      raise ValueError(
          f"Shared embeddings are {embeddings.embedding_size} wide but the "
          f"config asks for embedding_size={config.embedding_size}")
    self.embeddings = embeddings
    initializer = tf_keras.initializers.TruncatedNormal(
        stddev=config.initializer_range)
    self.embedding_projection = None
    if config.embedding_size != config.hidden_size:
      self.embedding_projection = tf_keras.layers.Dense(
          config.hidden_size, kernel_initializer=initializer,
          name="embedding_projection")
    self.transformer_layers = [
        TransformerBlock(
            num_attention_heads=config.num_attention_heads,
            inner_dim=config.intermediate_size,
            inner_activation=activations.get_activation(config.hidden_act),
            dropout_rate=config.hidden_dropout_prob,
            attention_dropout_rate=config.attention_probs_dropout_prob,
            norm_epsilon=config.layer_norm_eps,
            kernel_initializer=tf_utils.clone_initializer(initializer),
            name=f"transformer/layer_{i}")
        for i in range(config.num_layers)
    ]
    self.pooler = tf_keras.layers.Dense(
        config.hidden_size, activation="tanh",
        kernel_initializer=tf_utils.clone_initializer(initializer),
        name="pooler_transform")
    # Create every variable now, so heads can tie to them and checkpoints load.
    self(dummy_inputs())

  def get_config(self):
    # The sizes are the whole config: layers and initializers follow from them.
    return dict(name=self.name, config=self.config.as_dict())

  @classmethod
  def from_config(cls, config, custom_objects=None, embeddings=None):
    return cls(EncoderConfig(**config["config"]), embeddings=embeddings,
               name=config.get("name"))

  def get_build_config(self):
    return None  # built in __init__: loading must not build it on floats

  def get_embedding_table(self):
    return self.embeddings.embedding_table

  def call(self, inputs, training=None, output_range=None):
    if not isinstance(inputs, dict):
      inputs = dict(zip(INPUT_KEYS, inputs))
    missing = [k for k in INPUT_KEYS if k not in inputs]
    if missing:
      raise KeyError(f"ElectraEncoder inputs lack {missing}; expected keys "
                     f"{list(INPUT_KEYS)}")
    word_ids = inputs["input_word_ids"]
    input_mask, input_type_ids = (
        _with_shape_of(word_ids, inputs[key], key) for key in INPUT_KEYS[1:])
    x = self.embeddings(word_ids, input_type_ids, training=training)
    if self.embedding_projection is not None:
      x = self.embedding_projection(x)
    # [batch, 1, seq]: the keys every query may attend to; attention
    # broadcasts it rather than reading a [batch, seq, seq] mask per layer.
    mask = tf.cast(input_mask, x.dtype)[:, tf.newaxis, :]
    encoder_outputs = []
    for layer in self.transformer_layers:
      last = layer is self.transformer_layers[-1]
      x = layer([x, mask], training=training,
                output_range=output_range if last else None)
      encoder_outputs.append(x)
    return dict(sequence_output=x,
                pooled_output=self.pooler(x[:, 0, :]),
                encoder_outputs=encoder_outputs)
