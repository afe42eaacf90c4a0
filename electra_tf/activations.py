"""Activation functions by the names used in ELECTRA configs."""

import functools

import tensorflow as tf

_ACTIVATIONS = {
    # BERT and ELECTRA use the exact erf form; Model Garden's "gelu" is tanh.
    "gelu": functools.partial(tf.nn.gelu, approximate=False),
    "gelu_tanh": functools.partial(tf.nn.gelu, approximate=True),
    "relu": tf.nn.relu,
}


def get_activation(name: str):
  try:
    return _ACTIVATIONS[name]
  except KeyError:
    raise ValueError(f"Unknown activation {name!r}; "
                     f"choose from {sorted(_ACTIVATIONS)}") from None
