"""Multiple-choice data: a context and candidate endings (SWAG, user files).

As in transformers' run_swag: each choice becomes the pair
[CLS] context [SEP] start-of-ending + choice [SEP], so an example encodes to
[num_choices, seq_length]; the label is the index of the right choice.
"""

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from electra_tf.data import classification_data
from electra_tf.data import table_files
from electra_tf.data.table_files import DataError


@dataclasses.dataclass(frozen=True)
class ChoiceTask:
  """Where context, choices and label sit in a task's files (with a header).

  `context_columns`: the context, and optionally a start of the ending that
  every choice continues (SWAG's sent2).
  """
  name: str
  context_columns: Tuple[str, ...]
  choice_columns: Tuple[str, ...]
  label_column: str
  splits: Dict[str, Tuple[str, ...]]
  num_train_epochs: int = 3


# SWAG as distributed (swagaf data/: train.csv, val.csv, test.csv).
SWAG = ChoiceTask(
    name="swag", context_columns=("sent1", "sent2"),
    choice_columns=tuple(f"ending{i}" for i in range(4)), label_column="label",
    splits=dict(train=("train.csv",), dev=("val.csv",), test=("test.csv",)))


def custom_task(context_columns: Sequence[str], choice_columns: Sequence[str],
                label_column: str) -> ChoiceTask:
  """A task over the user's CSV, TSV or JSON-lines files."""
  if not context_columns or len(context_columns) > 2:
    raise ValueError("give one or two context columns (--text_columns), got "
                     f"{list(context_columns or [])}")
  if not choice_columns or len(choice_columns) < 2:
    raise ValueError("give two or more --choice_columns, got "
                     f"{list(choice_columns or [])}")
  return ChoiceTask(name="multiple_choice",
                    context_columns=tuple(context_columns),
                    choice_columns=tuple(choice_columns),
                    label_column=label_column, splits={})


@dataclasses.dataclass
class Example:
  context: str
  ending_start: str
  choices: Tuple[str, ...]
  label: Optional[int]  # index of the right choice; None when unlabelled
  line: int


def read_examples(task: ChoiceTask, path: str,
                  labelled: bool = True) -> List[Example]:
  """Every row of `path`; a label must be a choice index (0, 1, ...)."""
  required = list(task.context_columns) + list(task.choice_columns)
  if labelled:
    required.append(task.label_column)
  examples = []
  for line, row in table_files.read_rows(path, True, required):
    context = row[task.context_columns[0]]
    ending_start = (row[task.context_columns[1]]
                    if len(task.context_columns) == 2 else "")
    label = None
    if labelled:
      value = str(row[task.label_column]).strip()
      indices = [str(i) for i in range(len(task.choice_columns))]
      if value not in indices:
        raise DataError(path, line, f"label {value!r} is not a choice index "
                        f"({', '.join(indices)})")
      label = int(value)
    examples.append(Example(context, ending_start,
                            tuple(row[c] for c in task.choice_columns),
                            label, line))
  if not examples:
    raise DataError(path, None, "holds no examples")
  return examples


def encode(examples: List[Example], tokenizer,
           max_seq_length: int) -> Dict[str, np.ndarray]:
  """int32 inputs of shape [examples, choices, max_seq_length] (+ label_ids)."""
  pairs = [classification_data.Example(
      (e.context, f"{e.ending_start} {choice}".strip()), None, e.line)
           for e in examples for choice in e.choices]
  flat = classification_data.encode(pairs, tokenizer, max_seq_length)
  num_choices = len(examples[0].choices)
  features = {k: v.reshape(len(examples), num_choices, max_seq_length)
              for k, v in flat.items()}
  if examples[0].label is not None:
    features["label_ids"] = np.array([e.label for e in examples], np.int32)
  return features
