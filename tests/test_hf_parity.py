"""Our encoder and heads against Hugging Face transformers' ELECTRA (PyTorch).

Random Hugging Face models are loaded into ours, with embedding_size !=
hidden_size, and outputs must agree to 1e-5 (max abs), with the exact GELU
and with the tanh approximation (transformers' gelu_new, our gelu_tanh; its
generator head applies the exact GELU either way).
"""

import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers

from electra_tf import builders
from electra_tf import configs
from electra_tf.convert import huggingface

ATOL = 1e-5


ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh"}  # theirs: ours


def _hf_config(hidden, heads, intermediate, activation):
  return transformers.ElectraConfig(
      vocab_size=30522, embedding_size=16, hidden_size=hidden,
      num_hidden_layers=3, num_attention_heads=heads,
      intermediate_size=intermediate, hidden_act=activation,
      max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12,
      initializer_range=0.2)


@pytest.fixture(scope="module", params=sorted(ACTIVATIONS))
def hf_models(request):
  torch.manual_seed(0)
  disc = transformers.ElectraForPreTraining(
      _hf_config(48, 4, 96, request.param)).eval()
  gen = transformers.ElectraForMaskedLM(
      _hf_config(24, 2, 48, request.param)).eval()
  # ELECTRA's generator and discriminator share their embeddings.
  gen.electra.embeddings.load_state_dict(disc.electra.embeddings.state_dict())
  gen.generator_lm_head.weight = gen.electra.embeddings.word_embeddings.weight
  return disc, gen


@pytest.fixture(scope="module")
def pretrainer(hf_models):
  disc, gen = hf_models
  config = configs.PretrainerConfig(
      discriminator=configs.EncoderConfig(
          embedding_size=16, hidden_size=48, num_layers=3,
          num_attention_heads=4, intermediate_size=96,
          max_position_embeddings=64,
          hidden_act=ACTIVATIONS[disc.config.hidden_act]),
      generator_size=0.5, max_predictions_per_seq=4, generator_head_act="gelu")
  model = builders.build_pretrainer(config, seed=0)
  disc_state = {k: v.numpy() for k, v in disc.state_dict().items()}
  gen_state = {k: v.numpy() for k, v in gen.state_dict().items()}
  huggingface.load_encoder(model.discriminator_network, disc_state)
  huggingface.load_encoder(model.generator_network, gen_state,
                           load_embeddings=False)
  huggingface.load_discriminator_head(model.discriminator_head, disc_state)
  huggingface.load_generator_head(model.masked_lm, gen_state)
  return model


def _torch_inputs(batch):
  return dict(input_ids=torch.tensor(batch["input_word_ids"], dtype=torch.long),
              attention_mask=torch.tensor(batch["input_mask"]),
              token_type_ids=torch.tensor(batch["input_type_ids"],
                                          dtype=torch.long))


def _max_diff(ours, theirs):
  return np.abs(np.asarray(ours) - theirs.detach().numpy()).max()


def test_discriminator_encoder_and_rtd_head(hf_models, pretrainer, batch):
  disc, _ = hf_models
  with torch.no_grad():
    theirs = disc(**_torch_inputs(batch), output_hidden_states=True)
    hidden = disc.electra(**_torch_inputs(batch)).last_hidden_state
  ours = pretrainer.discriminator_network(batch, training=False)
  assert _max_diff(ours["sequence_output"], hidden) < ATOL
  for ours_layer, their_layer in zip(ours["encoder_outputs"],
                                     theirs.hidden_states[1:]):
    assert _max_diff(ours_layer, their_layer) < ATOL
  rtd_logits = pretrainer.discriminator_head(ours["sequence_output"])
  assert _max_diff(rtd_logits, theirs.logits) < ATOL
  # The comparison is not vacuous: outputs vary and differ from zero.
  assert np.asarray(rtd_logits).std() > 0.1


def test_generator_mlm_logits(hf_models, pretrainer, batch):
  _, gen = hf_models
  with torch.no_grad():
    theirs = gen(**_torch_inputs(batch)).logits.numpy()
  positions = np.array([[1, 2, 5, 7]] * 8, np.int32)
  sequence = pretrainer.generator_network(batch)["sequence_output"]
  ours = pretrainer.masked_lm(sequence, tf.constant(positions)).numpy()
  expected = np.take_along_axis(theirs, positions[..., None], 1)
  assert np.abs(ours - expected).max() < ATOL


def test_pretrainer_outputs_match_hf_end_to_end(hf_models, pretrainer, batch):
  """Static masking, so the generator's input is known to both sides."""
  disc, gen = hf_models
  positions = np.array([[1, 2, 5, 0]] * 8, np.int32)
  inputs = dict(batch, masked_lm_positions=positions,
                masked_lm_ids=batch["input_word_ids"][:, [1, 2, 5, 0]],
                masked_lm_weights=np.array([[1, 1, 1, 0]] * 8, np.float32))
  inputs["input_word_ids"] = batch["input_word_ids"].copy()
  inputs["input_word_ids"][:, [1, 2, 5]] = 103
  out = pretrainer(inputs, training=False)
  with torch.no_grad():
    lm = gen(**_torch_inputs(inputs)).logits.numpy()
    rtd = disc(**_torch_inputs(dict(
        batch, input_word_ids=out["disc_input_ids"].numpy()))).logits
  expected_lm = np.take_along_axis(lm, positions[..., None], 1)
  assert np.abs(out["lm_outputs"].numpy() - expected_lm).max() < ATOL
  assert _max_diff(out["disc_logits"], rtd) < ATOL
  assert out["disc_label"].numpy().sum() > 0


def test_missing_and_unused_weights_are_reported(pretrainer, hf_models):
  disc, _ = hf_models
  state = {k: v.numpy() for k, v in disc.state_dict().items()}
  del state["electra.encoder.layer.1.output.dense.bias"]
  state["electra.encoder.layer.9.output.dense.bias"] = np.zeros(48)
  with pytest.raises(ValueError, match="layer.1.output.dense.bias.*"
                     "layer.9.output.dense.bias"):
    huggingface.load_encoder(pretrainer.discriminator_network, state)


def test_weights_round_trip_bit_exact(hf_models, pretrainer):
  disc, gen = hf_models
  for model, encoder, head_entries, prefix in (
      (disc, pretrainer.discriminator_network,
       huggingface.discriminator_head_entries(pretrainer.discriminator_head),
       huggingface.DISCRIMINATOR_HEAD_PREFIX),
      (gen, pretrainer.generator_network,
       huggingface.generator_head_entries(pretrainer.masked_lm),
       huggingface.GENERATOR_HEAD_PREFIX)):
    theirs = {k: v.numpy() for k, v in model.state_dict().items()}
    ours = huggingface.state_dict(huggingface.encoder_entries(encoder),
                                  "electra.")
    ours.update(huggingface.state_dict(head_entries, prefix))
    assert set(theirs) - set(ours) <= {"generator_lm_head.weight"}
    for name, value in ours.items():
      assert value.dtype == theirs[name].dtype
      np.testing.assert_array_equal(value, theirs[name], err_msg=name)
