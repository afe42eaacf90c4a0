"""Serving SavedModels of fine-tuned models: raw text in, named answers out.

`export_serving` writes one SavedModel whose `serving_default` tokenizes
inside (the package's BERT tokenizer over the model's vocabulary, which
travels with it as an asset, as do the label names) and packs the inputs as
fine-tuning did. Inputs and outputs, all batched:

| task | inputs (string) | outputs |
| --- | --- | --- |
| classification | `text`, or `text_a` and `text_b` | `label_ids`, `labels`, `probabilities` [batch, labels] |
| regression | as classification | `scores` |
| tagging | `text` (words are split at Unicode whitespace) | `words`, `tags` [batch, words] ("" past a sentence's end; "O" past the length limit), `num_words` |
| multiple choice | `context` [batch], `choices` [batch, choices] (each with any start of the ending before it) | `label_ids` (the chosen index), `probabilities` |
| SQuAD | `question`, `context` | `answer`, `score` (start + end logit), and for 2.0 `null_score` |

SQuAD reads the context in fine-tuning's windows (`doc_stride`) and answers
with the best-scoring valid span of any window (starting in its max-context
window, at most `max_answer_length` pieces), as the original words it covers
joined by spaces, cut to the span's first and last piece where the
normalized word has as many characters as the original (as BERT's
`get_final_text`).
"""

import tempfile

import tensorflow as tf
import tensorflow_text as tf_text
from official.nlp.modeling import layers as nlp_layers

from electra_tf import layers as electra_layers
from electra_tf.tasks import multiple_choice
from electra_tf.tasks import question_answering
from electra_tf.tasks import sentence_prediction
from electra_tf.tasks import tagging
from export import export_tfhub_lib


def _strings(*names):
  return [tf.TensorSpec([None], tf.string, name=name) for name in names]


class _Tokens(tf.Module):
  """Text to word pieces and packed encoder inputs, as fine-tuning made them."""

  def __init__(self, vocab_file: str, do_lower_case: bool, seq_length: int):
    super().__init__()
    self.seq_length = seq_length
    self.tokenizer = electra_layers.BertTokenizer(
        vocab_file=vocab_file, lower_case=do_lower_case,
        tokenize_with_offsets=True)
    self.pack = nlp_layers.BertPackInputs(
        seq_length, special_tokens_dict=self.tokenizer.get_special_tokens_dict())
    self.whitespace = tf_text.WhitespaceTokenizer()

  def pieces(self, texts):
    """Word-piece ids [batch, (pieces)]."""
    return self.tokenizer(texts)[0].merge_dims(-2, -1)

  def words(self, texts, empty_as_unknown: bool):
    """`_Words` of `texts`, split at whitespace.

    A word with no pieces (only characters BERT drops) becomes one [UNK] with
    `empty_as_unknown`, as in tagging; SQuAD's preprocessing leaves it out.
    """
    words = self.whitespace.tokenize(texts)
    ids, starts, limits = (t.merge_dims(-2, -1)
                           for t in self.tokenizer(words.flat_values))
    starts, limits = tf.cast(starts, tf.int64), tf.cast(limits, tf.int64)
    empty = tf.cast(ids.row_lengths() == 0, tf.int64)
    if not empty_as_unknown:
      empty = tf.zeros_like(empty)

    def append_for_empty(pieces, values):
      extra = tf.RaggedTensor.from_row_lengths(
          tf.boolean_mask(tf.cast(values, pieces.dtype), empty > 0), empty)
      return tf.concat([pieces, extra], axis=1)

    ids = append_for_empty(
        ids, tf.fill(tf.shape(empty), self.tokenizer.unknown_id))
    starts = append_for_empty(starts, tf.zeros_like(empty))
    limits = append_for_empty(limits, tf.zeros_like(empty))
    normalized = self.tokenizer.basic_tokenizer(words.flat_values)
    normalized_length = tf.reduce_sum(normalized.with_flat_values(
        tf.strings.length(normalized.flat_values, "UTF8_CHAR")), axis=1)
    return _Words(words, ids, starts, limits, normalized_length)


class _Words:
  """Whitespace-split words [batch, (words)] and their pieces.

  `pieces`, `starts`, `limits`: per word [words, (pieces)] ids and byte
  offsets in the word; `normalized_length`: each word's characters after
  BERT's normalization. `first_piece`: dense [batch, max_words]
  offsets of each word's first piece among its sentence's pieces; `present`:
  not padding.
  """

  def __init__(self, words, pieces, starts, limits, normalized_length):
    self.words, self.pieces = words, pieces
    self.starts, self.limits = starts, limits
    self.normalized_length = normalized_length
    lengths = tf.RaggedTensor.from_row_lengths(
        pieces.row_lengths(), words.row_lengths()).to_tensor()
    self.ends = tf.cumsum(lengths, axis=1)
    self.first_piece = self.ends - lengths
    self.present = tf.sequence_mask(words.row_lengths(), tf.shape(lengths)[1])

  def fitting(self, room):
    """Which words are whole within `room` pieces; later ones are cut."""
    return self.present & (self.ends <= room)

  def kept_pieces(self, fits):
    """The pieces of the words that fit, per sentence [batch, (pieces)]."""
    kept = tf.ragged.boolean_mask(self.pieces,
                                  tf.boolean_mask(fits, self.present))
    return tf.RaggedTensor.from_row_lengths(
        kept, tf.reduce_sum(tf.cast(fits, tf.int64), axis=1)).merge_dims(1, 2)

  def all_pieces(self):
    """Every word's pieces, per sentence [batch, (pieces)]."""
    return tf.RaggedTensor.from_row_lengths(
        self.pieces, self.words.row_lengths()).merge_dims(1, 2)

  def text(self, first, last):
    """The text from piece `first` to piece `last` of each sentence.

    Whole words joined by a space (as BERT's SQuAD answers are), the first
    and last trimmed to the chosen pieces' characters where the offsets are
    exact.
    """
    # One padding entry each, so that sentences without words still gather.
    pad = lambda values, value: tf.concat([values, [value]], 0)  # noqa: E731
    sentence_piece = tf.gather(self.pieces.row_splits,
                               self.words.row_splits[:-1])
    first, last = sentence_piece + first, sentence_piece + last
    piece_word = pad(self.pieces.value_rowids(), 0)
    first_word = tf.gather(piece_word, first)
    last_word = tf.gather(piece_word, last)
    words = pad(self.words.flat_values, "")
    characters = lambda text: tf.strings.length(text, "UTF8_CHAR")  # noqa
    # Where normalizing changes a word's length (dropped characters, Hangul
    # in NFD), BERT's get_final_text keeps the whole word; so do we.
    exact = tf.equal(characters(words),
                     tf.cast(pad(self.normalized_length, 0), tf.int32))

    def offset(word, byte_offsets, piece):
      """The piece's byte offset as a character offset; -1 if inexact."""
      prefix = tf.strings.substr(
          tf.gather(words, word),
          tf.zeros_like(piece, tf.int64),
          tf.gather(pad(byte_offsets.flat_values, 0), piece))
      return tf.where(tf.gather(exact, word), characters(prefix), -1)

    begin = tf.maximum(offset(first_word, self.starts, first), 0)
    last_length = tf.gather(characters(words), last_word)
    end = offset(last_word, self.limits, last)
    end = tf.where(end < 0, last_length, end)
    same = tf.equal(first_word, last_word)
    first_text = tf.gather(words, first_word)
    head = tf.strings.substr(
        first_text, begin,
        tf.where(same, end, characters(first_text)) - begin, "UTF8_CHAR")
    tail = tf.strings.substr(tf.gather(words, last_word), tf.zeros_like(end),
                             end, "UTF8_CHAR")
    index = tf.ragged.range(self.words.row_starts(), self.words.row_limits())
    middle = tf.strings.reduce_join(
        tf.ragged.boolean_mask(self.words, (index > first_word[:, None]) &
                               (index < last_word[:, None])),
        axis=1, separator=" ")
    parts = tf.stack([head, middle, tail], 1)
    keep = tf.stack([tf.ones_like(same), middle != "", ~same], 1)
    return tf.strings.reduce_join(tf.ragged.boolean_mask(parts, keep), axis=1,
                                  separator=" ")


class _Serving(tf.Module):
  """What the signature reads, tracked for saving.

  The model's variables, not the Keras model: saving a Keras model traces
  every layer's call for Keras' own loader, which serving does not use.
  """

  def __init__(self, model, tokens, **constants):
    super().__init__()
    self.model_variables = list(model.variables)
    self.tokens = tokens
    for name, value in constants.items():
      setattr(self, name, value)


def _sentence_prediction(task, model, tokens):
  num_texts = len(task.task.text_columns)
  names = ("text",) if num_texts == 1 else ("text_a", "text_b")
  labels = task.task.labels

  @tf.function(input_signature=_strings(*names))
  def serve(*texts):
    inputs = tokens.pack([tokens.pieces(text) for text in texts])
    logits = model(inputs, training=False)
    if labels is None:
      return dict(scores=logits[:, 0])
    label_ids = tf.argmax(logits, -1, output_type=tf.int32)
    return dict(label_ids=label_ids,
                labels=tf.gather(tf.constant(labels), label_ids),
                probabilities=tf.nn.softmax(logits))

  return serve


def _tagging(task, model, tokens):
  tags = tf.constant(task.tags)

  @tf.function(input_signature=_strings("text"))
  def serve(text):
    words = tokens.words(text, empty_as_unknown=True)
    fits = words.fitting(tokens.seq_length - 2)  # beside [CLS] and [SEP]
    inputs = tokens.pack([words.kept_pieces(fits)])
    predicted = tf.argmax(model(inputs, training=False), -1)
    # +1: [CLS] comes first.
    tag_ids = tf.gather(predicted, tf.where(fits, words.first_piece + 1, 0),
                        batch_dims=1)
    return dict(
        words=words.words.to_tensor(""), num_words=words.words.row_lengths(),
        tags=tf.where(words.present,
                      tf.where(fits, tf.gather(tags, tag_ids), "O"), ""))

  return serve


def _multiple_choice(task, model, tokens):
  del task

  @tf.function(input_signature=[
      tf.TensorSpec([None], tf.string, name="context"),
      tf.TensorSpec([None, None], tf.string, name="choices")])
  def serve(context, choices):
    shape = tf.shape(choices)
    contexts = tf.reshape(tf.repeat(context[:, None], shape[1], axis=1), [-1])
    inputs = tokens.pack([tokens.pieces(contexts),
                          tokens.pieces(tf.reshape(choices, [-1]))])
    inputs = {k: tf.reshape(v, [shape[0], shape[1], -1])
              for k, v in inputs.items()}
    logits = model(inputs, training=False)
    return dict(label_ids=tf.argmax(logits, -1, output_type=tf.int32),
                probabilities=tf.nn.softmax(logits))

  return serve


def _windows(question_pieces, context_pieces, seq_length, doc_stride):
  """Fine-tuning's windows over each context (Model Garden's squad_lib).

  Each window holds the question and up to `seq_length - 3 - len(question)`
  context pieces, the next starting `doc_stride` pieces on, until one reaches
  the end. Returns each window's example, start and length among its
  context's pieces, and each example's window count ([windows], [batch]).
  """
  room = seq_length - 3 - question_pieces.row_lengths()
  length = context_pieces.row_lengths()
  stride = tf.minimum(room, doc_stride)
  more = tf.maximum(length - room, 0)
  count = 1 + (more + stride - 1) // stride
  example = tf.repeat(tf.range(tf.size(count, out_type=tf.int64)), count)
  start = (tf.ragged.range(count).flat_values *
           tf.gather(stride, example))
  window_length = tf.minimum(tf.gather(length, example) - start,
                             tf.gather(room, example))
  return example, start, window_length, count


def _max_context(example, start, window_length, count, positions):
  """Whether each window is its pieces' max-context window [windows, seq].

  As BERT: a piece's score in a window is its distance to the nearer edge
  plus 0.01 x the window's length; the first window with the top score wins.
  `positions` are the context pieces' indices [windows, seq].
  """
  # Every window of the same example, padded: [windows, max_windows].
  first_window = tf.gather(tf.cumsum(count, exclusive=True), example)
  others = first_window[:, None] + tf.range(tf.reduce_max(count))[None, :]
  exists = others < (first_window + tf.gather(count, example))[:, None]
  others = tf.where(exists, others, 0)
  other_start = tf.gather(start, others)[:, None, :]
  other_length = tf.gather(window_length, others)[:, None, :]
  p = positions[:, :, None]

  def score(window_start, length, valid):
    inside = valid & (p >= window_start) & (p < window_start + length)
    value = (tf.cast(tf.minimum(p - window_start,
                                window_start + length - 1 - p), tf.float32) +
             0.01 * tf.cast(length, tf.float32))
    return tf.where(inside, value, -1.0)

  own = score(start[:, None, None], window_length[:, None, None], True)
  other = score(other_start, other_length, exists[:, None, :])
  index = tf.range(tf.reduce_max(count))[None, None, :]
  earlier = index < (tf.range(tf.size(example, out_type=tf.int64)) -
                     first_window)[:, None, None]
  beaten = (other > own) | (earlier & tf.equal(other, own))
  return ~tf.reduce_any(beaten, axis=-1)


def _question_answering(task, model, tokens):
  config = task.config
  seq_length = tokens.seq_length

  @tf.function(input_signature=_strings("question", "context"))
  def serve(question, context):
    question_pieces = tokens.pieces(question)[:, :config.max_query_length]
    words = tokens.words(context, empty_as_unknown=False)
    context_pieces = words.all_pieces()
    example, start, length, count = _windows(
        question_pieces, context_pieces, seq_length, config.doc_stride)
    window_pieces = tf.gather(
        context_pieces.flat_values,
        tf.ragged.range(start, start + length) +
        tf.gather(context_pieces.row_starts(), example)[:, None])
    window_question = tf.gather(question_pieces, example)
    outputs = model(tokens.pack([window_question, window_pieces]),
                    training=False)
    # A window is [CLS] question [SEP] context pieces [SEP].
    offset = window_question.row_lengths() + 2
    position = tf.range(seq_length, dtype=tf.int64)[None, :]
    piece = position - offset[:, None] + start[:, None]  # in the context
    in_window = ((position >= offset[:, None]) &
                 (position < (offset + length)[:, None]))
    can_start = in_window & _max_context(example, start, length, count, piece)
    first, last = position[:, :, None], position[:, None, :]
    valid = (can_start[:, :, None] & in_window[:, None, :] &
             (last >= first) & (last - first < config.max_answer_length))
    scores = tf.where(valid, outputs["start_logits"][:, :, None] +
                      outputs["end_logits"][:, None, :], -1e30)
    flat = tf.reshape(scores, [tf.shape(scores)[0], -1])
    window_best = tf.reduce_max(flat, -1)
    span = tf.argmax(flat, -1)
    first_piece = tf.gather(piece, span // seq_length, batch_dims=1)
    last_piece = tf.gather(piece, span % seq_length, batch_dims=1)
    # The best window of each question.
    per_question = tf.RaggedTensor.from_row_lengths(window_best, count)
    best_window = (tf.argmax(per_question.to_tensor(-2e30), -1) +
                   per_question.row_starts())
    score = tf.gather(window_best, best_window)
    has_span = score > -1e29
    answer = words.text(tf.where(has_span,
                                 tf.gather(first_piece, best_window), 0),
                        tf.where(has_span,
                                 tf.gather(last_piece, best_window), 0))
    answer = tf.where(has_span, answer, "")
    result = dict(answer=answer, score=score)
    if task.version_2:
      if "null_logits" in outputs:  # The most answerable window's.
        null_score = tf.reduce_min(tf.RaggedTensor.from_row_lengths(
            outputs["null_logits"], count), axis=1)
      else:  # BERT's rule: [CLS] as the span, against the best span.
        null_score = tf.reduce_min(tf.RaggedTensor.from_row_lengths(
            outputs["start_logits"][:, 0] + outputs["end_logits"][:, 0],
            count), axis=1) - score
      result["null_score"] = null_score
      result["answer"] = tf.where(
          null_score > config.null_score_diff_threshold, "", answer)
    return result

  return serve


_SIGNATURES = (
    (sentence_prediction.SentencePredictionTask, _sentence_prediction),
    (tagging.TaggingTask, _tagging),
    (multiple_choice.MultipleChoiceTask, _multiple_choice),
    (question_answering.QuestionAnsweringTask, _question_answering),
)


def export_serving(export_path: str, task, model, *, vocab_file: str,
                   do_lower_case: bool, overwrite: bool = False):
  """Saves `model` (fine-tuned for `task`) to serve raw text at `export_path`."""
  make_signature = next(
      (make for cls, make in _SIGNATURES if isinstance(task, cls)), None)
  if make_signature is None:
    raise ValueError(f"no serving signature for a {type(task).__name__}")
  with tempfile.TemporaryDirectory() as vocab_dir, \
      export_tfhub_lib.atomic_directory(export_path, overwrite) as staging:
    vocab_copy = export_tfhub_lib.private_copy(vocab_file, vocab_dir)
    tokens = _Tokens(vocab_copy, do_lower_case, task.config.max_seq_length)
    serve = make_signature(task, model, tokens)
    module = _Serving(model, tokens, serve=serve,
                      vocab_file=tf.saved_model.Asset(vocab_copy),
                      do_lower_case=tf.Variable(do_lower_case,
                                                trainable=False))
    with export_tfhub_lib.quiet_saver():
      tf.saved_model.save(
          module, staging,
          signatures={"serving_default": serve.get_concrete_function()})
