"""Plain text -> fixed-length single-segment ELECTRA examples, in memory.

Input format (as in BERT and ELECTRA): one sentence per line, documents
separated by blank lines. Each document's word pieces are cut into chunks of
`seq_length - 2` and framed as [CLS] chunk [SEP], padded with [PAD].
Documents can be held out for evaluation, and a held-out file checked for
text it shares with the training text.
"""

import os
from typing import Dict, List

import numpy as np
import tensorflow as tf

from electra_tf.layers import BertTokenizer
from electra_tf.layers.bert_tokenizer import read_vocab
from electra_tf.layers.bert_tokenizer import SPECIAL_TOKENS
_LINES_PER_BATCH = 4096


def read_vocab_special_ids(vocab_file: str) -> Dict[str, int]:
  """Ids of BERT's special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) in a
  WordPiece vocab file, which must hold them all."""
  vocab = read_vocab(vocab_file)
  return {token: vocab.index(token) for token in SPECIAL_TOKENS}


def read_documents(path: str) -> List[List[str]]:
  """Documents (lists of non-empty lines) of a blank-line-separated text file."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"Text file not found: {path}")
  with open(path, "rb") as f:
    raw = f.read()
  try:
    text = raw.decode("utf-8-sig")  # a byte-order mark is dropped
  except UnicodeDecodeError as e:
    raise ValueError(f"{path} is not valid UTF-8 (byte {e.start}: "
                     f"{raw[e.start:e.start + 4]!r})") from None
  documents = [[line.strip() for line in block.splitlines() if line.strip()]
               for block in text.split("\n\n")]
  documents = [d for d in documents if d]
  if not documents:
    raise ValueError(f"{path} holds no text")
  return documents


def tokenize_lines(lines: List[str], vocab_file: str,
                   do_lower_case: bool = True) -> List[List[int]]:
  """Word-piece ids of each line, as BERT's tokenizer gives them."""
  tokenize = tf.function(
      BertTokenizer(vocab_file=vocab_file, lower_case=do_lower_case))
  pieces = []
  for start in range(0, len(lines), _LINES_PER_BATCH):
    batch = tf.constant(lines[start:start + _LINES_PER_BATCH], tf.string)
    pieces += tokenize(batch).merge_dims(1, -1).to_list()
  return pieces


def make_examples(text_file: str, vocab_file: str, seq_length: int,
                  do_lower_case: bool = True) -> Dict[str, np.ndarray]:
  """Tokenizes `text_file` into int32 arrays of shape [num_examples, seq_length].

  Returns a dict with `input_word_ids`, `input_mask` and `input_type_ids`.
  """
  return examples_from_documents(read_documents(text_file), vocab_file,
                                 seq_length, do_lower_case)


def examples_from_documents(documents: List[List[str]], vocab_file: str,
                            seq_length: int, do_lower_case: bool = True
                            ) -> Dict[str, np.ndarray]:
  """`make_examples` of documents already read (lists of lines)."""
  if seq_length < 3:
    raise ValueError(f"seq_length must be at least 3, got {seq_length}")
  special = read_vocab_special_ids(vocab_file)
  pieces = iter(tokenize_lines([line for document in documents
                                for line in document], vocab_file,
                               do_lower_case))
  chunk = seq_length - 2
  rows = []
  for document in documents:
    ids = [i for _ in document for i in next(pieces)]
    for start in range(0, len(ids), chunk):
      rows.append(ids[start:start + chunk])
  word_ids = np.full((len(rows), seq_length), special["[PAD]"], np.int32)
  for i, row in enumerate(rows):
    word_ids[i, 0] = special["[CLS]"]
    word_ids[i, 1:len(row) + 1] = row
    word_ids[i, len(row) + 1] = special["[SEP]"]
  input_mask = (word_ids != special["[PAD]"]).astype(np.int32)
  return dict(input_word_ids=word_ids, input_mask=input_mask,
              input_type_ids=np.zeros_like(word_ids))


def hold_out_documents(documents: List[List[str]], every: int = 20):
  """(training documents, held-out documents): every `every`-th one is held out.

  Spread over the file rather than its end, so that held-out text is like
  the training text (the shipped addresses run from 1940 to 2021).
  """
  if len(documents) < 2:
    raise ValueError(f"{len(documents)} document cannot be split into "
                     "training and held-out text; give a held-out file")
  held_out = set(range(min(every, len(documents)) - 1, len(documents), every))
  return ([d for i, d in enumerate(documents) if i not in held_out],
          [d for i, d in enumerate(documents) if i in held_out])


# Held-out lines of at least this many words that also occur in the training
# text, as a share of all such held-out lines, above which evaluation is
# refused. Between the shipped addresses it is 0.2% (boilerplate such as
# "Thank you, God bless you, and God bless America.").
_OVERLAP_MIN_WORDS = 8
_MAX_OVERLAP = 0.05


def check_held_out(held_out: List[List[str]], training: List[List[str]],
                   name: str):
  """Raises ValueError when held-out text `name` repeats the training text."""
  long_lines = [line for document in held_out for line in document
                if len(line.split()) >= _OVERLAP_MIN_WORDS]
  seen = {line for document in training for line in document}
  repeated = [line for line in long_lines if line in seen]
  if long_lines and len(repeated) > _MAX_OVERLAP * len(long_lines):
    raise ValueError(
        f"{name} overlaps the training text: {len(repeated)} of its "
        f"{len(long_lines)} lines of {_OVERLAP_MIN_WORDS}+ words occur there "
        f"too (at most {_MAX_OVERLAP:.0%} may), e.g. {repeated[0][:80]!r}")


def make_dataset(examples: Dict[str, np.ndarray], batch_size: int, seed: int,
                 input_context: tf.distribute.InputContext = None
                 ) -> tf.data.Dataset:
  """An endless shuffled stream of full batches.

  Under a distribution strategy, each input pipeline takes every n-th example
  (n pipelines) and `batch_size` is that pipeline's share of the batch.
  """
  dataset = tf.data.Dataset.from_tensor_slices(examples)
  num_examples = len(examples["input_word_ids"])
  if input_context and input_context.num_input_pipelines > 1:
    dataset = dataset.shard(input_context.num_input_pipelines,
                            input_context.input_pipeline_id)
    num_examples = len(range(input_context.input_pipeline_id, num_examples,
                             input_context.num_input_pipelines))
  if num_examples < batch_size:
    raise ValueError(f"Only {num_examples} examples for batch size "
                     f"{batch_size}; give more text or a smaller batch")
  return (dataset
          .shuffle(num_examples, seed=seed, reshuffle_each_iteration=True)
          .repeat()
          .batch(batch_size, drop_remainder=True)
          .prefetch(tf.data.AUTOTUNE))
