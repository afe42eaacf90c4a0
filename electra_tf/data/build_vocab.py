"""Learns a WordPiece vocabulary (vocab.txt) from text files.

  python -m electra_tf.data.build_vocab --input_files='corpus/*.txt' \
    --vocab_size=8000 --output_file=/tmp/vocab.txt

Words are split as every binary here splits them, then tensorflow_text's
WordPiece learner picks the pieces (`electra_tf.data.wordpiece_vocab`).
Pretrain with the printed `--vocab_file` and `model.discriminator.vocab_size`.
"""

# First, before TensorFlow loads: its start-up lines are hidden.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

import os

from absl import flags

from electra_tf import cli
from electra_tf import paths
from electra_tf.data import wordpiece_vocab
from electra_tf.layers.bert_tokenizer import SPECIAL_TOKENS

_INPUT_FILES = flags.DEFINE_list(
    "input_files", None, "Text files or glob patterns, comma-separated.")
_OUTPUT_FILE = flags.DEFINE_string("output_file", None,
                                   "Where to write the vocabulary.")
_VOCAB_SIZE = flags.DEFINE_integer(
    "vocab_size", 8000, "Tokens wanted, special tokens included; the learner "
    "lands within a few percent.", lower_bound=len(SPECIAL_TOKENS) + 1)
_DO_LOWER_CASE = flags.DEFINE_bool("do_lower_case", True,
                                   "Lower-case (and strip accents) first.")
_MIN_COUNT = flags.DEFINE_integer(
    "min_count", 2, "Words seen fewer times are left out of the counts.",
    lower_bound=1)
_OVERWRITE = flags.DEFINE_bool("overwrite", False,
                               "Replace an existing --output_file.")
flags.mark_flags_as_required(["input_files", "output_file"])


def main(argv):
  del argv
  paths.check_writable(os.path.dirname(os.path.abspath(_OUTPUT_FILE.value)))
  if os.path.exists(_OUTPUT_FILE.value) and not _OVERWRITE.value:
    raise FileExistsError(f"{_OUTPUT_FILE.value} exists; pass --overwrite to "
                          "replace it")
  lines = wordpiece_vocab.read_lines(_INPUT_FILES.value)
  counts = wordpiece_vocab.count_words(lines, _DO_LOWER_CASE.value)
  print(f"{len(lines):,} lines, {sum(counts.values()):,} words, "
        f"{len(counts):,} distinct", flush=True)
  vocab = wordpiece_vocab.learn_vocab(counts, _VOCAB_SIZE.value,
                                      _MIN_COUNT.value)
  wordpiece_vocab.write_vocab(vocab, _OUTPUT_FILE.value)
  print(f"wrote {len(vocab):,} tokens to {_OUTPUT_FILE.value}; pretrain with "
        f"--vocab_file={_OUTPUT_FILE.value} --params_override="
        f"model.discriminator.vocab_size={len(vocab)}", flush=True)


if __name__ == "__main__":
  cli.run(main)
