"""ELECTRA for TensorFlow 2 / tf_keras, in the style of the Model Garden."""

__version__ = "0.1.0"
