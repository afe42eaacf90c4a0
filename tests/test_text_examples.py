import numpy as np
import pytest

from electra_tf.data import text_examples

from conftest import TEXT, VOCAB


def test_examples_from_text(tmp_path):
  path = tmp_path / "two_docs.txt"
  path.write_text("The Union is strong.\nWe move forward.\n\n\n"
                  "Café crème, naïve résumé!\n", encoding="utf-8")
  ex = text_examples.make_examples(str(path), VOCAB, seq_length=8)
  ids = ex["input_word_ids"]
  assert ids.shape[1] == 8 and ids.dtype == np.int32
  assert (ids[:, 0] == 101).all()
  # One [SEP] per row, right after the last real piece.
  assert ((ids == 102).sum(1) == 1).all()
  np.testing.assert_array_equal(ex["input_mask"], (ids != 0).astype(int))
  assert not ex["input_type_ids"].any()
  # Lower-cased, accents stripped, and documents never share a row.
  vocab = open(VOCAB, encoding="utf-8").read().split("\n")
  rows = [[vocab[i] for i in row] for row in ids]
  assert rows == [
      ["[CLS]", "the", "union", "is", "strong", ".", "we", "[SEP]"],
      ["[CLS]", "move", "forward", ".", "[SEP]", "[PAD]", "[PAD]", "[PAD]"],
      ["[CLS]", "cafe", "cr", "##eme", ",", "naive", "resume", "[SEP]"],
      ["[CLS]", "!", "[SEP]"] + ["[PAD]"] * 5,
  ]


def test_shipped_text_gives_thousands_of_examples():
  ex = text_examples.make_examples(TEXT, VOCAB, seq_length=128)
  assert len(ex["input_word_ids"]) > 4000
  assert ex["input_mask"].mean() > 0.95


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe bad bytes", "not valid UTF-8"),
    (b"\n\n  \n", "no text"),
])
def test_bad_text_files(tmp_path, content, message):
  path = tmp_path / "bad.txt"
  path.write_bytes(content)
  with pytest.raises(ValueError, match=message):
    text_examples.make_examples(str(path), VOCAB, seq_length=16)


def test_missing_files_and_bad_vocab(tmp_path):
  with pytest.raises(FileNotFoundError, match="nowhere.txt"):
    text_examples.make_examples(str(tmp_path / "nowhere.txt"), VOCAB, 16)
  with pytest.raises(FileNotFoundError, match="no_vocab"):
    text_examples.make_examples(TEXT, str(tmp_path / "no_vocab"), 16)
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("[PAD]\n[CLS]\nhello\n")
  with pytest.raises(ValueError, match=r"\[SEP\].*\[MASK\]"):
    text_examples.read_vocab_special_ids(str(vocab))


def test_batch_larger_than_data():
  ex = {"input_word_ids": np.zeros((3, 8), np.int32)}
  with pytest.raises(ValueError, match="batch size 16"):
    text_examples.make_dataset(ex, 16, seed=0)


def test_a_byte_order_mark_is_not_text(tmp_path):
  path = tmp_path / "bom.txt"
  path.write_text("\ufeffFirst line.\nSecond line.\n", encoding="utf-8")
  assert text_examples.read_documents(str(path)) == [["First line.",
                                                      "Second line."]]
