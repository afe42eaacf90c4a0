"""Serving exports of fine-tuned models answer raw text as the model does.

Each task's model (a mini encoder, untrained: agreement, not accuracy, is
checked) is exported with `serving_lib.export_serving`, loaded with
`tf.saved_model.load` in a fresh process and called with the dev texts; its
answers must equal those of the task's own Python path (FullTokenizer
encoding, the Keras model, the task's decoding).
"""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from official.nlp.tools import tokenization

from electra_tf import builders
from electra_tf import configs
from electra_tf import finetuning
from electra_tf.data import classification_data
from electra_tf.data import tagging_data
from export import serving_lib

from conftest import REPO, VOCAB

REVIEWS = os.path.join(REPO, "tests", "data", "movie_reviews")
# Short enough that long reviews are cut, as fine-tuning cuts them.
SEQ_LENGTH = 32


def _head(path, lines, out):
  with open(path, encoding="utf-8") as f:
    out.write_text("".join(next(f) for _ in range(lines)), encoding="utf-8")
  return str(out)


def _squad_file(path, version_2):
  """Questions about review sentences; answers are words in them."""
  sentences = tagging_data.read_conll(os.path.join(REVIEWS, "tagging",
                                                   "dev.txt"))[:12]
  paragraphs = []
  for i, sentence in enumerate(sentences):
    # Most are longer than a window, so answers come from several.
    context = " ".join(sentence.words) + " Caf\u00e9s, na\u00efve co-op!"
    word = max(sentence.words, key=len)
    qas = [dict(id=f"q{i}", question=f"Which word is like {word}?",
                answers=[dict(text=word, answer_start=context.index(word))])]
    if version_2:
      qas[0]["is_impossible"] = False
    paragraphs.append(dict(context=context, qas=qas))
  with open(path, "w", encoding="utf-8") as f:
    json.dump(dict(data=[dict(title="reviews", paragraphs=paragraphs)]), f)
  return str(path)


def _write_csv(path, header, rows):
  with open(path, "w", encoding="utf-8", newline="") as f:
    csv.writer(f).writerows([header, *rows])
  return str(path)


# 40 (sentence, label) rows of the shipped sentiment dev set.
def _sst_rows():
  with open(os.path.join(REVIEWS, "sst", "dev.tsv"), encoding="utf-8") as f:
    return list(csv.reader(f, delimiter="\t"))[1:41]


def _choices_file(path):
  """Which of two review sentences is the positive one."""
  rows = _sst_rows()
  return _write_csv(path, ["context", "choice0", "choice1", "label"], [
      ["Which is positive?", first[0], second[0], int(second[1] == "1")]
      for first, second in zip(rows[::2], rows[1::2])])


def _pairs_file(path):
  """Sentence pairs labelled by the second's sentiment (cut to fit pairs)."""
  rows = _sst_rows()
  return _write_csv(path, ["first", "second", "label"], [
      [first[0], second[0], second[1]]
      for first, second in zip(rows, rows[1:] + rows[:1])])


def _tasks(tmp):
  tagging_dev = os.path.join(REVIEWS, "tagging", "dev.txt")
  sst = dict(train=[os.path.join(REVIEWS, "sst", "train.tsv")],
             dev=[_head(os.path.join(REVIEWS, "sst", "dev.tsv"), 41,
                        tmp / "sst_dev.tsv")])
  scores = dict(train=[os.path.join(REVIEWS, "scores", "train.jsonl")],
                dev=[_head(os.path.join(REVIEWS, "scores", "dev.jsonl"), 40,
                           tmp / "scores_dev.jsonl")])
  choices = _choices_file(tmp / "choices.csv")
  pairs = _pairs_file(tmp / "pairs.csv")
  return dict(
      classification=("sst", sst, {}),
      pair_classification=("custom", dict(train=[pairs], dev=[pairs]),
                           dict(text_columns=["first", "second"])),
      regression=("custom", scores, dict(text_columns=["text"],
                                         label_column="score",
                                         regression=True)),
      tagging=("tagging", dict(train=[tagging_dev], dev=[tagging_dev]), {}),
      multiple_choice=("multiple_choice", dict(train=[choices], dev=[choices]),
                       dict(text_columns=["context"],
                            choice_columns=["choice0", "choice1"])),
      squad_v1=("squad_v1", dict(train=[_squad_file(tmp / "v1.json", False)],
                                 dev=[str(tmp / "v1.json")]), {}),
      squad=("squad", dict(train=[_squad_file(tmp / "v2.json", True)],
                           dev=[str(tmp / "v2.json")]), {}),
  )


def _inputs_and_expected(name, task, model):
  """The serving inputs for the dev file, and the Python path's answers."""
  path = task.files["dev"][0]
  if name in ("classification", "pair_classification", "regression"):
    examples = classification_data.read_examples(task.task, path, True)
    logits = model.predict(
        {k: v for k, v in task._encoded[("dev", path)].items()
         if k != "label_ids"}, verbose=0)
    names = ("text",) if len(examples[0].texts) == 1 else ("text_a", "text_b")
    inputs = {name: [e.texts[i] for e in examples]
              for i, name in enumerate(names)}
    if name == "regression":
      return inputs, dict(scores=logits[:, 0])
    return inputs, dict(probabilities=tf.nn.softmax(logits).numpy(),
                        labels=[task.task.labels[i]
                                for i in np.argmax(logits, -1)])
  if name == "tagging":
    sentences = tagging_data.read_conll(path)
    return (dict(text=[" ".join(s.words) for s in sentences]),
            dict(tags=task._predict(model, ("dev", path))))
  if name == "multiple_choice":
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    features = task._encoded[("dev", path)]
    logits = model.predict({k: features[k] for k in (
        "input_word_ids", "input_mask", "input_type_ids")}, verbose=0)
    return (dict(context=[r["context"] for r in rows],
                 choices=[[r["choice0"], r["choice1"]] for r in rows]),
            dict(probabilities=tf.nn.softmax(logits).numpy()))
  data = json.load(open(path, encoding="utf-8"))["data"]
  qas = [(qa, p["context"]) for a in data for p in a["paragraphs"]
         for qa in p["qas"]]
  predictions, _, _ = task._predict(model, path)
  return (dict(question=[qa["question"] for qa, _ in qas],
               context=[context for _, context in qas]),
          dict(answer=[predictions[qa["id"]] for qa, _ in qas]))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("serving")
  # One layer: exporting traces every layer, and one shows what two would.
  experiment = configs.load_experiment(
      "mini", "model.discriminator.num_layers=1,"
      f"finetune.max_seq_length={SEQ_LENGTH},"
      "finetune.max_query_length=8,finetune.doc_stride=8,"
      # Every span is a candidate, as in the export.
      f"finetune.n_best_size={SEQ_LENGTH}")
  tokenizer = tokenization.FullTokenizer(VOCAB, do_lower_case=True)
  cases = {}
  for name, (task_name, files, kwargs) in _tasks(tmp).items():
    task = finetuning.make_task(task_name, files, tokenizer,
                                experiment.finetune, **kwargs)
    model = task.build_model(builders.build_encoder(
        experiment.model.discriminator))
    inputs, expected = _inputs_and_expected(name, task, model)
    serving_lib.export_serving(str(tmp / name), task, model,
                               vocab_file=VOCAB, do_lower_case=True)
    cases[name] = (inputs, expected)
  return tmp, cases


# The documented signatures: input names, output names.
SIGNATURES = dict(
    classification=(["text"], ["label_ids", "labels", "probabilities"]),
    pair_classification=(["text_a", "text_b"],
                         ["label_ids", "labels", "probabilities"]),
    regression=(["text"], ["scores"]),
    tagging=(["text"], ["num_words", "tags", "words"]),
    multiple_choice=(["choices", "context"], ["label_ids", "probabilities"]),
    squad_v1=(["context", "question"], ["answer", "score"]),
    squad=(["context", "question"], ["answer", "null_score", "score"]),
)

_LOAD_AND_ANSWER = """
import json, sys
import tensorflow as tf
import tensorflow_text  # registers the tokenizer's ops
directory, names = sys.argv[1], sys.argv[2:]
answers = {}


def _decode(values):
  for i, value in enumerate(values):
    if isinstance(value, list):
      _decode(value)
    elif isinstance(value, bytes):
      values[i] = value.decode("utf-8")


for name in names:
  inputs = json.load(open(f"{directory}/{name}.inputs.json"))
  serve = tf.saved_model.load(f"{directory}/{name}").signatures["serving_default"]
  outputs = serve(**{k: tf.constant(v) for k, v in inputs.items()})
  signature = (sorted(serve.structured_input_signature[1]),
               sorted(serve.structured_outputs))
  answers[name] = {
      k: (tf.strings.unicode_transcode(v, "UTF-8", "UTF-8").numpy().astype(
          object) if v.dtype == tf.string else v.numpy()).tolist()
      for k, v in outputs.items()}
  for values in answers[name].values():
    _decode(values)
  answers[name]["signature"] = signature
json.dump(answers, open(f"{directory}/answers.json", "w"))
"""


def test_serving_exports_answer_raw_text_like_the_model(exported):
  directory, cases = exported
  for name, (inputs, _) in cases.items():
    with open(directory / f"{name}.inputs.json", "w") as f:
      json.dump(inputs, f)
  run = subprocess.run([sys.executable, "-c", _LOAD_AND_ANSWER,
                        str(directory), *cases], cwd=REPO,
                       capture_output=True, text=True, timeout=600,
                       check=False)
  assert run.returncode == 0, run.stderr[-3000:]
  answers = json.load(open(directory / "answers.json"))
  for name, (_, expected) in cases.items():
    got = answers[name]
    assert got.pop("signature") == list(map(list, SIGNATURES[name])), name
    for key, value in expected.items():
      if key == "tags":
        num_words = got["num_words"]
        value_got = [tags[:n] for tags, n in zip(got["tags"], num_words)]
        assert value_got == value, name
      elif isinstance(value, np.ndarray):
        np.testing.assert_allclose(got[key], value, atol=2e-5, err_msg=name)
      else:
        assert got[key] == value, name
