"""Keras saving: every network, pretrainer and task model round-trips.

`model.save("x.keras")` and the SavedModel format, each reloaded with
`tf_keras.models.load_model`, must give back an instance of our class (not
a revived stand-in) whose outputs equal the original's exactly.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

from electra_tf import builders
from electra_tf import configs
from electra_tf import models
from electra_tf.networks import ElectraEncoder
from export import export_tfhub_lib

from conftest import VOCAB

IDS = tf.constant([[101, 2023, 2003, 1037, 102, 0], [101, 7592, 102, 0, 0, 0]])
INPUTS = dict(input_word_ids=IDS, input_mask=tf.cast(IDS > 0, tf.int32),
              input_type_ids=tf.zeros_like(IDS))
SEED = tf.constant([3, 4])  # fixes the pretrainers' masking and sampling


def _experiment(objective="electra"):
  # One layer: saving traces every layer, and one shows what two would.
  return configs.load_experiment(
      "mini", f"model.objective={objective},model.discriminator.num_layers=1")


def _encoder():
  return builders.build_encoder(_experiment().model.discriminator,
                                name="discriminator")


def _pretrainer(objective):
  return builders.build_pretrainer(_experiment(objective).model, seed=1)


MODELS = dict(
    encoder=(_encoder, ElectraEncoder),
    electra=(lambda: _pretrainer("electra"), models.ElectraPretrainer),
    mlm=(lambda: _pretrainer("mlm"), models.MaskedLMPretrainer),
    classifier=(lambda: models.ElectraClassifier(_encoder(), 3),
                models.ElectraClassifier),
    hf_classifier=(lambda: models.ElectraClassifier(
        _encoder(), 2, head_type="hf", dropout_rate=0.2),
                   models.ElectraClassifier),
    regressor=(lambda: models.ElectraClassifier(_encoder(), 1),
               models.ElectraClassifier),
    tagger=(lambda: models.ElectraTokenClassifier(_encoder(), 5),
            models.ElectraTokenClassifier),
    span_labeler=(lambda: models.ElectraSpanLabeler(
        _encoder(), answerable_classifier=True, answerable_hidden_size=16),
                  models.ElectraSpanLabeler),
    multiple_choice=(lambda: models.ElectraMultipleChoice(_encoder()),
                     models.ElectraMultipleChoice),
)


def _outputs(model, name):
  if name == "multiple_choice":
    return model({k: tf.stack([v, v[::-1]], 1) for k, v in INPUTS.items()})
  if name in ("electra", "mlm"):
    return model(INPUTS, seed=SEED)
  return model(INPUTS)


@pytest.mark.parametrize("save_format", ["keras", "tf"])
@pytest.mark.parametrize("name", list(MODELS))
def test_model_saves_and_loads_back_exactly(name, save_format, tmp_path):
  make, cls = MODELS[name]
  model = make()
  expected = _outputs(model, name)
  path = str(tmp_path / ("model.keras" if save_format == "keras" else "model"))
  model.save(path, save_format=save_format)
  loaded = tf_keras.models.load_model(path)
  assert type(loaded) is cls
  assert loaded.get_config() == model.get_config()
  tf.nest.map_structure(np.testing.assert_array_equal, expected,
                        _outputs(loaded, name))


def test_pretrainer_from_config_shares_the_embeddings():
  model = _pretrainer("electra")
  copy = models.ElectraPretrainer.from_config(model.get_config())
  assert copy.generator_network.embeddings is copy.discriminator_network.embeddings
  assert len(copy.trainable_variables) == len(model.trainable_variables)


def test_pretrainer_config_refuses_other_networks():
  model = _pretrainer("mlm")
  model.encoder_network = tf_keras.Sequential()
  with pytest.raises(NotImplementedError, match="encoder network is a Sequential"):
    model.get_config()


@pytest.mark.parametrize("save_format", ["keras", "tf"])
def test_task_model_over_a_hub_encoder_saves_and_loads_back(save_format,
                                                            tmp_path):
  export_tfhub_lib.export_encoder(
      str(tmp_path / "hub"), _pretrainer("electra"), vocab_file=VOCAB,
      do_lower_case=True)
  model = models.ElectraClassifier(
      hub.KerasLayer(str(tmp_path / "hub"), trainable=True), 2)
  path = str(tmp_path / ("model.keras" if save_format == "keras" else "model"))
  model.save(path, save_format=save_format)
  loaded = tf_keras.models.load_model(path)
  assert type(loaded) is models.ElectraClassifier
  assert isinstance(loaded.network, hub.KerasLayer)
  np.testing.assert_array_equal(model(INPUTS), loaded(INPUTS))
