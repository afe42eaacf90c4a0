"""What the task models share: a head over an encoder, saved by its arguments."""

import tensorflow_hub as hub
import tf_keras

from electra_tf.networks.electra_encoder import ElectraEncoder


class TaskModel(tf_keras.Model):
  """A model over an encoder `network`, rebuilt from `get_config()`.

  Subclasses return their constructor's arguments from `get_config`, the
  network as `tf_keras.layers.serialize` writes it (an `ElectraEncoder`, or a
  `hub.KerasLayer` of its handle), so `model.save` in either format and
  `tf_keras.models.load_model` give the same model back.
  """

  def _network_config(self, **arguments):
    return dict(name=self.name,
                network=tf_keras.layers.serialize(self.network), **arguments)

  def _cls_sequence_output(self, inputs, training):
    """The network's `sequence_output` for a head that reads only [CLS]: our
    encoder then computes just that position in its last layer."""
    if isinstance(self.network, ElectraEncoder):
      outputs = self.network(inputs, training=training, output_range=1)
    else:
      outputs = self.network(inputs, training=training)
    return outputs["sequence_output"]

  def get_build_config(self):
    return None  # built in __init__: loading must not build it on floats

  @classmethod
  def from_config(cls, config, custom_objects=None):
    # Keras does not know hub.KerasLayer by the name it serializes it under.
    network = tf_keras.layers.deserialize(
        config["network"],
        custom_objects=dict(KerasLayer=hub.KerasLayer, **(custom_objects or {})))
    return cls(**dict(config, network=network))
