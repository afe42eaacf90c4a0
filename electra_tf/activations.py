"""Activation functions by the names used in ELECTRA configs."""

import tensorflow as tf


# Named functions, not partials: Keras serialises activations by __name__.
def gelu(x):
  """The exact erf GELU of BERT and ELECTRA (Model Garden's "gelu" is tanh)."""
  return tf.nn.gelu(x, approximate=False)


def gelu_tanh(x):
  return tf.nn.gelu(x, approximate=True)


_ACTIVATIONS = {"gelu": gelu, "gelu_tanh": gelu_tanh, "relu": tf.nn.relu}


def get_activation(name: str):
  try:
    return _ACTIVATIONS[name]
  except KeyError:
    raise ValueError(f"Unknown activation {name!r}; "
                     f"choose from {sorted(_ACTIVATIONS)}") from None
