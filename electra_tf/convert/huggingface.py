"""Hugging Face ELECTRA weights (name -> numpy array dicts) to and from our models.

Names follow `transformers`' ElectraModel / ElectraForPreTraining /
ElectraForMaskedLM state dicts. Each of our layers is described once, as
(Hugging Face name, our variable, layout), and that description serves both
directions. Loading requires every expected weight to be present and every
weight under the given prefix to be used; otherwise a ValueError lists the
missing and unused names.
"""

from typing import Dict, List, Mapping, Tuple

import numpy as np

from electra_tf import models

# Layouts: "same" as stored; "bias" flattened by Hugging Face; "kernelN" a
# Keras kernel with N input axes, stored by torch as a [out, in] Linear weight.
_Entry = Tuple[str, object, str]

# Buffers that some transformers versions keep in the state dict.
_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")


def _dense(layer, name, input_axes=1) -> List[_Entry]:
  return [(name + ".weight", layer.kernel, f"kernel{input_axes}"),
          (name + ".bias", layer.bias, "bias")]


def _layer_norm(layer, name) -> List[_Entry]:
  return [(name + ".weight", layer.gamma, "same"),
          (name + ".bias", layer.beta, "same")]


def embedding_entries(embeddings) -> List[_Entry]:
  return [
      ("embeddings.word_embeddings.weight",
       embeddings.word_embeddings.embeddings, "same"),
      ("embeddings.position_embeddings.weight",
       embeddings.position_embeddings._position_embeddings, "same"),  # pylint: disable=protected-access
      ("embeddings.token_type_embeddings.weight",
       embeddings.type_embeddings.embeddings, "same"),
  ] + _layer_norm(embeddings.layer_norm, "embeddings.LayerNorm")


def encoder_entries(encoder, with_embeddings=True,
                    with_pooler=False) -> List[_Entry]:
  """ElectraModel names for an `ElectraEncoder`.

  ELECTRA has no pooler; BERT checkpoints (`with_pooler`) do.
  """
  entries = embedding_entries(encoder.embeddings) if with_embeddings else []
  if with_pooler:
    entries += _dense(encoder.pooler, "pooler.dense")
  if encoder.embedding_projection is not None:
    entries += _dense(encoder.embedding_projection, "embeddings_project")
  # pylint: disable=protected-access
  for i, block in enumerate(encoder.transformer_layers):
    name = f"encoder.layer.{i}."
    attention = block.attention
    for ours, theirs in ((attention._query_dense, "query"),
                         (attention._key_dense, "key"),
                         (attention._value_dense, "value")):
      entries += _dense(ours, name + "attention.self." + theirs)
    entries += _dense(attention._output_dense, name + "attention.output.dense",
                      input_axes=2)
    entries += _layer_norm(block.attention_layer_norm,
                           name + "attention.output.LayerNorm")
    entries += _dense(block.intermediate_dense, name + "intermediate.dense")
    entries += _dense(block.output_dense, name + "output.dense")
    entries += _layer_norm(block.output_layer_norm, name + "output.LayerNorm")
  # pylint: enable=protected-access
  return entries


DISCRIMINATOR_HEAD_PREFIX = "discriminator_predictions."
GENERATOR_HEAD_PREFIX = "generator_"


def discriminator_head_entries(head) -> List[_Entry]:
  """ElectraForPreTraining's head, under DISCRIMINATOR_HEAD_PREFIX."""
  return _dense(head.dense, "dense") + _dense(head.dense_prediction,
                                              "dense_prediction")


def generator_head_entries(masked_lm) -> List[_Entry]:
  """ElectraForMaskedLM's head, under GENERATOR_HEAD_PREFIX.

  Its output weight is the tied word embedding, so only the bias is listed.
  """
  return (_dense(masked_lm.dense, "predictions.dense") +
          _layer_norm(masked_lm.layer_norm, "predictions.LayerNorm") +
          [("lm_head.bias", masked_lm.bias, "same")])


def _hf_head(head, dense_name, out_name) -> List[_Entry]:
  if head.dense is None:
    raise ValueError("Hugging Face's heads have a hidden dense layer; build "
                     "the model with head_type='hf' to convert it")
  return _dense(head.dense, dense_name) + _dense(head.out_proj, out_name)


def task_model_entries(model) -> List[_Entry]:
  """Names of transformers' ElectraFor{SequenceClassification,
  TokenClassification,QuestionAnswering,MultipleChoice} for our task models.
  """
  entries = [("electra." + name, variable, layout)
             for name, variable, layout in encoder_entries(model.network)]
  if isinstance(model, models.ElectraClassifier):
    return entries + _hf_head(model.classifier, "classifier.dense",
                              "classifier.out_proj")
  if isinstance(model, models.ElectraMultipleChoice):
    return entries + _hf_head(model.classifier, "sequence_summary.summary",
                              "classifier")
  if isinstance(model, models.ElectraTokenClassifier):
    return entries + _dense(model.classifier, "classifier")
  if isinstance(model, models.ElectraSpanLabeler):
    if model.answerable is not None:
      raise ValueError("Hugging Face's ElectraForQuestionAnswering has no "
                       "answerable classifier; build the model with "
                       "answerable_classifier=False (finetune."
                       "answerable_classifier: false) to convert it")
    return entries + _dense(model.qa_outputs, "qa_outputs")
  raise TypeError(f"No Hugging Face counterpart for {type(model).__name__}")


def _to_ours(value, variable, layout, name="a weight"):
  value = np.asarray(value)
  stored, expected = value.shape, tuple(variable.shape)
  if layout.startswith("kernel"):
    value = value.T
  if layout != "same" and value.size == np.prod(expected):
    value = value.reshape(expected)
  if value.shape != expected:
    raise ValueError(f"{name} has shape {stored}, the model "
                     f"built from the config needs {expected} (for "
                     f"{variable.name}); are the config's sizes the "
                     "checkpoint's?")
  return value.astype(variable.dtype.as_numpy_dtype)


def _to_theirs(variable, layout):
  value = variable.numpy()
  if layout == "bias":
    return value.reshape(-1)
  if layout.startswith("kernel"):
    input_axes = int(layout[len("kernel"):])
    return np.ascontiguousarray(
        value.reshape(int(np.prod(value.shape[:input_axes])), -1).T)
  return value


def load(entries: List[_Entry], state_dict: Mapping[str, np.ndarray],
         prefix: str = "", ignore=()):
  """Assigns `state_dict[prefix + name]` to each entry's variable."""
  weights = {k[len(prefix):]: v for k, v in state_dict.items()
             if k.startswith(prefix)}
  missing = [prefix + name for name, _, _ in entries if name not in weights]
  known = {name for name, _, _ in entries} | set(ignore)
  unused = sorted(prefix + k for k in weights if k not in known)
  if missing or unused:
    raise ValueError(f"Hugging Face weights do not fit: missing {missing}, "
                     f"unused {unused}")
  for name, variable, layout in entries:
    variable.assign(_to_ours(weights[name], variable, layout, prefix + name))


def state_dict(entries: List[_Entry], prefix: str = "") -> Dict[str, np.ndarray]:
  return {prefix + name: _to_theirs(variable, layout)
          for name, variable, layout in entries}


def load_encoder(encoder, weights: Mapping[str, np.ndarray],
                 prefix: str = "electra.", load_embeddings: bool = True):
  """ElectraModel or BertModel weights (under `prefix`) into an `ElectraEncoder`.

  With `load_embeddings=False` (a generator whose embeddings are shared with
  the discriminator), the given embedding weights must equal the shared ones.
  A BERT pooler is loaded when present; otherwise the pooler is left as it is.
  """
  if not load_embeddings:
    for name, variable, layout in embedding_entries(encoder.embeddings):
      value = weights.get(prefix + name)
      if value is not None and not np.array_equal(
          _to_ours(value, variable, layout, prefix + name),
          variable.numpy()):
        raise ValueError(f"{prefix + name} differs from the shared embeddings "
                         "already loaded; ELECTRA's generator and "
                         "discriminator share one set")
  shared = [] if load_embeddings else [
      name for name, _, _ in embedding_entries(encoder.embeddings)]
  with_pooler = prefix + "pooler.dense.weight" in weights
  load(encoder_entries(encoder, load_embeddings, with_pooler), weights, prefix,
       ignore=_BUFFERS + tuple(shared))


def load_task_model(model, weights: Mapping[str, np.ndarray]):
  """An ElectraFor<Task> state dict into the matching task model of ours."""
  load(task_model_entries(model), weights,
       ignore=tuple("electra." + name for name in _BUFFERS))


def load_discriminator_head(head, weights: Mapping[str, np.ndarray]):
  load(discriminator_head_entries(head), weights, DISCRIMINATOR_HEAD_PREFIX)


def load_generator_head(masked_lm, weights: Mapping[str, np.ndarray]):
  """The output projection is tied to the word embeddings; only its bias loads."""
  load(generator_head_entries(masked_lm), weights, GENERATOR_HEAD_PREFIX,
       ignore=("lm_head.weight",))
