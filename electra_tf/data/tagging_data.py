"""CoNLL-style tagging data (chunking, NER): one word per line, tag last.

Columns are whitespace-separated; blank lines end sentences; `-DOCSTART-`
lines are skipped. Tags are "O" or B-/I-/E-/S- plus a type (BIO, IOB1 and
BIOES all read). A word's tag is predicted at its first word piece, as in
the original ELECTRA and BERT; the other pieces carry no label.
"""

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from official.nlp.tools import tokenization

from electra_tf.data import table_files
from electra_tf.data.table_files import DataError

IGNORE = -1  # label id of positions without a tag (pieces, padding)


@dataclasses.dataclass
class Sentence:
  words: List[str]
  tags: Optional[List[str]]
  lines: List[int]  # of each word


def _first_line_of(sentence: Sentence, tags) -> int:
  return next(line for tag, line in zip(sentence.tags, sentence.lines)
              if tag in tags)


def _check_tag(tag, path, line):
  prefix, _, chunk_type = tag.partition("-")
  if tag != "O" and (prefix not in ("B", "I", "E", "S") or not chunk_type):
    raise DataError(path, line, f"tag {tag!r} is neither 'O' nor B-/I-/E-/S- "
                    "followed by a type")


def read_conll(path: str, labelled: bool = True) -> List[Sentence]:
  """The sentences of a CoNLL file; unlabelled files need only the words."""
  sentences, words, tags, lines = [], [], [], []
  for line, text in table_files.decoded_lines(path):
    fields = text.split()
    if fields and fields[0] != "-DOCSTART-":
      if labelled:
        if len(fields) < 2:
          raise DataError(path, line, f"expected a word and a tag, got "
                          f"{text.strip()!r}")
        _check_tag(fields[-1], path, line)
        tags.append(fields[-1])
      words.append(fields[0])
      lines.append(line)
    elif words:
      sentences.append(Sentence(words, tags if labelled else None, lines))
      words, tags, lines = [], [], []
  if words:
    sentences.append(Sentence(words, tags if labelled else None, lines))
  if not sentences:
    raise DataError(path, None, "holds no sentences")
  return sentences


def tag_list(sentences: Sequence[Sentence]) -> Tuple[str, ...]:
  """"O" first, then the other tags sorted."""
  tags = {t for s in sentences for t in s.tags}
  return ("O",) + tuple(sorted(tags - {"O"}))


def check_tags(sentences: Sequence[Sentence], tags: Sequence[str], path: str):
  known = set(tags)
  for sentence in sentences:
    unknown = sorted(set(sentence.tags) - known)
    if unknown:
      raise DataError(path, _first_line_of(sentence, unknown),
                      f"tags {unknown} are not in the "
                      f"training tags {list(tags)}")


def encode(sentences: Sequence[Sentence], tokenizer: tokenization.FullTokenizer,
           max_seq_length: int,
           tags: Sequence[str]) -> Dict[str, np.ndarray]:
  """Inputs, `label_ids` (IGNORE off first pieces) and `word_positions`.

  `word_positions[i, w]` is the token index of word w's first piece, or -1
  where the sentence was cut at `max_seq_length`.
  """
  max_words = max(len(s.words) for s in sentences)
  word_ids = np.zeros((len(sentences), max_seq_length), np.int32)
  input_mask = np.zeros_like(word_ids)
  label_ids = np.full_like(word_ids, IGNORE)
  word_positions = np.full((len(sentences), max_words), -1, np.int32)
  tag_ids = {t: i for i, t in enumerate(tags)}
  for row, sentence in enumerate(sentences):
    tokens = ["[CLS]"]
    for w, word in enumerate(sentence.words):
      pieces = tokenizer.tokenize(word) or ["[UNK]"]
      if len(tokens) + len(pieces) > max_seq_length - 1:
        break
      word_positions[row, w] = len(tokens)
      if sentence.tags is not None:
        label_ids[row, len(tokens)] = tag_ids[sentence.tags[w]]
      tokens += pieces
    tokens.append("[SEP]")
    word_ids[row, :len(tokens)] = tokenizer.convert_tokens_to_ids(tokens)
    input_mask[row, :len(tokens)] = 1
  features = dict(input_word_ids=word_ids, input_mask=input_mask,
                  input_type_ids=np.zeros_like(word_ids),
                  word_positions=word_positions)
  if sentences[0].tags is not None:
    features["label_ids"] = label_ids
  return features


def decode(logits: np.ndarray, features: Dict[str, np.ndarray],
           sentences: Sequence[Sentence],
           tags: Sequence[str]) -> List[List[str]]:
  """Predicted tags per word; words cut off by the length limit get "O"."""
  predicted = np.argmax(logits, -1)
  results = []
  for row, sentence in enumerate(sentences):
    positions = features["word_positions"][row, :len(sentence.words)]
    results.append([tags[predicted[row, p]] if p >= 0 else "O"
                    for p in positions])
  return results
