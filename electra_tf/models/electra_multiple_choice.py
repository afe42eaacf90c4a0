"""Multiple choice over an ELECTRA encoder."""

import tensorflow as tf
import tf_keras

from electra_tf import activations
from electra_tf import layers
from electra_tf.models.task_model import TaskModel
from electra_tf.networks.electra_encoder import INPUT_KEYS
from electra_tf.networks.electra_encoder import dummy_inputs


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ElectraMultipleChoice(TaskModel):
  """Scores each choice: inputs [batch, choices, seq] -> logits [batch, choices].

  Every (context, choice) pair is encoded separately and scored by a
  one-logit `ClassificationHead`; "hf" reproduces Hugging Face's
  ElectraForMultipleChoice (summary dense + GELU + classifier).
  """

  def __init__(self, network, head_type="original", dropout_rate=0.1,
               activation=activations.gelu, initializer="glorot_uniform",
               **kwargs):
    super().__init__(**kwargs)
    self.network = network
    self.classifier = layers.ClassificationHead(
        1, head_type=head_type, dropout_rate=dropout_rate,
        activation=activation, initializer=initializer, name="classifier")

    self(dummy_inputs((1, 1, 1)))  # creates the head variables now

  def get_config(self):
    head = self.classifier.get_config()
    return self._network_config(**{key: head[key] for key in (
        "head_type", "dropout_rate", "activation", "initializer")})

  def call(self, inputs, training=None):
    shape = tf.shape(inputs["input_word_ids"])
    flat = {key: tf.reshape(inputs[key], [-1, shape[-1]]) for key in INPUT_KEYS}
    sequence_output = self._cls_sequence_output(flat, training)
    logits = self.classifier(sequence_output, training=training)
    return tf.cast(tf.reshape(logits, shape[:2]), tf.float32)
