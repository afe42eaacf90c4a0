"""The vocabulary command: a WordPiece vocabulary learned from a corpus, that
the tokenizer and pretraining then use."""

import os
import subprocess
import sys

import numpy as np
import pytest

from electra_tf import configs
from electra_tf import run_pretraining
from electra_tf.data import wordpiece_vocab
from electra_tf.data import text_examples
from electra_tf.layers import bert_tokenizer

from conftest import REPO, TEXT, VOCAB

_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  """The first 20 shipped addresses, and a vocabulary learned from them."""
  documents = text_examples.read_documents(TEXT)[:20]
  directory = tmp_path_factory.mktemp("corpus")
  text = directory / "corpus.txt"
  text.write_text("\n\n".join("\n".join(d) for d in documents) + "\n",
                  encoding="utf-8")
  vocab = directory / "vocab.txt"
  result = subprocess.run(
      [sys.executable, "-m", "electra_tf.data.build_vocab",
       f"--input_files={text}", f"--output_file={vocab}", "--vocab_size=3000"],
      cwd=REPO, capture_output=True, text=True, check=False, env=_ENV)
  assert result.returncode == 0, result.stderr
  return documents, str(text), str(vocab), result.stdout


def test_vocabulary_has_the_special_tokens_first_and_covers_the_text(corpus):
  documents, _, vocab_file, stdout = corpus
  vocab = bert_tokenizer.read_vocab(vocab_file)
  assert vocab[:5] == list(bert_tokenizer.SPECIAL_TOKENS)
  assert len(vocab) == len(set(vocab))
  # The learner lands near the size asked for, and says how to train on it.
  assert 2700 <= len(vocab) <= 3300
  assert (f"--vocab_file={vocab_file} --params_override="
          f"model.discriminator.vocab_size={len(vocab)}") in stdout
  # Words the corpus repeats are whole tokens; none of its text is [UNK].
  lines = [line for document in documents for line in document]
  counts = wordpiece_vocab.count_words(lines)
  frequent = [word for word, count in counts.items() if count >= 20]
  assert len(frequent) > 500
  assert sum(word in vocab for word in frequent) > 0.95 * len(frequent)
  assert {"the", "america", "congress", "##s"} <= set(vocab)
  pieces = text_examples.tokenize_lines(lines[:400], vocab_file)
  flat = np.concatenate([np.ravel(p) for p in pieces])
  assert not (flat == vocab.index("[UNK]")).any()


def test_word_counts_split_as_the_tokenizer_does():
  counts = wordpiece_vocab.count_words(["Don't stop, STOP!", "naïve café"])
  assert counts == {"don": 1, "'": 1, "t": 1, "stop": 2, ",": 1, "!": 1,
                    "naive": 1, "cafe": 1}
  assert wordpiece_vocab.count_words(["Don't"], lower_case=False) == {
      "Don": 1, "'": 1, "t": 1}


def test_pretraining_runs_on_the_learned_vocabulary(corpus):
  _, text, vocab_file, _ = corpus
  size = len(bert_tokenizer.read_vocab(vocab_file))
  config = configs.load_experiment(
      "mini", f"model.discriminator.vocab_size={size},"
      "train.num_train_steps=10")
  losses, evaluations = run_pretraining.pretrain(
      config, vocab_file, train_text=text, log_every=10, steps_per_loop=10)
  assert len(losses) == 1
  # An untrained generator: about log(vocabulary size) nats a masked token.
  assert evaluations[-1][1]["mlm_loss"] == pytest.approx(np.log(size),
                                                         rel=0.05)
  # The model must have an embedding for every token of the vocabulary.
  small = configs.load_experiment("mini",
                                  f"model.discriminator.vocab_size={size}")
  with pytest.raises(ValueError, match=(
      f"vocabulary {VOCAB} has 30522 tokens, more than the model's {size} "
      "embeddings: give --params_override=model.discriminator.vocab_size="
      "30522")):
    run_pretraining.pretrain(small, VOCAB, train_text=text)


@pytest.mark.parametrize("arguments, message", [
    (["--input_files=/nowhere/*.txt"], "no file matches '/nowhere/*.txt'"),
    (["--output_file={existing}"], "exists; pass --overwrite to replace it"),
    (["--input_files={binary}"], "is not valid UTF-8"),
    (["--vocab_size=3"], "--vocab_size=3: 3 is not"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, arguments,
                                                   message):
  existing = tmp_path / "vocab.txt"
  existing.write_text("keep me\n", encoding="utf-8")
  binary = tmp_path / "binary.txt"
  binary.write_bytes(b"caf\xe9\n")
  given = dict(a.split("=", 1) for a in
               [f"--input_files={TEXT}", f"--output_file={tmp_path}/new.txt"] +
               [a.format(existing=existing, binary=binary) for a in arguments])
  result = subprocess.run(
      [sys.executable, "-m", "electra_tf.data.build_vocab"] +
      [f"{k}={v}" for k, v in given.items()],
      cwd=REPO, capture_output=True, text=True, check=False, env=_ENV)
  assert result.returncode == 1
  assert message in result.stderr
  assert "Traceback" not in result.stderr
  assert existing.read_text(encoding="utf-8") == "keep me\n"
  assert sorted(os.listdir(tmp_path)) == ["binary.txt", "vocab.txt"]
