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

from electra_tf import activations
from electra_tf import builders
from electra_tf import configs
from electra_tf import layers
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


def _layer_cases():
  init = tf_keras.initializers.TruncatedNormal(stddev=0.02)
  x = tf.random.stateless_normal([2, 5, 8], seed=[1, 2])
  mask = tf.ones([2, 1, 5])
  return dict(
      embeddings=(layers.ElectraEmbeddings(8000, 8, 16, 2, 0.1, 1e-12, init),
                  lambda layer: layer(IDS[:, :5], tf.zeros_like(IDS[:, :5]))),
      transformer_block=(layers.TransformerBlock(
          2, 16, activations.gelu, 0.1, 0.1, 1e-12, init),
                         lambda layer: layer([x, mask])),
      attention=(layers.MatmulAttention(num_heads=2, key_dim=4),
                 lambda layer: layer(x, x)),
      rtd_head=(layers.ReplacedTokenDetectionHead(8, activations.gelu, init),
                lambda layer: layer(x)),
      classification_head=(layers.ClassificationHead(3, head_type="hf"),
                           lambda layer: layer(x)),
      layer_norm=(layers.LayerNormalization(epsilon=1e-12),
                  lambda layer: layer(x)),
      dropout=(layers.Dropout(0.1), lambda layer: layer(x)),
      tokenizer=(layers.BertTokenizer(vocab_file=VOCAB, lower_case=True),
                 lambda layer: layer(tf.constant(["Héllo wörld"])).to_list()),
  )


@pytest.mark.parametrize("name", list(_layer_cases()))
def test_every_layer_rebuilds_from_its_config(name):
  layer, call = _layer_cases()[name]
  expected = call(layer)
  copy = type(layer).from_config(layer.get_config())
  call(copy)
  if layer.trainable_weights:  # the tokenizer has a vocabulary table only
    copy.set_weights(layer.get_weights())
  assert copy.get_config() == layer.get_config()
  tf.nest.map_structure(np.testing.assert_array_equal, expected, call(copy))
