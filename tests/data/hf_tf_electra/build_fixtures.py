"""Writes tiny Hugging Face TF ELECTRA models (tf_model.h5) and their outputs.

transformers 5 dropped TensorFlow, yet many hub checkpoints still ship only
tf_model.h5. These fixtures come from transformers 4.46.3 itself, so the
reader is checked against the real producer, not against our own idea of it:

  pip install --no-deps --target /tmp/hf4 transformers==4.46.3 \
      huggingface_hub==0.26.5 tokenizers==0.20.3
  TF_USE_LEGACY_KERAS=1 PYTHONPATH=/tmp/hf4 python \
      tests/data/hf_tf_electra/build_fixtures.py

The weights are random (seeded); outputs are computed by the TF models with
training=False and saved in reference_outputs.npz.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf
import transformers

_HERE = os.path.dirname(os.path.abspath(__file__))


def _config(hidden, heads, intermediate, **kwargs):
  return transformers.ElectraConfig(
      vocab_size=99, embedding_size=16, hidden_size=hidden,
      num_hidden_layers=2, num_attention_heads=heads,
      intermediate_size=intermediate, max_position_embeddings=64,
      initializer_range=0.2, **kwargs)


def main():
  assert transformers.__version__ == "4.46.3", transformers.__version__
  tf.random.set_seed(0)
  rng = np.random.default_rng(0)
  input_ids = rng.integers(5, 99, size=(3, 12)).astype(np.int32)
  input_mask = np.ones_like(input_ids)
  input_mask[1, 9:] = 0
  input_mask[2, 5:] = 0
  input_ids[input_mask == 0] = 0
  token_type_ids = np.zeros_like(input_ids)
  token_type_ids[0, 6:] = 1
  inputs = dict(input_ids=input_ids, attention_mask=input_mask,
                token_type_ids=token_type_ids)

  models = dict(
      discriminator=transformers.TFElectraForPreTraining(
          _config(32, 4, 36)),
      generator=transformers.TFElectraForMaskedLM(_config(16, 2, 18)),
      classifier=transformers.TFElectraForSequenceClassification(
          _config(32, 4, 36, num_labels=3)))
  outputs = dict(inputs)
  for name, model in models.items():
    result = model(inputs, training=False, output_hidden_states=True)
    outputs[f"{name}_logits"] = result.logits.numpy()
    outputs[f"{name}_sequence_output"] = result.hidden_states[-1].numpy()
    model.save_pretrained(os.path.join(_HERE, name))
  np.savez(os.path.join(_HERE, "reference_outputs.npz"), **outputs)


if __name__ == "__main__":
  main()
