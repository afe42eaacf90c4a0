"""Sequence classification and regression over an ELECTRA encoder."""

import tensorflow as tf
import tf_keras

from electra_tf import activations
from electra_tf import layers
from electra_tf.models.task_model import TaskModel
from electra_tf.networks.electra_encoder import dummy_inputs


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class ElectraClassifier(TaskModel):
  """Encoder + `ClassificationHead` on [CLS]: logits [batch, num_classes].

  `num_classes=1` makes it a regressor (STS-B). The encoder's pooler, which
  ELECTRA never pretrains, is not used, as in the original fine-tuning code.

  Args:
    network: an `ElectraEncoder` or a `hub.KerasLayer` of a Hub encoder: called
      with the dict of `input_word_ids`, `input_mask`, `input_type_ids`, it
      returns a dict with `sequence_output`.
    num_classes: number of logits.
    head_type: "original" (dropout + dense) or "hf" (Hugging Face's
      dense + activation + dense); see `layers.ClassificationHead`.
    dropout_rate, activation, initializer: of the head.
  """

  def __init__(self, network, num_classes, head_type="original",
               dropout_rate=0.1, activation=activations.gelu,
               initializer="glorot_uniform", **kwargs):
    super().__init__(**kwargs)
    self.network = network
    self.classifier = layers.ClassificationHead(
        num_classes, head_type=head_type, dropout_rate=dropout_rate,
        activation=activation, initializer=initializer, name="classifier")

    self(dummy_inputs())  # creates the head variables now

  def get_config(self):
    head = self.classifier.get_config()
    return self._network_config(**{key: head[key] for key in (
        "num_classes", "head_type", "dropout_rate", "activation",
        "initializer")})

  def call(self, inputs, training=None):
    sequence_output = self._cls_sequence_output(inputs, training)
    # float32 logits, also under mixed precision, for a stable loss.
    return tf.cast(self.classifier(sequence_output, training=training),
                   tf.float32)
