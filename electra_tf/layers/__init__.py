"""Keras layers specific to ELECTRA; generic ones come from Model Garden."""

from electra_tf.layers.attention import MatmulAttention
from electra_tf.layers.dropout import Dropout
from electra_tf.layers.embeddings import ElectraEmbeddings
from electra_tf.layers.layer_norm import LayerNormalization
from electra_tf.layers.rtd_head import ReplacedTokenDetectionHead
from electra_tf.layers.transformer_block import TransformerBlock
from electra_tf.layers.bert_tokenizer import BertTokenizer
from electra_tf.layers.classification_head import ClassificationHead
