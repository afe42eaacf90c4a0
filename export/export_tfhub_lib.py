"""Writes ELECTRA encoders and their preprocessing as TF-Hub-style SavedModels.

The encoder SavedModel follows the Hub "Text embeddings with Transformer
encoders" API (as google/electra_small/2): called with a dict of int32
`input_word_ids`, `input_mask`, `input_type_ids` of any [batch, seq] shape and
`training=`, it returns `pooled_output`, `sequence_output`, `encoder_outputs`
and `default`. It carries `vocab_file` (an Asset) and `do_lower_case` (a
Variable), and optional sub-models `.mlm` (the MLM logits at
`masked_lm_positions`: ELECTRA's generator's, or those of a masked-LM
pretrainer's own encoder) and `.rtd` (the discriminator's replaced-token
logits).
The legacy style (as google/electra_large/1) is called with the list
[input_word_ids, input_mask, segment_ids] and returns
[pooled_output, sequence_output].

Directories are written under a temporary name next to the target and renamed
when complete, so a failed export leaves nothing half-written.
"""

import contextlib
import logging
import os
import shutil
import socket
import tempfile
from typing import Optional

from absl import logging as absl_logging
import numpy as np
import tensorflow as tf
import tf_keras
from official.nlp.modeling import layers as nlp_layers
from official.nlp.tools import export_tfhub_lib as tfm_export

from electra_tf import layers as electra_layers
from electra_tf import paths
from electra_tf.layers import bert_tokenizer
from electra_tf.networks.electra_encoder import INPUT_KEYS


def check_targets(*export_paths: Optional[str], overwrite: bool = False):
  """Refuses existing export targets (unless `overwrite`) before any work."""
  for path in filter(None, export_paths):
    if os.path.exists(path) and not overwrite:
      raise FileExistsError(f"{os.path.abspath(path)} exists; pass "
                            "overwrite=True (--overwrite) to replace it")
    paths.check_writable(os.path.dirname(os.path.abspath(path)))


@contextlib.contextmanager
def atomic_directory(export_path: str, overwrite: bool = False):
  """Yields a temporary path that becomes `export_path` if the body succeeds."""
  export_path = os.path.abspath(export_path)
  check_targets(export_path, overwrite=overwrite)
  parent, name = os.path.split(export_path)
  os.makedirs(parent, exist_ok=True)
  owner = f".export-{name}.{socket.gethostname()}."
  _remove_dead_staging(parent, owner)
  staging = tempfile.mkdtemp(prefix=f"{owner}{os.getpid()}.", dir=parent)
  try:
    yield os.path.join(staging, "model")
    if os.path.exists(export_path):
      shutil.rmtree(export_path)
    os.rename(os.path.join(staging, "model"), export_path)
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def _remove_dead_staging(parent: str, owner: str):
  """Staging directories of earlier exports to the same path, by this host,
  whose process is gone (killed mid-export)."""
  for entry in os.scandir(parent):
    if not entry.name.startswith(owner):
      continue
    pid = entry.name[len(owner):].split(".")[0]
    if not pid.isdigit():
      continue
    try:
      os.kill(int(pid), 0)
    except ProcessLookupError:
      shutil.rmtree(entry.path, ignore_errors=True)
    except PermissionError:
      pass  # alive, someone else's


def _encoder_inputs():
  return {name: tf_keras.Input(shape=(None,), dtype=tf.int32, name=name)
          for name in INPUT_KEYS}


def _identity_pooler(encoder):
  """ELECTRA trains no pooler; an identity start leaves [CLS] unchanged but
  for the tanh, as in the released Hub models. Set in place."""
  hidden = encoder.config.hidden_size
  encoder.pooler.kernel.assign(np.eye(hidden, dtype=np.float32))
  encoder.pooler.bias.assign(np.zeros(hidden, np.float32))


def _dict_model(encoder):
  """The Hub encoder API over `encoder`: dict in, dict with `default` out."""
  inputs = _encoder_inputs()
  outputs = dict(encoder(inputs))
  outputs["default"] = outputs["pooled_output"]
  model = tf_keras.Model(inputs, outputs)
  # Sub-models share the encoder's variables; do not track them twice.
  model._auto_track_sub_layers = False  # pylint: disable=protected-access
  return model, inputs, outputs


def create_encoder_model(pretrainer, network: Optional[str] = None,
                         with_mlm: bool = False, legacy: bool = False):
  """A functional tf_keras model over one of the pretrainer's networks.

  `network` defaults to the one to fine-tune: ELECTRA's discriminator, the
  masked-LM objective's encoder. Sets that network's pooler to the identity
  (kernel I, bias 0) in place.
  """
  network = network or pretrainer.NETWORKS[0]
  encoder = pretrainer.get_network(network)
  _identity_pooler(encoder)

  if legacy:
    input_list = [tf_keras.Input(shape=(None,), dtype=tf.int32, name=name)
                  for name in ("input_word_ids", "input_mask", "segment_ids")]
    outputs = encoder(dict(zip(INPUT_KEYS, input_list)))
    return tf_keras.Model(input_list, [outputs["pooled_output"],
                                       outputs["sequence_output"]])

  model, inputs, outputs = _dict_model(encoder)
  if network == "discriminator":
    rtd_logits = pretrainer.discriminator_head(outputs["sequence_output"])
    model.rtd = tf_keras.Model(inputs, dict(outputs, rtd_logits=rtd_logits))
  if with_mlm:
    mlm_inputs = _encoder_inputs()
    mlm_inputs["masked_lm_positions"] = tf_keras.Input(
        shape=(None,), dtype=tf.int32, name="masked_lm_positions")
    mlm_outputs = dict(pretrainer.mlm_network(
        {k: mlm_inputs[k] for k in INPUT_KEYS}))
    mlm_outputs["mlm_logits"] = pretrainer.masked_lm(
        mlm_outputs["sequence_output"], mlm_inputs["masked_lm_positions"])
    model.mlm = tf_keras.Model(mlm_inputs, mlm_outputs)
  return model


@contextlib.contextmanager
def quiet_saver():
  """Holds back TensorFlow's INFO chatter while saving.

  (untraced functions, renamed captured inputs, sharding, fingerprints):
  internals a user cannot act on. Warnings still show. A filter, since the
  saver resets absl's logging levels.
  """
  loggers = [tf.get_logger(), absl_logging.get_absl_logger()]
  warnings_only = lambda record: record.levelno >= logging.WARNING  # noqa
  for logger in loggers:
    logger.addFilter(warnings_only)
  try:
    yield
  finally:
    for logger in loggers:
      logger.removeFilter(warnings_only)


def private_copy(vocab_file, directory):
  """A copy of the vocab, so the source path is not recorded in the SavedModel."""
  bert_tokenizer.read_vocab(vocab_file)  # refuses a bad one
  copy = os.path.join(directory, "vocab.txt")
  tf.io.gfile.copy(vocab_file, copy)
  return copy


def export_encoder(export_path: str, pretrainer, *, vocab_file: str,
                   do_lower_case: bool, network: Optional[str] = None,
                   with_mlm: bool = False, legacy: bool = False,
                   overwrite: bool = False):
  """Saves one network of `pretrainer` as a Hub SavedModel at `export_path`."""
  _save_hub_model(export_path,
                  create_encoder_model(pretrainer, network, with_mlm, legacy),
                  vocab_file, do_lower_case, overwrite)


def export_fine_tuned_encoder(export_path: str, encoder, *, vocab_file: str,
                              do_lower_case: bool, overwrite: bool = False):
  """Saves a task model's encoder (its `network`) as a Hub SavedModel.

  An `ElectraEncoder`'s pooler, which fine-tuning leaves frozen, restarts as
  the identity, as in exports of pretrained encoders; a `hub.KerasLayer`
  encoder is saved as it is.
  """
  if hasattr(encoder, "pooler"):
    _identity_pooler(encoder)
  _save_hub_model(export_path, _dict_model(encoder)[0], vocab_file,
                  do_lower_case, overwrite)


def _named_outputs(outputs):
  """Outputs flat and named as documented: a list's by the legacy names,
  `encoder_outputs` as `encoder_outputs_<i>`."""
  if isinstance(outputs, (list, tuple)):
    outputs = dict(zip(("pooled_output", "sequence_output"), outputs))
  named = {}
  for key, value in outputs.items():
    if isinstance(value, (list, tuple)):
      named.update({f"{key}_{i}": tensor for i, tensor in enumerate(value)})
    else:
      named[key] = value
  return named


def _save_with_endpoints(model, staging):
  """Saves `model` with a `serving_default` and a `serve` function.

  Keras would name the signature's outputs after the layers that make them
  (`discriminator`, `discriminator_1`, ...); ours carry the documented names,
  inputs too. `serve` takes the model's input structure positionally, as
  Keras 3's `TFSMLayer(path)` calls its default endpoint.
  """
  spec = tf.nest.map_structure(
      lambda t: tf.TensorSpec(t.shape, t.dtype, name=t.name.split(":")[0]),
      model.input)
  model.serve = tf.function(lambda inputs: model(inputs, training=False),
                            input_signature=[spec])

  @tf.function(input_signature=tf.nest.flatten(spec))
  def serving_default(*flat):
    return _named_outputs(model.serve(tf.nest.pack_sequence_as(spec, flat)))

  with quiet_saver():
    tf.saved_model.save(model, staging, signatures={
        "serving_default": serving_default.get_concrete_function()})


def _save_hub_model(export_path, model, vocab_file, do_lower_case, overwrite):
  with tempfile.TemporaryDirectory() as vocab_dir, \
      atomic_directory(export_path, overwrite) as staging:
    model.vocab_file = tf.saved_model.Asset(private_copy(vocab_file,
                                                          vocab_dir))
    model.do_lower_case = tf.Variable(do_lower_case, trainable=False)
    _save_with_endpoints(model, staging)


def create_preprocessing(*, vocab_file: str, do_lower_case: bool,
                         default_seq_length: int):
  """The Hub preprocessing model (as tensorflow/bert_en_uncased_preprocess/3).

  Model Garden's construction, with a tokenizer that lower-cases as BERT does.
  """
  tokenize = electra_layers.BertTokenizer(vocab_file=vocab_file,
                                       lower_case=do_lower_case)
  sentences = tf_keras.layers.Input(shape=(), dtype=tf.string,
                                    name="sentences")
  tokens = tokenize(sentences)
  pack = nlp_layers.BertPackInputs(
      seq_length=default_seq_length,
      special_tokens_dict=tokenize.get_special_tokens_dict())
  preprocessing = tf_keras.Model(sentences, pack(tokens))
  preprocessing.tokenize = tf_keras.Model(sentences, tokens)
  preprocessing.tokenize.get_special_tokens_dict = tf.train.Checkpoint()
  preprocessing.tokenize.get_special_tokens_dict.__call__ = tf.function(
      tokenize.get_special_tokens_dict, input_signature=[])
  # A wrapper, so that seq_length= can be overridden per call.
  preprocessing.bert_pack_inputs = tfm_export.BertPackInputsSavedModelWrapper(
      pack)
  return preprocessing


def export_preprocessing(export_path: str, *, vocab_file: str,
                         do_lower_case: bool, default_seq_length: int = 128,
                         overwrite: bool = False):
  """Saves the companion preprocessing SavedModel at `export_path`."""
  with tempfile.TemporaryDirectory() as vocab_dir, \
      atomic_directory(export_path, overwrite) as staging:
    preprocessing = create_preprocessing(
        vocab_file=private_copy(vocab_file, vocab_dir),
        do_lower_case=do_lower_case, default_seq_length=default_seq_length)
    _save_with_endpoints(preprocessing, staging)
