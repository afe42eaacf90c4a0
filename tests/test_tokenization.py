"""Preprocessing ids equal BERT's for any text, uncased and cased.

Thousands of random strings mixing scripts, spaces, control and format
characters, combining marks and emoji go through the exported
preprocessing model (`.tokenize`, the root call, `.bert_pack_inputs`); ids
must equal transformers' `BertTokenizerFast` wherever it agrees with Model
Garden's `FullTokenizer` (they differ on purpose in a few rules; see the
chosen ones below and in docs/export.md).
"""

import random

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401
import transformers
from official.nlp.tools import tokenization

from electra_tf import layers as electra_layers
from electra_tf.layers import bert_tokenizer
from export import export_tfhub_lib

from conftest import VOCAB

SEQ_LENGTH = 128
NUM_RANDOM = 2000


def _ranges(*pairs):
  return [chr(c) for low, high in pairs for c in range(low, high + 1)]


# Pools a random string draws its pieces from.
POOLS = {
    "latin": _ranges((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F)),
    "digits and ascii symbols": _ranges((0x21, 0x40), (0x5B, 0x60),
                                        (0x7B, 0x7E)),
    "greek and cyrillic": _ranges((0x391, 0x3C9), (0x400, 0x45F)),
    "rtl and indic": _ranges((0x5D0, 0x5EA), (0x620, 0x64A), (0x905, 0x939),
                             (0xE01, 0xE30)),
    "kana and hangul": _ranges((0x3041, 0x3096), (0x30A1, 0x30FA),
                               (0xAC00, 0xAC40), (0x1100, 0x1112)),
    "cjk": _ranges((0x4E00, 0x4E80), (0xF900, 0xF910), (0x3000, 0x303F),
                   (0xFF01, 0xFF5E)),
    "spaces": list("\t\n\r \x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028"
                   "\u2029\u202f\u205f\u3000") + _ranges((0x2000, 0x200A)),
    "controls": _ranges((0x0, 0x8), (0xE, 0x1B), (0x7F, 0x9F)),
    "format": list("\xad\u061c\u180e\u2060\u2061\u2062\u2063\u2064\ufeff"
                   "\ufffd\ufff9") + _ranges((0x200B, 0x200F),
                                             (0x202A, 0x202E)),
    "combining marks": _ranges((0x300, 0x36F), (0x483, 0x489),
                               (0x591, 0x5BD), (0x64B, 0x65F),
                               (0x93C, 0x94D), (0x1AB0, 0x1ABE),
                               (0x20D0, 0x20F0)) + list(
                                   "\u1b44\u302e\u302f\U0001D165\ufe0f"),
    "emoji": _ranges((0x1F300, 0x1F3FF), (0x1F600, 0x1F64F),
                     (0x1F900, 0x1F9FF), (0x1F1E6, 0x1F1FF)) + [
                         "\u200d", "\U0001F3FB"],
    "special letters": list("ΣΑΣ İıßẞﬁﬂÅKǅǈ ͅ ΐ ﬀ ŉ") + [
        "\u212b", "\u212a", "\u1e9e", "\U0001D15F", "\uE000", "\u0378"],
}


def _random_texts(words, count, seed=1):
  rng = random.Random(seed)
  names = sorted(POOLS)
  texts = []
  for _ in range(count):
    parts = []
    for _ in range(rng.randint(1, 12)):
      if rng.random() < 0.3:
        word = rng.choice(words)
        parts.append(word.capitalize() if rng.random() < 0.3 else word)
      else:
        pool = POOLS[rng.choice(names)]
        parts.append("".join(rng.choice(pool)
                             for _ in range(rng.randint(1, 8))))
      parts.append(rng.choice(["", " ", " ", "\u00a0", "\n"]))
    texts.append("".join(parts))
  return texts


# The cases: NUL, non-breaking and ideographic spaces, format
# characters, U+FFFD, controls, a long Cyrillic word.
HARD_CASES = [
    "Hello world\x00 and after",
    "It is 10\xa0km away",
    "Tokyo\u3000station",
    "co\xadoperate",
    "zero\u200bwidth joiner\u200dhere",
    "\ufeffBOM at the start",
    "bad\ufffdbyte",
    "bell\x07 and escape\x1b[0m",
    "line\u2028separator and\u2029paragraph",
    "\u0414" * 60,
    "Ünïcödé ÀÉÎÕÜ Straße",
    "한국어 텍스트와 日本語",
    "e\u0301 vs \u00e9",
    # Unassigned code points (Cn), kept; in a CJK block, isolated as an
    # ideograph.
    "un\u0378assigned \U0002b73f\U0002fa1fcjk",
]


def _cased_vocab(path):
  """The uncased vocabulary plus cased and accented forms of its words.

  Enough for a cased tokenizer to tell case and accents apart.
  """
  with open(VOCAB, encoding="utf-8") as f:
    tokens = [line.rstrip("\n") for line in f]
  known = set(tokens)
  extra = []
  for token in tokens[1996:12000]:
    for variant in (token.capitalize(), token.upper()):
      if variant.isalpha() and variant not in known:
        known.add(variant)
        extra.append(variant)
  for char in POOLS["latin"] + POOLS["greek and cyrillic"]:
    for variant in (char, "##" + char):
      if variant not in known:
        known.add(variant)
        extra.append(variant)
  path.write_text("\n".join(tokens + extra) + "\n", encoding="utf-8")
  return str(path)


class Vocabulary:
  """A vocabulary's exported preprocessing model and its two references."""

  def __init__(self, vocab_file, lower_case, export_dir):
    export_tfhub_lib.export_preprocessing(
        export_dir, vocab_file=vocab_file, do_lower_case=lower_case,
        default_seq_length=SEQ_LENGTH)
    self.preprocess = hub.load(export_dir)
    self.full = tokenization.FullTokenizer(vocab_file, lower_case)
    # Positional: with transformers 5, vocab_file=path silently builds a
    # five-token vocabulary.
    self.fast = transformers.BertTokenizerFast(vocab_file,
                                               do_lower_case=lower_case)
    with open(vocab_file, encoding="utf-8") as f:
      lines = [line.strip() for line in f]
    assert len(self.fast) == len(lines)
    self.words = [line for line in lines if line.isalpha()][2000:]

  def references(self, texts):
    """transformers' ids, and which texts Model Garden's equal."""
    fast = self.fast(texts, add_special_tokens=False)["input_ids"]
    full = [self.full.convert_tokens_to_ids(self.full.tokenize(t))
            for t in texts]
    return fast, [a == b for a, b in zip(fast, full)]


@pytest.fixture(scope="module", params=["uncased", "cased"])
def vocabulary(request, tmp_path_factory):
  tmp = tmp_path_factory.mktemp(request.param)
  if request.param == "uncased":
    return Vocabulary(VOCAB, True, str(tmp / "preprocess"))
  return Vocabulary(_cased_vocab(tmp / "vocab.txt"), False,
                    str(tmp / "preprocess"))


def test_random_text_ids_equal_bert(vocabulary):
  texts = HARD_CASES + _random_texts(vocabulary.words, NUM_RANDOM)
  fast, agree = vocabulary.references(texts)
  # The references agree on almost all of it, so the comparison has teeth.
  assert sum(agree) > 0.9 * len(texts)
  assert all(agree[:len(HARD_CASES)])
  tokens = vocabulary.preprocess.tokenize(tf.constant(texts))
  ours = tokens.merge_dims(-2, -1).to_list()
  wrong = [(t, o, f) for t, o, f, a in zip(texts, ours, fast, agree)
           if a and o != f]
  assert not wrong, f"{len(wrong)} texts differ, e.g. {wrong[:3]}"

  # The root call and .bert_pack_inputs pack them as transformers does.
  kept = [t for t, a in zip(texts, agree) if a]
  theirs = vocabulary.fast(kept, padding="max_length", truncation=True,
                           max_length=SEQ_LENGTH, return_tensors="np")
  root = vocabulary.preprocess(tf.constant(kept))
  np.testing.assert_array_equal(root["input_word_ids"], theirs["input_ids"])
  np.testing.assert_array_equal(root["input_mask"], theirs["attention_mask"])
  pairs = vocabulary.fast(kept[:-1], kept[1:], padding="max_length",
                          truncation="longest_first", max_length=SEQ_LENGTH,
                          return_tensors="np")
  packed = vocabulary.preprocess.bert_pack_inputs(
      [vocabulary.preprocess.tokenize(tf.constant(t))
       for t in (kept[:-1], kept[1:])], seq_length=SEQ_LENGTH)
  # Round robin and longest-first cut pairs alike unless both are long.
  short = np.array([len(a) + len(b) <= SEQ_LENGTH - 3 or min(
      len(a), len(b)) <= (SEQ_LENGTH - 3) // 2 for a, b in zip(
          vocabulary.fast(kept[:-1], add_special_tokens=False)["input_ids"],
          vocabulary.fast(kept[1:], add_special_tokens=False)["input_ids"])])
  for ours_key, their_key in (("input_word_ids", "input_ids"),
                              ("input_type_ids", "token_type_ids")):
    np.testing.assert_array_equal(packed[ours_key].numpy()[short],
                                  pairs[their_key][short])


def test_chosen_rules_follow_transformers(vocabulary):
  """Where the references differ, ids are transformers'."""
  texts = ["ΟΔΟΣ ΣΟΦΟΣ", "x" * 100, "x" * 101, "\u0416" * 150,
           "private\ue000use \U000f0000 \U0010fffd"]
  fast, agree = vocabulary.references(texts)
  assert not all(agree)  # final sigma; 101-400 characters
  assert not agree[4]  # private use (Co): the original keeps it
  ours = vocabulary.preprocess.tokenize(tf.constant(texts))
  assert ours.merge_dims(-2, -1).to_list() == fast
  unknown = vocabulary.fast.convert_tokens_to_ids("[UNK]")
  assert fast[2] == fast[3] == [unknown] != fast[1]


def test_offsets_point_into_the_input():
  tokenizer = electra_layers.BertTokenizer(
      vocab_file=VOCAB, lower_case=True, tokenize_with_offsets=True)
  fast = transformers.BertTokenizerFast(VOCAB, do_lower_case=True)
  basic = tokenization.BasicTokenizer(do_lower_case=True)
  vocab = list(fast.convert_ids_to_tokens(range(fast.vocab_size)))
  words = ["unaffable", "running", "Kaffee", "naïve"]
  texts = HARD_CASES + _random_texts(words, 300, seed=2)
  ids, begins, ends = tokenizer(tf.constant(texts))
  for i, text in enumerate(texts):
    raw = text.encode("utf-8")
    for piece, begin, end in zip(ids[i].flat_values.numpy(),
                                 begins[i].flat_values.numpy(),
                                 ends[i].flat_values.numpy()):
      source = raw[begin:end].decode("utf-8")
      assert source, (text, begin, end)
      if vocab[piece] != "[UNK]":
        # What BERT makes of the piece's source holds the piece.
        assert vocab[piece].lstrip("#") in "".join(basic.tokenize(source))

  # On text without the characters the references disagree on, offsets
  # equal transformers' (made character offsets).
  rng = random.Random(3)
  plain = [" ".join(rng.choice(words + POOLS["cjk"] + list(",.!?é"))
                    for _ in range(rng.randint(1, 20))) for _ in range(100)]
  ids, begins, ends = tokenizer(tf.constant(plain))
  for i, text in enumerate(plain):
    theirs = fast(text, add_special_tokens=False, return_offsets_mapping=True)
    assert ids[i].flat_values.numpy().tolist() == theirs["input_ids"]
    raw = text.encode("utf-8")
    to_chars = lambda b: len(raw[:b].decode("utf-8"))  # noqa: E731
    assert [(to_chars(b), to_chars(e)) for b, e in
            zip(begins[i].flat_values.numpy(), ends[i].flat_values.numpy())
           ] == theirs["offset_mapping"], text


@pytest.mark.parametrize("content, message", [
    (b"[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n",
     r"vocab.txt lacks the special token\(s\) \[UNK\]"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", r"vocab.txt is not UTF-8 text \(byte 0"),
    (b"\xef\xbb\xbf[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n",
     r"lacks the special token\(s\) \[PAD\]"),
])
def test_bad_vocabulary_is_refused_by_name(tmp_path, content, message):
  vocab = tmp_path / "vocab.txt"
  vocab.write_bytes(content)
  with pytest.raises(ValueError, match=message):
    electra_layers.BertTokenizer(vocab_file=str(vocab), lower_case=True)


def test_windows_line_ends_in_a_vocabulary(tmp_path):
  tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]
  vocab = tmp_path / "vocab.txt"
  vocab.write_bytes("\r\n".join(tokens).encode() + b"\r\n")
  assert bert_tokenizer.read_vocab(str(vocab)) == tokens
  tokenize = electra_layers.BertTokenizer(vocab_file=str(vocab),
                                          lower_case=True)
  assert tokenize(tf.constant(["Hello world!"])).merge_dims(
      1, -1).to_list() == [[5, 6, 1]]
