"""ELECTRA-Small pretraining speed: electra_tf vs tf-models-official.

Both sides get the same sizes (discriminator 256 x 12, generator 64 x 12,
embeddings 128), the same activation (the exact erf GELU of the configs, as
tf.nn.gelu for the reference; Model Garden's "gelu" would be the tanh
approximation), the same optimizer (Model Garden's AdamWeightDecay), the same
loss (MLM + 50 x RTD), the same training loop (`trainer.make_train_loop`) and
the same batches of shipped text, in one process. Train steps are reported as
milliseconds, examples/s and model FLOPs utilisation (MFU): the matmul FLOPs
of forward and backward per second, over the device's peak (--peak_tflops,
else a large matmul measured here in the same precision).

  python benchmarks/pretraining_step.py [--steps=8] [--rounds=4] [--xla] \
    [--mixed_precision=mixed_bfloat16]
"""

# Before TensorFlow: it sets TensorFlow's CPU kernels (see its __init__).
import electra_tf  # pylint: disable=unused-import,g-bad-import-order

import os
import re
import time

from absl import app
from absl import flags
import tensorflow as tf
import tf_keras
from official.nlp.modeling import models as tfm_models
from official.nlp.modeling import networks as tfm_networks

import harness
from electra_tf import builders
from electra_tf import configs
from electra_tf import flops as flops_lib
from electra_tf import losses
from electra_tf import runtime
from electra_tf import trainer

_STEPS = flags.DEFINE_integer("steps", 8, "Timed steps per round.",
                              lower_bound=1)
_ROUNDS = flags.DEFINE_integer("rounds", 4, "Rounds; the median is reported.",
                               lower_bound=1)
_BATCH = flags.DEFINE_integer("batch_size", 16, "Train batch size.",
                              lower_bound=1)
_FORWARD_BATCH = flags.DEFINE_integer("forward_batch_size", 32,
                                      "Encoder forward batch size.",
                                      lower_bound=1)
_SEQ = flags.DEFINE_integer("seq_length", 128, "Sequence length.",
                            lower_bound=1)
_XLA = flags.DEFINE_bool("xla", False,
                         "Also time both train steps compiled with XLA.")
_MIXED_PRECISION = flags.DEFINE_enum(
    "mixed_precision", None, runtime.PRECISIONS[1:],
    "Also time both train steps under this mixed-precision policy.")
_PEAK_TFLOPS = flags.DEFINE_float(
    "peak_tflops", None, "The device's peak TFLOP/s for MFU (e.g. 989 for an "
    "H100 in bfloat16); default: a large matmul measured here.")

def _tensorflow_gelu(x):
  """TensorFlow's exact GELU: the same math as ours, autodiff's gradient."""
  return tf.nn.gelu(x, approximate=False)


def _reference_encoder(config):
  return tfm_networks.BertEncoder(
      vocab_size=config.vocab_size, hidden_size=config.hidden_size,
      num_layers=config.num_layers,
      num_attention_heads=config.num_attention_heads,
      max_sequence_length=config.max_position_embeddings,
      type_vocab_size=config.type_vocab_size,
      inner_dim=config.intermediate_size, inner_activation=_tensorflow_gelu,
      embedding_width=config.embedding_size, dict_outputs=True)


def _reference_pretrainer(model_config):
  return tfm_models.ElectraPretrainer(
      generator_network=_reference_encoder(model_config.generator()),
      discriminator_network=_reference_encoder(model_config.discriminator),
      vocab_size=model_config.discriminator.vocab_size, num_classes=2,
      num_token_predictions=model_config.max_predictions_per_seq,
      mlm_activation=_tensorflow_gelu)


def _reference_loss(model, batch):
  outputs = model(batch, training=True)  # dropout on, as in ours
  outputs = dict(outputs, masked_lm_ids=batch["masked_lm_ids"],
                 masked_lm_weights=batch["masked_lm_weights"])
  return losses.pretraining_loss_and_metrics(outputs, batch["input_mask"])


def _measured_peak_tflops(dtype, size=2048, repeats=10):
  """Best TFLOP/s of a square matmul: what dense math reaches on this device."""
  a = tf.random.normal([size, size], dtype=tf.float32)
  a = tf.cast(a, dtype)
  matmul = tf.function(lambda x: tf.reduce_sum(tf.cast(
      tf.matmul(x, x), tf.float32)))
  matmul(a).numpy()
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    matmul(a).numpy()
    best = min(best, time.perf_counter() - start)
  return 2 * size ** 3 / best / 1e12


def _compare(ours, reference, steps, rounds):
  """(ours ms, reference ms) by `harness.interleaved_medians`; a reference
  that fails to run gets None."""
  try:
    harness.milliseconds_per_step(reference, 1)
  except (TypeError, ValueError, tf.errors.OpError) as error:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = next((line for line in lines if re.match(r"\w+Error: ", line)),
                  lines[0])
    print(f"tf-models-official fails here: {reason}")
    return harness.interleaved_medians([ours], steps, rounds)[0], None
  return tuple(harness.interleaved_medians([ours, reference], steps, rounds))


def main(argv):
  del argv
  config = configs.load_experiment("small").model
  steps = _STEPS.value
  train_batches = harness.pretraining_batches(
      _BATCH.value, _SEQ.value, config.max_predictions_per_seq, 4)
  flops = flops_lib.train_flops_per_example(config, _SEQ.value) * _BATCH.value
  rows = []
  for policy in ("float32",) + ((_MIXED_PRECISION.value,)
                                if _MIXED_PRECISION.value else ()):
    tf_keras.mixed_precision.set_global_policy(policy)
    peak = _PEAK_TFLOPS.value or _measured_peak_tflops(
        tf_keras.mixed_precision.global_policy().compute_dtype)
    for jit in (False, True) if _XLA.value else (False,):
      ours = harness.train_loop(builders.build_pretrainer(config, seed=0),
                                trainer.pretraining_loss(config), jit)
      reference = harness.train_loop(_reference_pretrainer(config),
                                     _reference_loss, jit)
      batches = harness.stream(train_batches)
      ours_ms, ref_ms = _compare(lambda n: ours(batches, n),
                                 lambda n: reference(batches, n), steps,
                                 _ROUNDS.value)
      rows.append((f"train step, {policy}" + (", XLA" if jit else ""),
                   ours_ms, ref_ms, peak))
  tf_keras.mixed_precision.set_global_policy("float32")

  forward_batches = harness.stream(harness.pretraining_batches(
      _FORWARD_BATCH.value, _SEQ.value, config.max_predictions_per_seq, 2))
  encoder = builders.build_encoder(config.discriminator)
  ref_encoder = _reference_encoder(config.discriminator)
  inputs = lambda b: {k: b[k] for k in
                      ("input_word_ids", "input_mask", "input_type_ids")}

  def forward(network):
    @tf.function
    def call(batch):
      return network(inputs(batch))["sequence_output"]
    return lambda steps: [call(next(forward_batches))
                          for _ in range(steps)][-1]

  forward_ms = _compare(forward(encoder), forward(ref_encoder), steps,
                        _ROUNDS.value)

  print(f"\nELECTRA-Small, seq {_SEQ.value}, median of {_ROUNDS.value} rounds "
        f"of {steps} steps, {os.cpu_count()} CPUs, "
        f"{tf.config.list_physical_devices('GPU') or 'no GPU'}")
  print(f"train step, batch {_BATCH.value}: {flops / 1e9:.1f} GFLOPs "
        "(forward + backward matmuls)")
  print(f"{'measurement':<34} {'electra_tf ms':>13} {'tf-models ms':>12} "
        f"{'speed-up':>8} {'ours ex/s':>9} {'ref ex/s':>8} {'ours MFU':>8} "
        f"{'ref MFU':>7} {'peak TFLOP/s':>12}")
  for name, ours_ms, ref_ms, peak in rows:
    mfu = lambda ms: flops / (ms / 1000) / (peak * 1e12)
    if ref_ms is None:
      print(f"{name:<34} {ours_ms:>13.1f} {'fails':>12} {'':>8} "
            f"{_BATCH.value / ours_ms * 1000:>9.1f} {'':>8} "
            f"{mfu(ours_ms):>8.1%} {'':>7} {peak:>12.2f}")
      continue
    print(f"{name:<34} {ours_ms:>13.1f} {ref_ms:>12.1f} "
          f"{ref_ms / ours_ms:>7.2f}x {_BATCH.value / ours_ms * 1000:>9.1f} "
          f"{_BATCH.value / ref_ms * 1000:>8.1f} {mfu(ours_ms):>8.1%} "
          f"{mfu(ref_ms):>7.1%} {peak:>12.2f}")
  ours_ms, ref_ms = forward_ms
  print(f"{f'encoder forward, batch {_FORWARD_BATCH.value}':<34} "
        f"{ours_ms:>13.1f} {ref_ms:>12.1f} {ref_ms / ours_ms:>7.2f}x")
  print(f"{'ELECTRA-Small step target':<34} {'':>13} {'':>12} {'>= 1.50x':>8}")


if __name__ == "__main__":
  app.run(main)
