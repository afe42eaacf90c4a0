"""ELECTRA encoder networks."""

from electra_tf.networks.electra_encoder import ElectraEncoder
from electra_tf.networks.electra_encoder import make_embeddings
