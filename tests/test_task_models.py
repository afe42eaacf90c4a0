"""Task models: Hugging Face parity, padding, multiple choice, layer-wise LR."""

import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from official.nlp import optimization as tfm_optimization

from electra_tf import builders
from electra_tf import configs
from electra_tf import models
from electra_tf import optimization
from electra_tf.convert import huggingface

ENCODER = configs.EncoderConfig(
    vocab_size=30522, embedding_size=16, hidden_size=48, num_layers=3,
    num_attention_heads=4, intermediate_size=96, max_position_embeddings=64)


def _hf_config(num_labels):
  return transformers.ElectraConfig(
      vocab_size=30522, embedding_size=16, hidden_size=48, num_hidden_layers=3,
      num_attention_heads=4, intermediate_size=96, hidden_act="gelu",
      max_position_embeddings=64, layer_norm_eps=1e-12,
      initializer_range=0.2, num_labels=num_labels)


def _torch(batch):
  return dict(input_ids=torch.tensor(batch["input_word_ids"], dtype=torch.long),
              attention_mask=torch.tensor(batch["input_mask"]),
              token_type_ids=torch.tensor(batch["input_type_ids"],
                                          dtype=torch.long))


def _pair(hf_class, make_ours, num_labels=3):
  torch.manual_seed(0)
  theirs = hf_class(_hf_config(num_labels)).eval()
  ours = make_ours(builders.build_encoder(ENCODER))
  huggingface.load_task_model(
      ours, {k: v.numpy() for k, v in theirs.state_dict().items()})
  return theirs, ours


def _gelu_head(**kwargs):
  # The hf head's default activation: transformers' exact GELU.
  return dict(head_type="hf", **kwargs)


def test_sequence_classifier_matches_hugging_face(batch):
  theirs, ours = _pair(
      transformers.ElectraForSequenceClassification,
      lambda net: models.ElectraClassifier(net, 3, **_gelu_head()))
  with torch.no_grad():
    expected = theirs(**_torch(batch)).logits.numpy()
  np.testing.assert_allclose(ours(batch).numpy(), expected, atol=1e-5)


def test_token_classifier_matches_hugging_face(batch):
  theirs, ours = _pair(transformers.ElectraForTokenClassification,
                       lambda net: models.ElectraTokenClassifier(net, 3))
  with torch.no_grad():
    expected = theirs(**_torch(batch)).logits.numpy()
  np.testing.assert_allclose(ours(batch).numpy(), expected, atol=1e-5)


def test_span_labeler_matches_hugging_face_and_masks_padding(batch):
  theirs, ours = _pair(transformers.ElectraForQuestionAnswering,
                       models.ElectraSpanLabeler, num_labels=2)
  with torch.no_grad():
    expected = theirs(**_torch(batch))
  outputs = ours(batch)
  real = batch["input_mask"] == 1
  for key in ("start_logits", "end_logits"):
    np.testing.assert_allclose(outputs[key].numpy()[real],
                               getattr(expected, key).numpy()[real], atol=1e-5)
    assert np.all(outputs[key].numpy()[~real] < -9000)


def test_answerable_classifier_ignores_padding_and_has_no_hf_twin(batch):
  labeler = models.ElectraSpanLabeler(builders.build_encoder(ENCODER),
                                      answerable_classifier=True)
  null_logits = labeler(batch)["null_logits"].numpy()
  assert null_logits.shape == (8,)
  # The start-weighted feature puts no weight on padding, so more of it
  # leaves the no-answer logits as they were.
  padded = {k: np.pad(v, [(0, 0), (0, 5)]) for k, v in batch.items()}
  np.testing.assert_allclose(labeler(padded)["null_logits"].numpy(),
                             null_logits, atol=1e-5)
  assert len(set(np.round(null_logits, 5))) > 1  # it reads each example
  with pytest.raises(ValueError, match="answerable_classifier=False"):
    huggingface.task_model_entries(labeler)


def test_multiple_choice_matches_hugging_face_and_scores_choices_apart(batch):
  theirs, ours = _pair(
      transformers.ElectraForMultipleChoice,
      lambda net: models.ElectraMultipleChoice(net, **_gelu_head()))
  choices = {k: v.reshape(2, 4, -1) for k, v in batch.items()}
  with torch.no_grad():
    expected = theirs(**{k: v.reshape(2, 4, -1)
                         for k, v in _torch(batch).items()}).logits.numpy()
  logits = ours(choices).numpy()
  assert logits.shape == (2, 4)
  np.testing.assert_allclose(logits, expected, atol=1e-5)
  # The first choice of the second example, alone, scores the same.
  alone = {k: v[1:2, :1] for k, v in choices.items()}
  np.testing.assert_allclose(ours(alone).numpy()[0, 0], logits[1, 0],
                             atol=1e-5)


def test_original_head_is_dropout_and_one_dense(batch):
  classifier = models.ElectraClassifier(builders.build_encoder(ENCODER), 2)
  logits = classifier(batch)
  head_variables = classifier.classifier.trainable_variables
  assert [v.shape.as_list() for v in head_variables] == [[48, 2], [2]]
  with pytest.raises(ValueError, match="head_type='hf'"):
    huggingface.task_model_entries(classifier)
  assert logits.shape == (8, 2)
  with pytest.raises(ValueError, match="head_type"):
    models.ElectraClassifier(builders.build_encoder(ENCODER), 2,
                             head_type="pooler")


def test_layerwise_factors():
  factors = dict(optimization.layerwise_lr_multipliers(3, 0.8))
  named = optimization.LayerwiseAdamWeightDecay(
      lr_multipliers=list(factors.items()))
  assert named.lr_multiplier("enc/transformer/layer_2/output/kernel:0") == (
      pytest.approx(0.8))
  assert named.lr_multiplier("enc/transformer/layer_0/output/kernel:0") == (
      pytest.approx(0.8 ** 3))
  assert named.lr_multiplier("enc/embeddings/word_embeddings/e:0") == (
      pytest.approx(0.8 ** 4))
  assert named.lr_multiplier("enc/embedding_projection/kernel:0") == (
      pytest.approx(0.8 ** 4))
  assert named.lr_multiplier("classifier/out_proj/kernel:0") == 1.0
  # layer_1 must not match layer_10 and up.
  deep = optimization.LayerwiseAdamWeightDecay(
      lr_multipliers=optimization.layerwise_lr_multipliers(12, 0.8))
  assert deep.lr_multiplier("t/layer_10/k:0") == pytest.approx(0.8 ** 2)
  original = optimization.LayerwiseAdamWeightDecay(
      lr_multipliers=optimization.layerwise_lr_multipliers(
          3, 0.8, original_depths=True))
  assert original.lr_multiplier("t/layer_2/k:0") == pytest.approx(0.8 ** 2)
  assert original.lr_multiplier("embeddings/w:0") == pytest.approx(0.8 ** 5)
  with pytest.raises(ValueError, match="decay"):
    optimization.layerwise_lr_multipliers(3, 1.5)


def test_layerwise_decay_scales_each_update(batch):
  """One AdamW step: each variable moves by its factor times the plain step."""
  deltas = []
  for multipliers in (None, optimization.layerwise_lr_multipliers(3, 0.5)):
    tf.keras.utils.set_random_seed(0)
    model = models.ElectraClassifier(builders.build_encoder(ENCODER), 2)
    model(batch)
    before = [v.numpy() for v in model.trainable_variables]
    optimizer = optimization.make_optimizer(
        0.1, num_train_steps=10, num_warmup_steps=0, weight_decay=0.01,
        lr_multipliers=multipliers)
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(model(batch, training=False) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(
        [(g, v) for g, v in zip(grads, model.trainable_variables)
         if g is not None])
    deltas.append([v.numpy() - b
                   for v, b in zip(model.trainable_variables, before)])
  checked = set()
  for variable, plain, scaled in zip(model.trainable_variables, *deltas):
    if not np.any(plain):
      continue  # the pooler: no gradient, no step
    factor = optimizer.lr_multiplier(variable.name)
    np.testing.assert_allclose(scaled, factor * plain, rtol=1e-4, atol=1e-8,
                               err_msg=variable.name)
    checked.add(factor)
  assert checked == {1.0, 0.5, 0.25, 0.125, 0.0625}
  assert optimization.count_layers(model.trainable_variables) == 3


def test_embedding_rows_step_as_keras_sparse_adam():
  """An embedding's sparse gradient (repeated rows summed) takes the step of
  Model Garden's AdamWeightDecay, rows without gradient included."""
  rows = tf.IndexedSlices(tf.constant([[1.0, -2.0], [0.5, 0.5], [3.0, 1.0]]),
                          tf.constant([1, 3, 1]), tf.constant([5, 2]))
  results = []
  for make in (optimization.LayerwiseAdamWeightDecay,
               tfm_optimization.AdamWeightDecay):
    table = tf.Variable(np.arange(10, dtype=np.float32).reshape(5, 2),
                        name="embeddings/word_embeddings")
    optimizer = make(learning_rate=0.1, weight_decay_rate=0.01,
                     epsilon=1e-6, gradient_clip_norm=1.0)
    for _ in range(3):
      optimizer.apply_gradients([(rows, table)])
    results.append(table.numpy())
  np.testing.assert_allclose(*results, rtol=1e-6)
  assert not np.allclose(results[0], np.arange(10).reshape(5, 2))
