"""Tokenization throughput: electra_tf's preprocessing vs the alternatives.

Lines of shipped text per second, on the same batches in one process, in
alternating rounds (the median is reported) so that drift stays out of the
ratios:

* electra_tf: the `BertTokenizer` layer the preprocessing SavedModel runs
  (BERT's rules as graph ops, then tensorflow_text's FastWordpieceTokenizer),
  in a `tf.function`;
* Model Garden's stock `BertTokenizer` layer (tensorflow_text's
  BertTokenizer, whose rules differ from BERT's; this package used it with
  its own lower-casing before);
* transformers' `BertTokenizerFast` (Rust), called on the same batches.

  python benchmarks/tokenization.py [--batch_size=256] [--lines=20000]
"""

import statistics
import time

from absl import app
from absl import flags
import tensorflow as tf
import transformers
from official.nlp.modeling import layers as nlp_layers

from electra_tf import layers as electra_layers

_BATCH = flags.DEFINE_integer("batch_size", 256, "Lines per batch.",
                              lower_bound=1)
_LINES = flags.DEFINE_integer("lines", 20000, "Lines of text per round.",
                              lower_bound=1)
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Rounds; the median is reported.",
                               lower_bound=1)

_REPO = __file__.rsplit("/benchmarks/", 1)[0]
_VOCAB = f"{_REPO}/data/vocab_uncased.txt"


def _lines(count):
  with open(f"{_REPO}/data/sotu_1940_2021.txt", encoding="utf-8") as f:
    lines = [line.strip() for line in f if line.strip()]
  return (lines * (count // len(lines) + 1))[:count]


def _graph_tokenizer(layer):
  tokenize = tf.function(lambda texts: layer(texts).flat_values)

  def run(batches):
    for batch in batches:
      tokenize(batch).numpy()
  return run


def main(_):
  lines = _lines(_LINES.value)
  size = _BATCH.value
  texts = [lines[i:i + size] for i in range(0, len(lines), size)]
  tensors = [tf.constant(batch) for batch in texts]
  fast = transformers.BertTokenizerFast(_VOCAB, do_lower_case=True)
  contenders = {
      "electra_tf": (_graph_tokenizer(electra_layers.BertTokenizer(
          vocab_file=_VOCAB, lower_case=True)), tensors),
      "Model Garden BertTokenizer": (_graph_tokenizer(
          nlp_layers.BertTokenizer(vocab_file=_VOCAB, lower_case=True)),
                                     tensors),
      "transformers BertTokenizerFast": (
          lambda batches: [fast(b)["input_ids"] for b in batches], texts),
  }
  for run, batches in contenders.values():  # warm-up: tracing, tables
    run(batches[:2])
  rates = {name: [] for name in contenders}
  for _ in range(_ROUNDS.value):
    for name, (run, batches) in contenders.items():
      start = time.perf_counter()
      run(batches)
      rates[name].append(len(lines) / (time.perf_counter() - start))
  ours = statistics.median(rates["electra_tf"])
  print(f"batch {size}, {len(lines)} lines of State of the Union text, "
        f"median of {_ROUNDS.value} rounds")
  print("| tokenizer | lines/s | electra_tf / this |")
  print("| --- | --- | --- |")
  for name, values in rates.items():
    rate = statistics.median(values)
    print(f"| {name} | {rate:,.0f} | {ours / rate:.2f}x |")


if __name__ == "__main__":
  app.run(main)
