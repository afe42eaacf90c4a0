"""Shared fixtures: small configs and a batch of real tokenized text."""

import os

# The TF Hub model-page snippets say `tf.keras`; with this set (before TF is
# imported) that is tf_keras, the Keras 2 that hub.KerasLayer needs.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

# Before TensorFlow, as our binaries import it: it sets TensorFlow's CPU
# kernels (see its __init__), so tests run what users run.
import electra_tf  # pylint: disable=unused-import,g-import-not-at-top

import numpy as np  # pylint: disable=g-import-not-at-top
import pytest
import tensorflow as tf

from electra_tf import configs

# Two logical CPUs, so that MirroredStrategy tests have two replicas; ops
# still run on the first unless a test places them.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration()] * 2)
CPUS = ["/cpu:0", "/cpu:1"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(REPO, "data", "vocab_uncased.txt")
TEXT = os.path.join(REPO, "data", "sotu_1940_2021.txt")


@pytest.fixture(scope="session")
def mirrored():
  """Two replicas on the two logical CPUs.

  One instance for the session: two MirroredStrategy objects in a process
  can hand out the same collective keys.
  """
  return tf.distribute.MirroredStrategy(CPUS)


@pytest.fixture
def tiny_experiment():
  return configs.load_experiment("tiny")


@pytest.fixture
def batch():
  """Eight padded sequences of real word pieces, [CLS] ... [SEP] [PAD]..."""
  rng = np.random.default_rng(0)
  lengths = [32, 32, 20, 9, 3, 32, 17, 25]
  word_ids = np.zeros((len(lengths), 32), np.int32)
  for i, n in enumerate(lengths):
    word_ids[i, :n] = rng.integers(1000, 5000, n)
    word_ids[i, 0] = 101
    word_ids[i, n - 1] = 102
  mask = (word_ids != 0).astype(np.int32)
  types = np.zeros_like(word_ids)
  types[:, 16:] = mask[:, 16:]
  return dict(input_word_ids=word_ids, input_mask=mask, input_type_ids=types)
