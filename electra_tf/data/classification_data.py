"""Sentence(-pair) classification and regression data: GLUE and user files.

A `ClassificationTask` says where the texts and the label sit in a task's
files; `read_examples` checks every row (a bad label or a missing column
stops with file and line) and `encode` packs word pieces as
[CLS] a [SEP] (b [SEP]), truncating the longer segment first.
"""

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from official.nlp.tools import tokenization

from electra_tf.data import table_files
from electra_tf.data.table_files import DataError


@dataclasses.dataclass(frozen=True)
class ClassificationTask:
  """Columns, labels and metrics of a classification or regression task.

  `labels` None means regression. `splits` maps "train", "dev", "test" to
  file names in the task's data directory; a dev or test split may have
  several files (MNLI matched and mismatched), named by `submission_names`
  in the GLUE submission format (by their file names when there are none).
  """
  name: str
  text_columns: Tuple[table_files.Column, ...]
  label_column: Optional[table_files.Column]
  labels: Optional[Tuple[str, ...]]
  metrics: Tuple[str, ...]
  splits: Dict[str, Tuple[str, ...]]
  submission_names: Tuple[str, ...] = ()
  has_header: bool = True
  test_text_columns: Optional[Tuple[table_files.Column, ...]] = None
  num_train_epochs: int = 3

  @property
  def is_regression(self) -> bool:
    return self.labels is None


def _glue(name, text_columns, label_column, labels, metrics, submission,
          test_text_columns=None, dev=("dev.tsv",), test=("test.tsv",),
          **kwargs):
  return ClassificationTask(
      name=name, text_columns=text_columns, label_column=label_column,
      labels=labels, metrics=metrics,
      splits=dict(train=("train.tsv",), dev=dev, test=test),
      submission_names=submission, test_text_columns=test_text_columns,
      **kwargs)


_BINARY = ("0", "1")
_ENTAILMENT = ("entailment", "not_entailment")

# The GLUE tasks as the original ELECTRA fine-tunes them (10 epochs for the
# small RTE and STS-B, 3 otherwise), reading the files of the GLUE download.
GLUE_TASKS = {task.name: task for task in (
    # CoLA's train and dev files have no header: source, label, -, sentence.
    _glue("cola", (3,), 1, _BINARY, ("mcc", "accuracy"), ("CoLA",),
          test_text_columns=("sentence",), has_header=False),
    _glue("sst", ("sentence",), "label", _BINARY, ("accuracy",), ("SST-2",)),
    _glue("mrpc", ("#1 String", "#2 String"), "Quality", _BINARY,
          ("accuracy", "f1"), ("MRPC",)),
    _glue("sts", ("sentence1", "sentence2"), "score", None,
          ("pearson", "spearman"), ("STS-B",), num_train_epochs=10),
    _glue("qqp", ("question1", "question2"), "is_duplicate", _BINARY,
          ("accuracy", "f1"), ("QQP",)),
    _glue("mnli", ("sentence1", "sentence2"), "gold_label",
          ("contradiction", "entailment", "neutral"), ("accuracy",),
          ("MNLI-m", "MNLI-mm"),
          dev=("dev_matched.tsv", "dev_mismatched.tsv"),
          test=("test_matched.tsv", "test_mismatched.tsv")),
    _glue("qnli", ("question", "sentence"), "label", _ENTAILMENT,
          ("accuracy",), ("QNLI",)),
    _glue("rte", ("sentence1", "sentence2"), "label", _ENTAILMENT,
          ("accuracy",), ("RTE",), num_train_epochs=10),
)}


def custom_task(train_file: str, text_columns: Sequence[str],
                label_column: str, labels: Optional[Sequence[str]] = None,
                regression: bool = False, dev_file: Optional[str] = None,
                test_file: Optional[str] = None,
                num_train_epochs: int = 3) -> ClassificationTask:
  """A task over the user's CSV, TSV or JSON-lines files (with a header).

  Without `labels`, the sorted distinct labels of the training file are used.
  """
  if not text_columns or len(text_columns) > 2:
    raise ValueError("give one or two text columns, got "
                     f"{list(text_columns)}")
  if regression and labels:
    raise ValueError("a regression task takes no label list")
  if not regression and not labels:
    labels = sorted({row[label_column] for _, row in table_files.read_rows(
        train_file, required=[label_column])})
  splits = {name: (path,) for name, path in
            (("train", train_file), ("dev", dev_file), ("test", test_file))
            if path}
  metrics = ("pearson", "spearman") if regression else (
      ("accuracy", "f1") if len(labels) == 2 else ("accuracy",))
  return ClassificationTask(
      name="custom", text_columns=tuple(text_columns),
      label_column=label_column,
      labels=None if regression else tuple(labels), metrics=metrics,
      splits=splits, num_train_epochs=num_train_epochs)


@dataclasses.dataclass
class Example:
  texts: Tuple[str, ...]
  label: Optional[object]  # class index, float score, or None (unlabelled)
  line: int


def read_examples(task: ClassificationTask, path: str,
                  labelled: bool = True) -> List[Example]:
  """The examples of one file; labels become class indices or floats."""
  text_columns = task.text_columns
  if not labelled and task.test_text_columns:
    text_columns = task.test_text_columns
  has_header = task.has_header or not labelled
  required = list(text_columns) + ([task.label_column] if labelled else [])
  examples = []
  for line, row in table_files.read_rows(path, has_header, required):
    texts = tuple(row[c] for c in text_columns)
    label = _parse_label(task, row[task.label_column], path,
                         line) if labelled else None
    examples.append(Example(texts, label, line))
  if not examples:
    raise DataError(path, None, "holds no examples")
  return examples


def _parse_label(task, value, path, line):
  if task.is_regression:
    try:
      return float(value)
    except ValueError:
      raise DataError(path, line, f"label {value!r} is not a number") from None
  if value not in task.labels:
    raise DataError(path, line, f"label {value!r} is not one of "
                    f"{list(task.labels)}")
  return task.labels.index(value)


def _truncate_pair(a: List[str], b: List[str], max_length: int):
  """Pops from the longer list until both fit (the original BERT rule)."""
  while len(a) + len(b) > max_length:
    (a if len(a) > len(b) else b).pop()


def encode(examples: List[Example], tokenizer: tokenization.FullTokenizer,
           max_seq_length: int) -> Dict[str, np.ndarray]:
  """Packed int32 inputs, plus `label_ids` when the examples have labels."""
  word_ids = np.zeros((len(examples), max_seq_length), np.int32)
  input_mask, type_ids = np.zeros_like(word_ids), np.zeros_like(word_ids)
  for row, example in enumerate(examples):
    segments = [tokenizer.tokenize(text) for text in example.texts]
    if len(segments) == 2:
      _truncate_pair(*segments, max_seq_length - 3)
    else:
      del segments[0][max_seq_length - 2:]
    tokens, types = ["[CLS]"], [0]
    for index, segment in enumerate(segments):
      tokens += segment + ["[SEP]"]
      types += [index] * (len(segment) + 1)
    word_ids[row, :len(tokens)] = tokenizer.convert_tokens_to_ids(tokens)
    input_mask[row, :len(tokens)] = 1
    type_ids[row, :len(types)] = types
  features = dict(input_word_ids=word_ids, input_mask=input_mask,
                  input_type_ids=type_ids)
  if examples and examples[0].label is not None:
    labels = [e.label for e in examples]
    features["label_ids"] = np.array(
        labels, np.float32 if isinstance(labels[0], float) else np.int32)
  return features
