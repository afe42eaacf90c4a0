"""WordPiece tokenization that splits words exactly as BERT does."""

from typing import List

import tensorflow as tf
import tf_keras
import tensorflow_text as tf_text
from official.nlp.modeling import layers as nlp_layers

from electra_tf.ops import bert_text

# Longer words become one [UNK], counted in characters as transformers does
# (the original Python code allows 200, Model Garden's 400).
MAX_CHARS_PER_WORD = 100
_MAX_BYTES_PER_WORD = 4 * MAX_CHARS_PER_WORD
# Tokens that BERT's inputs, padding and masking need.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def read_vocab(vocab_file: str) -> List[str]:
  """The tokens of a WordPiece vocabulary file, one per line, as the lookup
  table reads them. A missing file, one that is not UTF-8 text, or one that
  lacks a special token is refused by name."""
  try:
    with tf.io.gfile.GFile(vocab_file, "rb") as f:
      raw = f.read()
  except tf.errors.NotFoundError:
    raise FileNotFoundError(f"vocabulary not found: {vocab_file}") from None
  try:
    text = raw.decode("utf-8")
  except UnicodeDecodeError as e:
    raise ValueError(f"vocabulary {vocab_file} is not UTF-8 text (byte "
                     f"{e.start}: {raw[e.start:e.start + 4]!r})") from None
  vocab = [line.rstrip("\r") for line in text.split("\n")]
  if vocab and not vocab[-1]:
    vocab.pop()  # the final newline ends the last line
  missing = [token for token in SPECIAL_TOKENS if token not in vocab]
  if missing:
    raise ValueError(f"vocabulary {vocab_file} lacks the special token(s) "
                     f"{', '.join(missing)}; BERT's vocab.txt has each on a "
                     "line of its own")
  return vocab


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class BertTokenizer(nlp_layers.BertTokenizer):
  """Model Garden's BertTokenizer layer with BERT's own word splitting.

  Same inputs and outputs: strings [batch] to word-piece ids
  [batch, (words), (pieces)], with `tokenize_with_offsets` also each piece's
  byte offsets [begin, end) in the input string. Words are those of the
  original BERT tokenizer for any text (`electra_tf.ops.bert_text`), where
  tensorflow_text's own splitting differs on spaces, control and format
  characters and case folding.
  """

  def __init__(self, *, vocab_file: str, lower_case: bool,
               tokenize_with_offsets: bool = False, **kwargs):
    super().__init__(vocab_file=vocab_file, lower_case=lower_case,
                     tokenize_with_offsets=tokenize_with_offsets, **kwargs)
    self._vocab_file = vocab_file
    self._lower_case = lower_case
    vocab = read_vocab(vocab_file)
    self.unknown_id = vocab.index("[UNK]")
    self.basic_tokenizer = bert_text.BasicTokenizer(lower_case)
    self._wordpiece = tf_text.FastWordpieceTokenizer(
        vocab, max_bytes_per_word=_MAX_BYTES_PER_WORD, token_out_type=tf.int64,
        unknown_token="[UNK]", no_pretokenization=True)

  def _create_vocab_table_and_initializer(self, vocab_file):
    # Anonymous, so that the SavedModel does not record the file's path in a
    # shared table name (the vocabulary travels as an asset).
    initializer = tf.lookup.TextFileInitializer(
        vocab_file, key_dtype=tf.string,
        key_index=tf.lookup.TextFileIndex.WHOLE_LINE, value_dtype=tf.int64,
        value_index=tf.lookup.TextFileIndex.LINE_NUMBER)
    table = tf.lookup.StaticHashTable(initializer, default_value=-1,
                                      experimental_is_anonymous=True)
    return table, initializer

  def call(self, inputs):
    if not self.tokenize_with_offsets:
      words = self.basic_tokenizer(inputs)
      too_long = tf.strings.length(words.flat_values,
                                   "UTF8_CHAR") > MAX_CHARS_PER_WORD
      pieces = _unknown_where(too_long,
                              self._wordpiece.tokenize(words.flat_values),
                              self.unknown_id)
      return words.with_flat_values(tf.cast(pieces, tf.int32))
    characters, begins, ends = self.basic_tokenizer.with_offsets(inputs)
    words = characters.values  # [words, (characters)]
    texts = tf.strings.unicode_encode(tf.cast(words, tf.int32), "UTF-8")
    too_long = words.row_lengths() > MAX_CHARS_PER_WORD
    pieces, piece_begins, _ = self._wordpiece.tokenize_with_offsets(texts)
    pieces = _unknown_where(too_long, pieces, self.unknown_id)
    piece_begins = _unknown_where(too_long, piece_begins, 0)
    offsets = _offsets_in_input(words, begins.flat_values, ends.flat_values,
                                piece_begins)
    return tuple(characters.with_values(pieces.with_flat_values(t))
                 for t in (tf.cast(pieces.flat_values, tf.int32), *offsets))

  def get_config(self):
    # Model Garden's layer has none (it raises); the arguments are all of it.
    return dict(tf_keras.layers.Layer.get_config(self),
                vocab_file=self._vocab_file, lower_case=self._lower_case,
                tokenize_with_offsets=self.tokenize_with_offsets)


def _unknown_where(condition, pieces, value):
  """`pieces` [words, (pieces)] with the rows where `condition` is `[value]`.

  `value` may be one per word.
  """

  def replace():
    per_piece = tf.repeat(~condition, pieces.row_lengths())
    kept = tf.ragged.boolean_mask(pieces, pieces.with_values(per_piece))
    values = tf.broadcast_to(tf.cast(value, pieces.dtype), tf.shape(condition))
    replaced = tf.RaggedTensor.from_row_lengths(
        tf.boolean_mask(values, condition), tf.cast(condition, tf.int64))
    return tf.concat([kept, replaced], axis=1)

  # Rare: the common case skips the reshuffle.
  return tf.cond(tf.reduce_any(condition), replace, lambda: pieces)


def _offsets_in_input(words, begins, ends, piece_begins):
  """Pieces' byte offsets [begin, end) in the input string.

  `words`: code points [words, (characters)]; `begins`, `ends`: each
  character's offsets in the input, flat; `piece_begins`: each piece's
  offset in its word's UTF-8 text [words, (pieces)]. A piece spans the
  characters it came from (NFD may have moved some).
  """
  lengths = tf.cast(bert_text.utf8_length(words.flat_values), tf.int64)
  # Characters' and pieces' starts in the words' texts laid end to end.
  starts = tf.cumsum(lengths, exclusive=True)
  word_start = tf.gather(tf.concat([starts, [0]], 0), words.row_starts())
  piece_starts = (tf.gather(word_start, piece_begins.value_rowids()) +
                  piece_begins.flat_values)
  piece_of = tf.searchsorted(piece_starts, starts, side="right") - 1
  count = tf.size(piece_starts)
  return (tf.math.unsorted_segment_min(begins, piece_of, count),
          tf.math.unsorted_segment_max(ends, piece_of, count))
