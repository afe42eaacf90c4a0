"""BERT's basic tokenization (cleaning, casing, splitting) as graph ops.

The rules are those of the original BERT `BasicTokenizer` (Model Garden's
`FullTokenizer` and transformers' `BertTokenizerFast` follow them too):

* NUL, U+FFFD and control, format and private-use characters (Cc, Cf, Co;
  not tab, newline, carriage return) are dropped (the original code keeps
  private-use characters; transformers' `BertTokenizerFast` drops them);
* every space separates words: tab, newline, carriage return, the Zs
  characters (no-break, ideographic, thin ... spaces) and the line and
  paragraph separators (Python's `str.split` splits at those);
* each CJK ideograph is a word of its own;
* uncased: `str.lower`, then NFD, then combining marks (Mn) dropped;
* each punctuation character (ASCII symbols and Unicode P*) is a word.

Each character's outcome depends on that character only, so it is looked up
in a table built from Python's `unicodedata` (the tokenizer's own Unicode
version) and frozen into the graph: no `py_function`, and a SavedModel keeps
the rules it was exported with. The Python code's two context rules: NFD's
canonical reordering is reproduced for the marks that survive (spacing
marks such as U+1B44), per input character, so a precomposed musical note
followed by such a mark of lower class keeps its order; capital sigma
lower-cases to "σ" everywhere, as in transformers (Python's `str.lower`
writes "ς" at a word's end).
"""

import functools
import sys
import unicodedata

import numpy as np
import tensorflow as tf

# Bits of a table entry. The payload is the output's offset from the input
# code point (+ _DELTA_BIAS), or with _ROW a row of `expansions`; _ISOLATE
# puts spaces around a single output. Uncased only: _CONTINUES marks a
# character that continues a combining sequence and, if it survives, its
# canonical combining class (NFD sorts by it) sits from _CLASS_SHIFT on.
_PAYLOAD_BITS = 22
_DELTA_BIAS = 1 << (_PAYLOAD_BITS - 1)
_ROW = 1 << _PAYLOAD_BITS
_ISOLATE = _ROW << 1
_CONTINUES = _ROW << 2
_CLASS_SHIFT = 32
_BLOCK = 256
_SPACE = 32

_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
               (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF),
               (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_punctuation(char):
  code = ord(char)
  return (33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or
          123 <= code <= 126 or unicodedata.category(char).startswith("P"))


_CJK_SPAN = (min(low for low, _ in _CJK_RANGES),
             max(high for _, high in _CJK_RANGES))


def _is_cjk(code: int) -> bool:
  # Most code points lie outside the span: one comparison decides them.
  return (_CJK_SPAN[0] <= code <= _CJK_SPAN[1] and
          any(low <= code <= high for low, high in _CJK_RANGES))


def _characters_out(code: int, lower_case: bool):
  """What BERT makes of the character `code`, spaces marking word breaks."""
  char = chr(code)
  category = unicodedata.category(char)
  if char in "\t\n\r" or category == "Zs" or (
      char.isspace() and category not in ("Cc", "Cf")):
    return [_SPACE]
  if code in (0, 0xFFFD) or category in ("Cc", "Cf", "Co"):
    return []
  if lower_case and category != "Cn":
    char = "".join(c for c in unicodedata.normalize("NFD", char.lower())
                   if unicodedata.category(c) != "Mn")
  out = []
  for c in char:
    out += [_SPACE, ord(c), _SPACE] if _is_punctuation(c) else [ord(c)]
  if _is_cjk(code):
    out = [_SPACE] + out + [_SPACE]
  return out


def _combining_class(code: int) -> int:
  """NFD's sort key within a combining sequence; 0 where one starts."""
  return unicodedata.combining(unicodedata.normalize("NFD", chr(code))[0])


class CharacterTable:
  """Every code point's outcome, as numpy arrays for graph constants.

  `blocks[index[code // 256] * 256 + code % 256]` is the entry of `code`;
  `expansions` holds the outcomes that are not a single code point, padded
  with -1.
  """

  def __init__(self, lower_case: bool):
    rows, row_of = [[]], {(): 0}
    entries = np.full(sys.maxunicode + 1, _DELTA_BIAS, np.int64)
    for code in range(sys.maxunicode + 1):
      # Surrogates never decode from UTF-8; unassigned code points (three in
      # four) come out as they are, the default entry, unless in a CJK block.
      # Skipping them builds the table 3x faster.
      if (unicodedata.category(chr(code)) in ("Cs", "Cn") and
          not _is_cjk(code)):
        continue
      out = tuple(_characters_out(code, lower_case))
      if len(out) == 1:
        entry = out[0] - code + _DELTA_BIAS
      elif len(out) == 3 and out[0] == out[2] == _SPACE != out[1]:
        entry = _ISOLATE | (out[1] - code + _DELTA_BIAS)
      else:
        if out not in row_of:
          row_of[out] = len(rows)
          rows.append(list(out))
        entry = _ROW | row_of[out]
      combining_class = lower_case and _combining_class(code)
      if combining_class:
        entry |= _CONTINUES
        if out:  # a spacing mark (25 in Unicode 14, e.g. U+1B44)
          entry |= combining_class << _CLASS_SHIFT
      entries[code] = entry
    width = max(len(row) for row in rows + [[_SPACE] * 3])
    self.expansions = np.array([row + [-1] * (width - len(row))
                                for row in rows], np.int32)
    blocks, self.index = np.unique(entries.reshape(-1, _BLOCK), axis=0,
                                   return_inverse=True)
    self.blocks = blocks.reshape(-1)
    self.index = self.index.reshape(-1).astype(np.int32)


@functools.lru_cache(maxsize=2)
def character_table(lower_case: bool) -> CharacterTable:
  """The table for cased or uncased vocabularies (built once per process)."""
  return CharacterTable(lower_case)


class BasicTokenizer(tf.Module):
  """Splits a batch of strings into BERT's words, by `CharacterTable`."""

  def __init__(self, lower_case: bool, name=None):
    super().__init__(name=name)
    table = character_table(lower_case)
    constant = lambda values, name: tf.Variable(  # noqa: E731
        values, trainable=False, name=name)
    # Variables, so that a SavedModel stores them once for all signatures.
    self.block_index = constant(table.index, "block_index")
    self.blocks = constant(table.blocks, "blocks")
    self.expansions = constant(table.expansions, "expansions")
    self.lower_case = lower_case

  def __call__(self, texts):
    """BERT's words of `texts` [batch], as strings [batch, (words)]."""
    codes = tf.strings.unicode_decode(texts, "UTF-8", errors="replace")
    outcomes, _ = self._outcomes(codes.flat_values, codes.row_splits)
    width = outcomes.shape[1]
    normalized = tf.strings.unicode_encode(
        tf.RaggedTensor.from_row_splits(tf.reshape(outcomes, [-1]),
                                        codes.row_splits * width,
                                        validate=False),
        "UTF-8", errors="ignore")  # ignores the -1 padding
    return tf.strings.split(normalized)

  def with_offsets(self, texts):
    """The words as code points [batch, (words), (characters)], and offsets.

    Also returns each character's byte offsets [begin, end) in its text,
    same shape: those of the character it came from (lower-casing and NFD
    may make several of one).
    """
    codes, begins = tf.strings.unicode_decode_with_offsets(
        texts, "UTF-8", errors="replace")
    row_splits = codes.row_splits
    codes, begins = codes.flat_values, begins.flat_values
    outcomes, order = self._outcomes(codes, row_splits)
    text_of = tf.RaggedTensor.from_row_splits(
        codes, row_splits, validate=False).value_rowids()
    if order is not None:
      codes, begins = tf.gather(codes, order), tf.gather(begins, order)
    ends = begins + tf.cast(utf8_length(codes), tf.int64)
    keep = outcomes >= 0
    source = tf.where(keep)[:, 0]
    out = tf.gather_nd(outcomes, tf.where(keep))
    text_of = tf.gather(text_of, source)

    space = tf.equal(out, _SPACE)
    word_start = ~space & tf.concat(
        [[True], space[:-1] | (text_of[1:] != text_of[:-1])], 0)
    word_of = tf.cumsum(tf.cast(word_start, tf.int64)) - 1
    num_words = tf.reduce_sum(tf.cast(word_start, tf.int64))
    words_per_text = tf.math.unsorted_segment_sum(
        tf.cast(word_start, tf.int64), text_of, tf.shape(texts, tf.int64)[0])
    in_word = ~space
    word_of = tf.boolean_mask(word_of, in_word)
    source = tf.boolean_mask(source, in_word)

    def nest(values):
      return tf.RaggedTensor.from_row_lengths(
          tf.RaggedTensor.from_value_rowids(values, word_of, nrows=num_words),
          words_per_text)

    return (nest(tf.boolean_mask(out, in_word)),
            nest(tf.gather(begins, source)), nest(tf.gather(ends, source)))

  def _outcomes(self, codes, row_splits):
    """Each character's outcome [characters, width] (-1 pads), in NFD's order.

    Also returns the order (None if unchanged): NFD sorts the surviving
    marks of a combining sequence by class.
    """
    entries = tf.gather(self.blocks, tf.gather(self.block_index,
                                               codes // _BLOCK) * _BLOCK +
                        tf.cast(codes % _BLOCK, tf.int32))
    order = None
    if self.lower_case:
      order = tf.cond(
          tf.reduce_any(entries >= 1 << _CLASS_SHIFT),
          lambda: _canonical_order(entries, row_splits),
          lambda: tf.range(tf.size(entries)))
      codes, entries = tf.gather(codes, order), tf.gather(entries, order)
    payload = entries & (_ROW - 1)
    is_row = entries & _ROW != 0
    single = tf.cast(codes, tf.int64) + payload - _DELTA_BIAS
    space = tf.fill(tf.shape(single), tf.constant(_SPACE, tf.int64))
    none = -tf.ones_like(single)
    width = self.expansions.shape[1]
    isolated = tf.where((entries & _ISOLATE != 0)[:, None],
                        tf.stack([space, single, space] + [none] * (width - 3),
                                 1),
                        tf.stack([single] + [none] * (width - 1), 1))
    rows = tf.gather(self.expansions, tf.where(is_row, payload, 0))
    return tf.where(is_row[:, None], rows, tf.cast(isolated, tf.int32)), order


def _canonical_order(entries, row_splits):
  """The permutation NFD applies: marks sorted by class within a sequence."""
  text_start = tf.scatter_nd(row_splits[:-1, None],
                             tf.ones_like(row_splits[:-1], tf.int32),
                             tf.shape(entries, tf.int64)) > 0
  starts = text_start | (entries & _CONTINUES == 0)
  sequence = tf.cumsum(tf.cast(starts, tf.int64))
  classes = tf.bitwise.right_shift(entries, _CLASS_SHIFT)
  return tf.argsort(sequence * 256 + classes, stable=True)


def utf8_length(codes):
  return (1 + tf.cast(codes >= 0x80, tf.int32) + tf.cast(codes >= 0x800,
                                                           tf.int32) +
          tf.cast(codes >= 0x10000, tf.int32))
