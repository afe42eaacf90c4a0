"""WordPiece tokenization that lower-cases exactly as BERT and ELECTRA do."""

import tensorflow as tf
import tf_keras
import tensorflow_text as tf_text
from official.nlp.modeling import layers as nlp_layers


def lower_case_like_bert(texts):
  """str.lower(), then NFD and accents dropped: BERT's uncased normalisation.

  tensorflow_text's own `lower_case=True` applies Unicode case folding, which
  also rewrites letters such as "ß" -> "ss" and so disagrees with the original
  tokenizer (and Hugging Face's) that the released vocabularies were built with.
  """
  texts = tf.strings.lower(texts, encoding="utf-8")
  return tf.strings.regex_replace(tf_text.normalize_utf8(texts, "NFD"),
                                  r"\p{Mn}", "")


@tf_keras.utils.register_keras_serializable(package="electra_tf")
class BertTokenizer(nlp_layers.BertTokenizer):
  """Model Garden's BertTokenizer layer with BERT's own lower-casing."""

  def __init__(self, *, vocab_file: str, lower_case: bool,
               tokenize_with_offsets: bool = False, **kwargs):
    super().__init__(vocab_file=vocab_file, lower_case=False,
                     tokenize_with_offsets=tokenize_with_offsets, **kwargs)
    self._vocab_file = vocab_file
    self._lower_case_like_bert = lower_case

  def call(self, inputs):
    if self._lower_case_like_bert:
      inputs = lower_case_like_bert(inputs)
    return super().call(inputs)

  def get_config(self):
    # Model Garden's layer has none (it raises); the arguments are all of it.
    return dict(tf_keras.layers.Layer.get_config(self),
                vocab_file=self._vocab_file,
                lower_case=self._lower_case_like_bert,
                tokenize_with_offsets=self.tokenize_with_offsets)
