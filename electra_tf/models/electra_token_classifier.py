"""Token classification (tagging) over an ELECTRA encoder."""

import tensorflow as tf
import tf_keras
from official.modeling import tf_utils

from electra_tf import keras_config
from electra_tf.models.task_model import TaskModel
from electra_tf.networks.electra_encoder import dummy_inputs


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ElectraTokenClassifier(TaskModel):
  """Encoder + dropout + dense per token: logits [batch, seq, num_classes].

  As in the original ELECTRA tagging tasks; the names match Hugging Face's
  ElectraForTokenClassification (`classifier`).
  """

  def __init__(self, network, num_classes, dropout_rate=0.1,
               initializer="glorot_uniform", **kwargs):
    super().__init__(**kwargs)
    self.network = network
    self.dropout = tf_keras.layers.Dropout(dropout_rate)
    self.classifier = tf_keras.layers.Dense(
        num_classes, kernel_initializer=tf_utils.clone_initializer(initializer),
        name="classifier")

    self(dummy_inputs())  # creates the head variables now

  def get_config(self):
    return self._network_config(
        num_classes=self.classifier.units, dropout_rate=self.dropout.rate,
        initializer=keras_config.initializer(
            self.classifier.kernel_initializer))

  def call(self, inputs, training=None):
    sequence_output = self.network(inputs, training=training)["sequence_output"]
    logits = self.classifier(self.dropout(sequence_output, training=training))
    return tf.cast(logits, tf.float32)  # a stable loss under mixed precision
