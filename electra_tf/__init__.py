"""ELECTRA for TensorFlow 2 / tf_keras, in the style of the Model Garden."""

import os
import sys

# TensorFlow's oneDNN CPU kernels (_MklBatchMatMulV2, _MklSoftmax, ...). On
# its own TensorFlow turns them on only on CPUs with AVX512-VNNI/BF16,
# AVX-VNNI or AMX; elsewhere (AVX2 CPUs such as AMD EPYC) it runs its own
# kernels, whose batched attention matmuls are 2-3x slower than oneDNN's.
# The variable is read once, when TensorFlow starts, so this only takes
# effect when electra_tf is imported first (our binaries are); it changes no
# GPU or TPU kernel, and TF_ENABLE_ONEDNN_OPTS=0 in the environment wins.
if "tensorflow" not in sys.modules:
  os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
