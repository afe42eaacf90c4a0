"""Values for `get_config` that read back alike in both Keras saving formats.

Keras' default serialization of a function or initializer is a dict whose
form depends on the saving format, and the SavedModel loader's legacy
deserializer rejects the dict of a function. Registered names and legacy
dicts read back in either format, so a reloaded model's config equals the
original's.
"""

import tf_keras


def activation(value) -> str:
  """The registered name of an activation ("electra_tf>gelu", "relu", ...)."""
  return tf_keras.activations.serialize(tf_keras.activations.get(value),
                                        use_legacy_format=True)


def initializer(value) -> dict:
  """An initializer (object, name or config) as `class_name` + `config`."""
  return tf_keras.initializers.serialize(tf_keras.initializers.get(value),
                                         use_legacy_format=True)
