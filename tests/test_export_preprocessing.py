"""The preprocessing SavedModel against Hugging Face's BertTokenizerFast."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401
import transformers

from export import export_tfhub_lib

from conftest import TEXT, VOCAB

VARIED = [
    "Hello, World!",
    "Café crème brûlée — naïve résumé façade.",
    "Über straße ÅNGSTRÖM",
    "东京是日本的首都。北京欢迎你",
    "日本語とEnglishの混在テキスト",
    "",
    "   ",
    "don't stop—can't, won't; e.g. U.S.A. $3.50 (approx.) 50% #hashtag @user",
    "tabs\tand\nnewlines\r\nhere",
    "Emoji 😀 and symbols ©®™ ∑∫√",
    "antidisestablishmentarianism supercalifragilisticexpialidocious",
]


@pytest.fixture(scope="module")
def preprocess(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("pre") / "preprocess")
  export_tfhub_lib.export_preprocessing(path, vocab_file=VOCAB,
                                        do_lower_case=True)
  return hub.load(path)


@pytest.fixture(scope="module")
def hf_tokenizer():
  return transformers.BertTokenizerFast(VOCAB, do_lower_case=True)


def _real_text():
  with open(TEXT, encoding="utf-8") as f:
    lines = [line.strip() for line in f if line.strip()]
  long_text = " ".join(lines[:200])  # thousands of word pieces
  return VARIED + lines[:40:4] + [long_text]


@pytest.mark.parametrize("seq_length", [128, 256])
def test_single_segment_ids_equal_hf(preprocess, hf_tokenizer, seq_length):
  texts = _real_text()
  tokens = preprocess.tokenize(tf.constant(texts))
  ours = preprocess.bert_pack_inputs([tokens], seq_length=seq_length)
  theirs = hf_tokenizer(texts, padding="max_length", truncation=True,
                        max_length=seq_length, return_tensors="np")
  np.testing.assert_array_equal(ours["input_word_ids"], theirs["input_ids"])
  np.testing.assert_array_equal(ours["input_mask"], theirs["attention_mask"])
  np.testing.assert_array_equal(ours["input_type_ids"],
                                theirs["token_type_ids"])
  assert ours["input_word_ids"].shape == (len(texts), seq_length)


def test_root_call_defaults_to_128(preprocess, hf_tokenizer):
  ours = preprocess(tf.constant(VARIED))
  theirs = hf_tokenizer(VARIED, padding="max_length", truncation=True,
                        max_length=128, return_tensors="np")
  np.testing.assert_array_equal(ours["input_word_ids"], theirs["input_ids"])


def test_two_segments_round_robin(preprocess, hf_tokenizer):
  first = ["The first segment is here.", "short", "a " * 100]
  second = ["And the second one follows it.", "a much longer one " * 30,
            "b " * 100]
  tokens = [preprocess.tokenize(tf.constant(s)) for s in (first, second)]
  # 60 word pieces fit beside [CLS] and two [SEP]s: HF's longest_first
  # truncation gives the same split as round robin.
  ours = preprocess.bert_pack_inputs(tokens, seq_length=63)
  theirs = hf_tokenizer(first, second, padding="max_length",
                        truncation="longest_first", max_length=63,
                        return_tensors="np")
  for ours_key, their_key in (("input_word_ids", "input_ids"),
                              ("input_type_ids", "token_type_ids"),
                              ("input_mask", "attention_mask")):
    np.testing.assert_array_equal(ours[ours_key], theirs[their_key])
  # With an odd budget (61), round robin gives the first segment the extra one.
  odd = preprocess.bert_pack_inputs(tokens, seq_length=64)
  row = odd["input_word_ids"][2].numpy()
  assert (row == 1037).sum() == 31 and (row == 1038).sum() == 30  # "a", "b"
  assert odd["input_type_ids"][2].numpy().tolist() == [0] * 33 + [1] * 31


def test_tokenize_and_special_tokens(preprocess, hf_tokenizer):
  tokens = preprocess.tokenize(tf.constant(["Hello unaffable world"]))
  assert isinstance(tokens, tf.RaggedTensor)
  flat = tokens.merge_dims(-2, -1).to_list()[0]
  assert flat == hf_tokenizer("Hello unaffable world",
                              add_special_tokens=False)["input_ids"]
  special = {k: int(v) for k, v in
             preprocess.tokenize.get_special_tokens_dict().items()}
  assert special["vocab_size"] == 30522
  assert (special["padding_id"], special["start_of_sequence_id"],
          special["end_of_segment_id"], special["mask_id"]) == (0, 101, 102,
                                                                103)
