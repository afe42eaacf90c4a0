"""TF-Hub-style exports, used the way the google/electra_* model pages show."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401  (registers the ops preprocessing needs)
import tf_keras

from electra_tf import builders
from electra_tf import configs
from export import export_tfhub_lib

from conftest import REPO, VOCAB

SENTENCES = [
    "Here We Go Then, You And I is a 1999 album by Norwegian pop artist "
    "Morten Abel.",
    "The quick brown fox jumps over the lazy dog.",
    "ELECTRA trains a discriminator to spot replaced tokens.",
    "Café au lait costs €3 — naïve pricing!",
    "",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  """One checkpoint, exported as v2 (+ .mlm, .rtd), legacy v1 and preprocessing."""
  root = tmp_path_factory.mktemp("export")
  experiment = configs.load_experiment("tiny")
  trained = builders.build_pretrainer(experiment.model, seed=0)
  # Give the heads non-trivial weights, as training would.
  for v in trained.trainable_variables:
    v.assign(v + tf.random.stateless_normal(v.shape, [1, 2], stddev=0.05))
  ckpt = tf.train.Checkpoint(model=trained).save(str(root / "ckpt" / "ckpt"))
  pretrainer = builders.restore_pretrainer(experiment.model, ckpt)
  vocab_dir = root / "vocab_source"
  vocab_dir.mkdir()
  vocab = str(vocab_dir / "vocab.txt")
  shutil.copy(VOCAB, vocab)
  paths = dict(encoder=str(root / "electra_tiny"),
               legacy=str(root / "electra_tiny_v1"),
               preprocess=str(root / "preprocess"))
  export_tfhub_lib.export_encoder(paths["encoder"], pretrainer,
                                  vocab_file=vocab, do_lower_case=True,
                                  with_mlm=True)
  export_tfhub_lib.export_encoder(paths["legacy"], pretrainer,
                                  vocab_file=vocab, do_lower_case=True,
                                  legacy=True)
  export_tfhub_lib.export_preprocessing(paths["preprocess"], vocab_file=vocab,
                                        do_lower_case=True)
  # Nothing may depend on the source files any more.
  shutil.rmtree(vocab_dir)
  return dict(paths, pretrainer=pretrainer, source=str(vocab_dir),
              checkpoint_dir=str(root / "ckpt"),
              hidden=experiment.model.discriminator.hidden_size,
              layers=experiment.model.discriminator.num_layers)


def test_hub_load_snippet_on_five_sentences(exported):
  # As on the model pages: preprocess, then encode.
  preprocess = hub.load(exported["preprocess"])
  electra = hub.load(exported["encoder"])
  encoder_inputs = preprocess(tf.constant(SENTENCES))
  outputs = electra(encoder_inputs, training=False)
  pooled_output = outputs["pooled_output"]
  sequence_output = outputs["sequence_output"]
  assert pooled_output.shape == (5, exported["hidden"])
  assert sequence_output.shape == (5, 128, exported["hidden"])
  np.testing.assert_array_equal(outputs["default"], pooled_output)
  assert len(outputs["encoder_outputs"]) == exported["layers"]
  assert encoder_inputs["input_word_ids"].dtype == tf.int32


def test_keras_layer_snippet_v2(exported):
  text_input = tf.keras.layers.Input(shape=(), dtype=tf.string)
  preprocessor = hub.KerasLayer(exported["preprocess"])
  encoder_inputs = preprocessor(text_input)
  encoder = hub.KerasLayer(exported["encoder"], trainable=True)
  outputs = encoder(encoder_inputs)
  pooled_output = outputs["pooled_output"]
  sequence_output = outputs["sequence_output"]
  assert pooled_output.shape.as_list() == [None, exported["hidden"]]
  # Any sequence length: the static shape leaves it open.
  assert sequence_output.shape.as_list() == [None, None, exported["hidden"]]
  model = tf.keras.Model(text_input, pooled_output)
  assert model(tf.constant(SENTENCES)).shape == (5, exported["hidden"])


def test_keras_layer_list_style_legacy(exported):
  max_seq_length = 128
  input_word_ids = tf.keras.layers.Input(shape=(max_seq_length,),
                                         dtype=tf.int32, name="input_word_ids")
  input_mask = tf.keras.layers.Input(shape=(max_seq_length,), dtype=tf.int32,
                                     name="input_mask")
  segment_ids = tf.keras.layers.Input(shape=(max_seq_length,), dtype=tf.int32,
                                      name="segment_ids")
  electra_layer = hub.KerasLayer(exported["legacy"], trainable=True)
  pooled_output, sequence_output = electra_layer(
      [input_word_ids, input_mask, segment_ids])
  assert sequence_output.shape.as_list() == [None, None, exported["hidden"]]
  model = tf.keras.Model([input_word_ids, input_mask, segment_ids],
                         [pooled_output, sequence_output])
  inputs = hub.load(exported["preprocess"])(tf.constant(SENTENCES))
  pooled, sequence = model([inputs["input_word_ids"], inputs["input_mask"],
                            inputs["input_type_ids"]])
  # Run as a graph, like the SavedModel: eager op-by-op rounds differently.
  expected = tf.function(exported["pretrainer"].discriminator_network)(inputs)
  np.testing.assert_allclose(sequence, expected["sequence_output"], atol=2e-6)
  np.testing.assert_allclose(pooled, expected["pooled_output"], atol=2e-6)


def test_outputs_equal_the_in_memory_model(exported):
  inputs = hub.load(exported["preprocess"])(tf.constant(SENTENCES))
  loaded = hub.load(exported["encoder"])(inputs, training=False)
  # Run as a graph, like the SavedModel: eager op-by-op rounds differently.
  expected = tf.function(exported["pretrainer"].discriminator_network)(inputs)
  for key in ("sequence_output", "pooled_output"):
    np.testing.assert_allclose(loaded[key], expected[key], atol=1e-6)
  for ours, theirs in zip(loaded["encoder_outputs"],
                          expected["encoder_outputs"]):
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_identity_pooler_and_attributes(exported):
  loaded = hub.load(exported["encoder"])
  inputs = hub.load(exported["preprocess"])(tf.constant(SENTENCES[:2]))
  out = loaded(inputs)
  np.testing.assert_allclose(out["pooled_output"],
                             np.tanh(out["sequence_output"][:, 0]), atol=1e-6)
  assert loaded.do_lower_case.numpy()
  assert not loaded.do_lower_case.trainable
  vocab_path = loaded.vocab_file.asset_path.numpy().decode()
  assert vocab_path.startswith(exported["encoder"])
  with open(vocab_path, encoding="utf-8") as f:
    assert f.read() == open(VOCAB, encoding="utf-8").read()
  assert loaded.variables and loaded.trainable_variables
  assert isinstance(list(loaded.regularization_losses), list)
  assert "serving_default" in loaded.signatures


# serving_default's inputs and outputs, named as the Hub API documents them.
SIGNATURES = dict(
    encoder=(["input_mask", "input_type_ids", "input_word_ids"],
             ["default", "pooled_output", "sequence_output"]),
    legacy=(["input_mask", "input_word_ids", "segment_ids"],
            ["pooled_output", "sequence_output"]),
    preprocess=(["sentences"],
                ["input_mask", "input_type_ids", "input_word_ids"]),
)


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_serving_signature_names(exported, name):
  signature = tf.saved_model.load(exported[name]).signatures["serving_default"]
  inputs, outputs = SIGNATURES[name]
  if name == "encoder":
    outputs = sorted(outputs + [f"encoder_outputs_{i}"
                                for i in range(exported["layers"])])
  assert sorted(signature.structured_input_signature[1]) == inputs
  assert sorted(signature.structured_outputs) == outputs
  if name == "encoder":  # as TF Serving clients see them
    listing = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "saved_model_cli"),
         "show", "--dir", exported[name], "--tag_set", "serve",
         "--signature_def", "serving_default"],
        capture_output=True, text=True, check=True).stdout
    for key in inputs + outputs:
      assert f"['{key}'] tensor_info" in listing, listing


_KERAS_3 = """
import json, sys
import keras
import tensorflow as tf
import tensorflow_text
assert keras.__version__.startswith("3."), keras.__version__
preprocess = keras.layers.TFSMLayer(sys.argv[1])
encoder = keras.layers.TFSMLayer(sys.argv[2])
text = keras.Input(shape=(), dtype="string")
outputs = encoder(preprocess(text))
model = keras.Model(text, [outputs["pooled_output"],
                           keras.layers.Dense(2)(outputs["pooled_output"])])
pooled, logits = model(tf.constant(json.loads(sys.argv[3])))
print(json.dumps(dict(pooled=pooled.numpy().tolist(),
                      logits_shape=list(logits.shape))))
"""


def test_keras_3_tfsmlayer_recipe(exported):
  """The Keras 3 path of docs/export.md: both exports in a Keras 3 functional model."""
  env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
  run = subprocess.run(
      [sys.executable, "-c", _KERAS_3, exported["preprocess"],
       exported["encoder"], json.dumps(SENTENCES)], cwd=REPO, env=env,
      capture_output=True, text=True, timeout=300, check=False)
  assert run.returncode == 0, run.stderr[-3000:]
  result = json.loads(run.stdout.strip().splitlines()[-1])
  assert result["logits_shape"] == [len(SENTENCES), 2]
  inputs = hub.load(exported["preprocess"])(tf.constant(SENTENCES))
  np.testing.assert_allclose(
      result["pooled"], hub.load(exported["encoder"])(inputs)["pooled_output"],
      atol=1e-6)


def test_no_source_path_leaks(exported):
  # Neither the vocab's source nor the directory the exports were staged in.
  root = os.path.dirname(exported["encoder"]).encode()
  for key in ("encoder", "legacy", "preprocess"):
    for folder, _, files in os.walk(exported[key]):
      for name in files:
        with open(os.path.join(folder, name), "rb") as f:
          assert root not in f.read(), name


def test_dropout_only_when_training(exported):
  loaded = hub.load(exported["encoder"])
  inputs = hub.load(exported["preprocess"])(tf.constant(SENTENCES))
  off = np.stack([loaded(inputs, training=False)["sequence_output"]
                  for _ in range(3)])
  on = np.stack([loaded(inputs, training=True)["sequence_output"]
                 for _ in range(3)])
  assert off.var(axis=0).max() < 1e-12
  assert on.var(axis=0).mean() > 1e-4
  # The masks come from generator state kept in the export: every load
  # (every fine-tuning run of one Hub module) draws the same sequence.
  again = hub.load(exported["encoder"])
  np.testing.assert_array_equal(
      again(inputs, training=True)["sequence_output"], on[0])


def test_any_sequence_length(exported):
  loaded = hub.load(exported["encoder"])
  for length in (5, 77):
    ids = tf.fill([2, length], 2000)
    out = loaded(dict(input_word_ids=ids, input_mask=tf.ones_like(ids),
                      input_type_ids=tf.zeros_like(ids)))
    assert out["sequence_output"].shape == (2, length, exported["hidden"])


def test_keras_layer_fine_tunes(exported):
  encoder = hub.KerasLayer(exported["encoder"], trainable=True)
  inputs = {k: tf_keras.layers.Input(shape=(None,), dtype=tf.int32, name=k)
            for k in ("input_word_ids", "input_mask", "input_type_ids")}
  logits = tf_keras.layers.Dense(2)(encoder(inputs)["pooled_output"])
  model = tf_keras.Model(inputs, logits)
  source = exported["pretrainer"].discriminator_network
  # The pooler (2 weights) is the encoder's own; everything is trainable.
  assert len(encoder.trainable_weights) == len(source.trainable_weights)
  source_values = {v.name.split("/", 1)[1]: v.numpy()
                   for v in source.trainable_weights}
  before = [w.numpy() for w in encoder.trainable_weights]
  assert sorted(np.round([w.sum() for w in before], 3)) == sorted(
      np.round([v.sum() for v in source_values.values()], 3))

  features = hub.load(exported["preprocess"])(tf.constant(
      ["a good and great film", "a bad and awful film"] * 8))
  labels = np.array([1, 0] * 8)
  model.compile(tf_keras.optimizers.Adam(3e-4),
                tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  # Scored without dropout, whose masks make the training loss noisy.
  loss_before = model.evaluate(dict(features), labels, verbose=0)
  model.fit(dict(features), labels, epochs=16, batch_size=16, verbose=0)
  loss_after = model.evaluate(dict(features), labels, verbose=0)
  assert loss_after < loss_before
  changed = [np.abs(w.numpy() - b).max() > 0
             for w, b in zip(encoder.trainable_weights, before)]
  assert all(changed)


def test_mlm_and_rtd_submodels(exported):
  loaded = hub.load(exported["encoder"])
  pretrainer = exported["pretrainer"]
  inputs = hub.load(exported["preprocess"])(tf.constant(SENTENCES[:3]))
  positions = tf.constant([[1, 2, 3]] * 3)
  mlm = loaded.mlm(dict(inputs, masked_lm_positions=positions))
  sequence = pretrainer.generator_network(inputs)["sequence_output"]
  np.testing.assert_allclose(mlm["mlm_logits"],
                             pretrainer.masked_lm(sequence, positions),
                             atol=1e-5)
  rtd = loaded.rtd(inputs)["rtd_logits"]
  expected = pretrainer.discriminator_head(
      pretrainer.discriminator_network(inputs)["sequence_output"])
  np.testing.assert_allclose(rtd, expected, atol=1e-5)
  assert rtd.shape == inputs["input_word_ids"].shape


@pytest.mark.parametrize("change, message", [
    (lambda x: dict(x, input_mask=tf.cast(x["input_mask"], tf.int64)),
     "int32"),
    (lambda x: {k: v for k, v in x.items() if k != "input_type_ids"},
     "input_type_ids"),
    (lambda x: dict(x, input_mask=x["input_mask"][:, :5]),
     "input_mask.must.have.the.shape.of.input_word_ids"),
])
def test_bad_inputs_raise(exported, change, message):
  loaded = hub.load(exported["encoder"])
  ids = tf.fill([2, 8], 2000)
  good = dict(input_word_ids=ids, input_mask=tf.ones_like(ids),
              input_type_ids=tf.zeros_like(ids))
  with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError),
                     match=message):
    loaded(change(good))


def test_existing_target_is_refused_and_failures_leave_nothing(
    exported, tmp_path):
  with pytest.raises(FileExistsError, match="overwrite"):
    export_tfhub_lib.export_encoder(
        exported["encoder"], exported["pretrainer"], vocab_file=VOCAB,
        do_lower_case=True)
  target = tmp_path / "out"
  with pytest.raises(FileNotFoundError, match="missing_vocab"):
    export_tfhub_lib.export_encoder(
        str(target), exported["pretrainer"],
        vocab_file=str(tmp_path / "missing_vocab.txt"), do_lower_case=True)
  assert os.listdir(tmp_path) == []


def test_command_line(exported, tmp_path):
  scratch = tmp_path / "scratch"  # where the exporter's temporary files go
  scratch.mkdir()
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TMPDIR=str(scratch))
  export = [sys.executable, "-m", "export.export_tfhub", "--config=tiny",
            f"--checkpoint={exported['checkpoint_dir']}",
            f"--vocab_file={VOCAB}", "--network=generator"]
  logs = subprocess.run(export + [f"--export_path={tmp_path / 'encoder'}"],
                        cwd=REPO, check=True, env=env, capture_output=True,
                        text=True).stderr
  # The preprocessing model alone needs no checkpoint or config.
  logs += subprocess.run(
      [sys.executable, "-m", "export.export_tfhub", f"--vocab_file={VOCAB}",
       f"--preprocessing_export_path={tmp_path / 'preprocess'}"],
      cwd=REPO, check=True, env=env, capture_output=True, text=True).stderr
  # No saver chatter, and no temporary path recorded in any file.
  for chatter in ("untraced functions", "unsupported characters", "Sharding",
                  "fingerprint", "Compiled the loaded model"):
    assert chatter not in logs
  for model in ("encoder", "preprocess"):
    for path in (tmp_path / model).rglob("*"):
      if path.is_file():
        content = path.read_bytes()
        assert str(scratch).encode() not in content, path
        assert b".export-" not in content, path  # nor the staging directory
  generator = hub.load(str(tmp_path / "encoder"))
  inputs = hub.load(str(tmp_path / "preprocess"))(tf.constant(SENTENCES))
  np.testing.assert_array_equal(
      inputs["input_word_ids"],
      hub.load(exported["preprocess"])(tf.constant(SENTENCES))[
          "input_word_ids"])
  expected = exported["pretrainer"].generator_network(inputs)
  np.testing.assert_allclose(generator(inputs)["sequence_output"],
                             expected["sequence_output"], atol=1e-5)
  # An existing target is refused before anything is written.
  again = subprocess.run(
      export + [f"--export_path={tmp_path / 'encoder_2'}",
                f"--preprocessing_export_path={tmp_path / 'preprocess'}"],
      cwd=REPO, env=env, capture_output=True, text=True, check=False)
  assert again.returncode != 0 and "--overwrite" in again.stderr
  assert not (tmp_path / "encoder_2").exists()


def test_masked_lm_run_exports_its_encoder_and_head(tmp_path):
  experiment = configs.load_experiment("tiny", "model.objective=mlm")
  trained = builders.build_pretrainer(experiment.model, seed=0)
  tf.train.Checkpoint(model=trained).save(str(tmp_path / "run" / "ckpt"))
  command = [sys.executable, "-m", "export.export_tfhub", "--config=tiny",
             "--params_override=model.objective=mlm", "--with_mlm",
             f"--checkpoint={tmp_path / 'run'}", f"--vocab_file={VOCAB}",
             f"--export_path={tmp_path / 'encoder'}"]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  subprocess.run(command, cwd=REPO, check=True, env=env, capture_output=True)
  loaded = hub.load(str(tmp_path / "encoder"))
  ids = tf.constant([[101, 2023, 2003, 1037, 3231, 102]])
  inputs = dict(input_word_ids=ids, input_mask=tf.ones_like(ids),
                input_type_ids=tf.zeros_like(ids))
  expected = trained.encoder_network(inputs)["sequence_output"]
  np.testing.assert_allclose(loaded(inputs)["sequence_output"], expected,
                             atol=1e-5)
  positions = tf.constant([[1, 4]])
  np.testing.assert_allclose(
      loaded.mlm(dict(inputs, masked_lm_positions=positions))["mlm_logits"],
      trained.masked_lm(expected, positions), atol=1e-5)
  assert not hasattr(loaded, "rtd")

  # The run's objective must be the config's.
  wrong = subprocess.run(
      command[:4] + command[5:-1] + [f"--export_path={tmp_path / 'other'}"],
      cwd=REPO, env=env, capture_output=True, text=True, check=False)
  assert wrong.returncode != 0
  assert "holds a model.objective mlm pretrainer; the config says electra" in (
      wrong.stderr)
