"""Learning a WordPiece vocabulary from text, as the tokenizer splits it.

Words are split exactly as every binary here splits them (BERT's rules,
`electra_tf.ops.bert_text`) and counted; tensorflow_text's WordPiece learner
then picks the pieces. BERT's five special tokens come first ([PAD] = 0).
The command is `electra_tf.data.build_vocab`.
"""

import collections
import os
import tempfile
from typing import Dict, Iterable, List

import tensorflow as tf
from tensorflow_text.tools.wordpiece_vocab import (
    wordpiece_tokenizer_learner_lib as learner)

from electra_tf import paths
from electra_tf.layers.bert_tokenizer import MAX_CHARS_PER_WORD
from electra_tf.layers.bert_tokenizer import SPECIAL_TOKENS
from electra_tf.ops import bert_text

_LINES_PER_BATCH = 4096


def count_words(lines: Iterable[str], lower_case: bool = True
                ) -> Dict[str, int]:
  """BERT's words of `lines` (basic tokenization) and their counts."""
  tokenizer = bert_text.BasicTokenizer(lower_case)
  split = tf.function(tokenizer.__call__)
  counts = collections.Counter()
  lines = list(lines)
  for start in range(0, len(lines), _LINES_PER_BATCH):
    words = split(tf.constant(lines[start:start + _LINES_PER_BATCH]))
    counts.update(word.decode("utf-8")
                  for word in words.flat_values.numpy())
  return dict(counts)


def learn_vocab(word_counts: Dict[str, int], vocab_size: int,
                min_count: int = 2) -> List[str]:
  """A WordPiece vocabulary of about `vocab_size` tokens for `word_counts`.

  BERT's special tokens come first; every character of a counted word is a
  token (alone and as a "##" continuation), so no counted word becomes
  [UNK].
  """
  words = [(word, count) for word, count in word_counts.items()
           if count >= min_count and len(word) <= MAX_CHARS_PER_WORD]
  if not words:
    raise ValueError(f"no word occurs {min_count} or more times")
  return learner.learn(
      words, vocab_size=vocab_size, reserved_tokens=list(SPECIAL_TOKENS),
      lower_thresh=min_count, max_token_length=MAX_CHARS_PER_WORD,
      max_unique_chars=100_000)


def read_lines(patterns: List[str]) -> List[str]:
  """The non-empty lines of every file matching one of `patterns`."""
  files = []
  for pattern in patterns:
    matched = paths.matching_files(pattern)
    if not matched:
      raise FileNotFoundError(f"no file matches {pattern!r}")
    files += matched
  lines = []
  for name in files:
    with open(name, "rb") as f:
      raw = f.read()
    try:
      text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
      raise ValueError(f"{name} is not valid UTF-8 (byte {e.start}: "
                       f"{raw[e.start:e.start + 4]!r})") from None
    lines += [line for line in text.splitlines() if line.strip()]
  if not lines:
    raise ValueError(f"{', '.join(patterns)} hold no text")
  return lines


def write_vocab(vocab: List[str], output_file: str):
  """Writes one token per line, all at once (a temporary file renamed)."""
  directory = os.path.dirname(os.path.abspath(output_file))
  os.makedirs(directory, exist_ok=True)
  with tempfile.NamedTemporaryFile(
      "w", encoding="utf-8", dir=directory, prefix=".vocab-",
      delete=False) as f:
    f.write("".join(token + "\n" for token in vocab))
  os.chmod(f.name, 0o644)
  os.replace(f.name, output_file)
