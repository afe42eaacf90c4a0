"""Word + position + token-type embeddings, shared by generator and discriminator."""

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils
from official.nlp.modeling import layers as nlp_layers

from electra_tf.layers.dropout import Dropout
from electra_tf.layers.layer_norm import LayerNormalization

from electra_tf import keras_config


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ElectraEmbeddings(tf_keras.layers.Layer):
  """Sums word, position and token-type embeddings, then LayerNorm and dropout.

  Output width is `embedding_size`; encoders project it to their hidden size.
  One instance is used by both ELECTRA networks, as in the original, so the
  generator and discriminator train a single set of embedding weights.
  """

  def __init__(self, vocab_size, embedding_size, max_position_embeddings,
               type_vocab_size, dropout_rate, layer_norm_eps, initializer,
               **kwargs):
    super().__init__(**kwargs)
    self.vocab_size = vocab_size
    self.embedding_size = embedding_size
    self._config = dict(
        vocab_size=vocab_size, embedding_size=embedding_size,
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=type_vocab_size, dropout_rate=dropout_rate,
        layer_norm_eps=layer_norm_eps,
        initializer=keras_config.initializer(initializer))
    self.word_embeddings = nlp_layers.OnDeviceEmbedding(
        vocab_size, embedding_size, initializer=tf_utils.clone_initializer(initializer),
        name="word_embeddings")
    self.position_embeddings = nlp_layers.PositionEmbedding(
        max_position_embeddings, initializer=tf_utils.clone_initializer(initializer),
        name="position_embeddings")
    self.type_embeddings = nlp_layers.OnDeviceEmbedding(
        type_vocab_size, embedding_size, initializer=tf_utils.clone_initializer(initializer),
        use_one_hot=True, name="type_embeddings")
    self.layer_norm = LayerNormalization(
        epsilon=layer_norm_eps, dtype=tf.float32,
        name="layer_norm")
    self.dropout = Dropout(dropout_rate)

  def build(self, input_shape=None):
    # Built eagerly so the generator's MLM head can tie to the word table.
    width = [None, None, self.embedding_size]
    for layer, shape in ((self.word_embeddings, None),
                         (self.position_embeddings, width),
                         (self.type_embeddings, None), (self.layer_norm, width)):
      with tf.name_scope(layer.name):
        layer.build(shape)
    super().build(input_shape)

  def get_config(self):
    return dict(super().get_config(), **self._config)

  @property
  def embedding_table(self):
    return self.word_embeddings.embeddings

  def call(self, input_word_ids, input_type_ids, training=None):
    word = self.word_embeddings(input_word_ids)
    embeddings = (word + self.position_embeddings(word) +
                  self.type_embeddings(input_type_ids))
    embeddings = self.layer_norm(embeddings)
    return self.dropout(embeddings, training=training)
