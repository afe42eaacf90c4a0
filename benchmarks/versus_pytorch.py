"""electra_tf against Hugging Face transformers on PyTorch, on the same CPU.

Each case runs both sides on identical batches of shipped text, in one
process, in alternating rounds (the median is reported):

- pretraining: the ELECTRA-Small step (discriminator 256 x 12, generator
  64 x 12, embeddings 128, batch 16, sequence 128, 19 predictions; MLM + 50 x
  RTD loss, sampled replacements, AdamW, clipping). Ours is run_pretraining's
  compiled loop; theirs ElectraForMaskedLM + ElectraForPreTraining sharing
  embeddings, the generator head applied only at the masked positions.
- forward: the ELECTRA-Small encoder's forward pass, batch 32, no dropout.
- finetune_base / finetune_minilm: one training step of a sequence classifier
  of BERT-base shape (12 x 768, batch 8, sequence 128) and of MiniLM shape
  (6 x 384, batch 32, sequence 64): ours as run_finetuning trains (the step
  Keras `fit` runs, AdamW with layer-wise decay), theirs
  BertForSequenceClassification + AdamW.

`--threads` sets both libraries' thread counts alike; `--busy_processes` runs
that many one-core busy loops alongside both, as a shared machine would.

  python benchmarks/versus_pytorch.py [--threads=2] [--busy_processes=1]
"""

# Before TensorFlow: it sets TensorFlow's CPU kernels (see its __init__).
import electra_tf  # pylint: disable=unused-import,g-bad-import-order

import itertools
import os

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf
import tf_keras
import torch
import torch.nn.functional as F
import transformers

import harness
from electra_tf import builders
from electra_tf import configs
from electra_tf import models
from electra_tf import optimization
from electra_tf import trainer

CASES = ("pretraining", "forward", "finetune_base", "finetune_minilm")
_CASES = flags.DEFINE_multi_enum("case", list(CASES), CASES, "Cases to run.")
_STEPS = flags.DEFINE_integer("steps", 4, "Timed steps per round.",
                              lower_bound=1)
_ROUNDS = flags.DEFINE_integer("rounds", 4, "Rounds; the median is reported.",
                               lower_bound=1)
_SCALE = flags.DEFINE_float(
    "scale", 1.0, "Multiplies batch sizes and sequence lengths (their tests "
    "run at a small fraction).", lower_bound=0.01, upper_bound=1.0)
_THREADS = flags.DEFINE_integer(
    "threads", 0, "Threads per op for both sides (TensorFlow's intra-op and "
    "torch.set_num_threads); 0: each library's default.", lower_bound=0)
_BUSY = flags.DEFINE_integer(
    "busy_processes", 0, "One-core busy loops running alongside.",
    lower_bound=0)

# (layers, hidden, heads, batch, sequence) of the fine-tuning shapes.
_FINETUNE_SHAPES = dict(finetune_base=(12, 768, 12, 8, 128),
                        finetune_minilm=(6, 384, 12, 32, 64))


def _scaled(size, minimum=2):
  return max(minimum, round(size * _SCALE.value))


def _torch_batch(batch):
  return {k: torch.from_numpy(np.asarray(v)).long() for k, v in batch.items()}


def _hf_electra_config(config):
  return transformers.ElectraConfig(
      vocab_size=config.vocab_size, embedding_size=config.embedding_size,
      hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
      num_attention_heads=config.num_attention_heads,
      intermediate_size=config.intermediate_size,
      max_position_embeddings=config.max_position_embeddings,
      hidden_act="gelu")


def _torch_pretraining(config, batches):
  """`fn(steps)`: transformers' ELECTRA trained as the paper's step."""
  discriminator = transformers.ElectraForPreTraining(
      _hf_electra_config(config.discriminator)).train()
  generator = transformers.ElectraForMaskedLM(
      _hf_electra_config(config.generator())).train()
  generator.electra.embeddings = discriminator.electra.embeddings  # shared
  parameters = list({id(p): p for p in itertools.chain(
      discriminator.parameters(), generator.parameters())}.values())
  optimizer = torch.optim.AdamW(parameters, lr=5e-4, weight_decay=0.01)
  batches = itertools.cycle([_torch_batch(b) for b in batches])

  def step(batch):
    inputs = dict(attention_mask=batch["input_mask"],
                  token_type_ids=batch["input_type_ids"])
    positions, weights = batch["masked_lm_positions"], batch[
        "masked_lm_weights"].float()
    masked = batch["input_word_ids"]
    hidden = generator.electra(input_ids=masked, **inputs).last_hidden_state
    picked = hidden.gather(1, positions[..., None].expand(
        -1, -1, hidden.size(-1)))
    logits = generator.generator_lm_head(
        generator.generator_predictions(picked))
    nll = F.cross_entropy(logits.flatten(0, 1), batch["masked_lm_ids"].flatten(),
                          reduction="none")
    mlm_loss = (nll * weights.flatten()).sum() / (weights.sum() + 1e-5)
    with torch.no_grad():
      sampled = torch.multinomial(F.softmax(logits.flatten(0, 1), -1), 1)
      at_positions = masked.gather(1, positions)
      real = weights > 0
      original = masked.scatter(1, positions, torch.where(
          real, batch["masked_lm_ids"], at_positions))
      fake = original.scatter(1, positions, torch.where(
          real, sampled.view_as(positions), at_positions))
      replaced = (fake != original).float()
    rtd_logits = discriminator(input_ids=fake, **inputs).logits
    mask = batch["input_mask"].float()
    rtd_loss = (F.binary_cross_entropy_with_logits(
        rtd_logits, replaced, reduction="none") * mask).sum() / mask.sum()
    loss = mlm_loss + 50 * rtd_loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    optimizer.step()
    return loss.detach()

  return lambda steps: [step(next(batches)) for _ in range(steps)][-1]


def _ours_pretraining(config, batches):
  loop = harness.train_loop(builders.build_pretrainer(config, seed=0),
                            trainer.pretraining_loss(config))
  iterator = harness.stream(batches)
  return lambda steps: loop(iterator, steps)


def _forward_contenders(config, batches):
  encoder = builders.build_encoder(config.discriminator)
  keys = ("input_word_ids", "input_mask", "input_type_ids")
  ours_call = tf.function(lambda b: encoder(b)["sequence_output"])
  ours_batches = itertools.cycle([{k: b[k] for k in keys} for b in batches])
  theirs_model = transformers.ElectraModel(
      _hf_electra_config(config.discriminator)).eval()
  theirs_batches = itertools.cycle([_torch_batch({k: b[k] for k in keys})
                                    for b in batches])

  def theirs_call(batch):
    with torch.inference_mode():
      return theirs_model(
          input_ids=batch["input_word_ids"], attention_mask=batch["input_mask"],
          token_type_ids=batch["input_type_ids"]).last_hidden_state

  return (lambda steps: [ours_call(next(ours_batches))
                         for _ in range(steps)][-1],
          lambda steps: [theirs_call(next(theirs_batches))
                         for _ in range(steps)][-1])


def _classification_batches(batch_size, seq_length, count=2):
  text = harness.pretraining_batches(batch_size, seq_length, 1, count)
  rng = np.random.default_rng(0)
  return [(dict(input_word_ids=b["input_word_ids"], input_mask=b["input_mask"],
                input_type_ids=b["input_type_ids"]),
           rng.integers(0, 2, batch_size)) for b in text]


def _finetune_contenders(layers, hidden, heads, batch_size, seq_length):
  encoder_config = configs.EncoderConfig(
      embedding_size=hidden, hidden_size=hidden, num_layers=layers,
      num_attention_heads=heads, intermediate_size=4 * hidden,
      max_position_embeddings=max(512, seq_length))
  batches = _classification_batches(batch_size, seq_length)
  finetune = configs.FinetuneConfig()
  encoder = builders.build_encoder(encoder_config, name="discriminator")
  encoder.pooler.trainable = False  # as run_finetuning: heads read [CLS]
  model = models.ElectraClassifier(encoder, 2)
  optimizer = optimization.make_optimizer(
      finetune.learning_rate, 1000, 100, weight_decay=finetune.weight_decay,
      clip_norm=finetune.clip_norm,
      lr_multipliers=optimization.layerwise_lr_multipliers(
          optimization.count_layers(model.trainable_variables),
          finetune.layerwise_lr_decay))
  model.compile(optimizer=optimizer, loss=tf_keras.losses.
                SparseCategoricalCrossentropy(from_logits=True))
  features = {k: tf.stack([f[k] for f, _ in batches]) for k in batches[0][0]}
  labels = tf.stack([labels for _, labels in batches])
  ours_batches = iter(
      tf.data.Dataset.from_tensor_slices((features, labels)).repeat())
  # The step `fit` runs, called directly: each `fit` call sets up its data
  # and callbacks (and stalls for up to 1.5 s on this VM) once per epoch.
  train_step = model.make_train_function()

  def ours(steps):
    for _ in range(steps):
      logs = train_step(ours_batches)
    return logs["loss"]

  theirs_model = transformers.BertForSequenceClassification(
      transformers.BertConfig(
          hidden_size=hidden, num_hidden_layers=layers,
          num_attention_heads=heads, intermediate_size=4 * hidden,
          max_position_embeddings=max(512, seq_length), num_labels=2)).train()
  theirs_optimizer = torch.optim.AdamW(theirs_model.parameters(),
                                       lr=finetune.learning_rate,
                                       weight_decay=finetune.weight_decay)
  theirs_batches = itertools.cycle(
      [(_torch_batch(features), torch.from_numpy(labels).long())
       for features, labels in batches])

  def theirs_step():
    features, labels = next(theirs_batches)
    loss = theirs_model(
        input_ids=features["input_word_ids"],
        attention_mask=features["input_mask"],
        token_type_ids=features["input_type_ids"], labels=labels).loss
    theirs_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(theirs_model.parameters(), finetune.clip_norm)
    theirs_optimizer.step()
    return loss.detach()

  return ours, lambda steps: [theirs_step() for _ in range(steps)][-1]


def _contenders(case, config):
  """(ours, theirs, what one step is) for `case`."""
  seq_length = _scaled(128, 8)
  if case == "pretraining":
    batch_size = _scaled(16)
    batches = harness.pretraining_batches(
        batch_size, seq_length, config.max_predictions_per_seq, 2)
    return (_ours_pretraining(config, batches),
            _torch_pretraining(config, batches),
            f"ELECTRA-Small train step, batch {batch_size} x {seq_length}")
  if case == "forward":
    batch_size = _scaled(32)
    batches = harness.pretraining_batches(batch_size, seq_length, 1, 2)
    return (*_forward_contenders(config, batches),
            f"ELECTRA-Small forward, batch {batch_size} x {seq_length}")
  layers, hidden, heads, batch_size, seq_length = _FINETUNE_SHAPES[case]
  batch_size, seq_length = _scaled(batch_size), _scaled(seq_length, 8)
  name = "BERT-base" if case == "finetune_base" else "MiniLM"
  return (*_finetune_contenders(layers, hidden, heads, batch_size,
                                seq_length),
          f"{name} ({layers} x {hidden}) fine-tune step, batch "
          f"{batch_size} x {seq_length}")


def main(argv):
  del argv
  if _THREADS.value:
    tf.config.threading.set_intra_op_parallelism_threads(_THREADS.value)
    torch.set_num_threads(_THREADS.value)
  torch.manual_seed(0)
  tf_keras.utils.set_random_seed(0)
  config = configs.load_experiment("small").model
  rows = []
  with harness.busy_processes(_BUSY.value):
    for case in _CASES.value:
      ours, theirs, what = _contenders(case, config)
      ours_ms, theirs_ms = harness.interleaved_medians(
          [ours, theirs], _STEPS.value, _ROUNDS.value)
      rows.append((what, ours_ms, theirs_ms))
  intra_op = tf.config.threading.get_intra_op_parallelism_threads()
  print(f"\nelectra_tf (TensorFlow {tf.__version__}) vs transformers "
        f"{transformers.__version__} + torch {torch.__version__}; "
        f"{os.cpu_count()} CPUs, TensorFlow intra-op threads "
        f"{intra_op or 'auto'}, torch threads {torch.get_num_threads()}, "
        f"{_BUSY.value} busy processes; median of {_ROUNDS.value} rounds of "
        f"{_STEPS.value} steps")
  print(f"{'measurement':<52} {'electra_tf ms':>13} {'PyTorch ms':>10} "
        f"{'speed-up':>8}")
  for what, ours_ms, theirs_ms in rows:
    print(f"{what:<52} {ours_ms:>13.1f} {theirs_ms:>10.1f} "
          f"{theirs_ms / ours_ms:>7.2f}x")


if __name__ == "__main__":
  app.run(main)
