"""Our binaries' output starts with our lines, not TensorFlow's.

Each binary imports this module before TensorFlow, whose C++ logging reads
its level once, as it loads. Unless the command line has --verbose or the
environment ELECTRA_TF_VERBOSE=1, that hides TensorFlow's C++ lines below
FATAL: device probing that reads as failure on a machine without a GPU
("failed call to cuInit: INTERNAL: CUDA error"), oneDNN and CPU-feature
notices. A TF_CPP_MIN_LOG_LEVEL of the user's own wins. `quiet_libraries`,
called once the flags are parsed, does the same for the Python side.
What matters is said once, in our words: the devices, strategy and threads
(common_flags.configure_runtime).
"""

import logging
import os
import sys
import warnings

from absl import flags
from absl import logging as absl_logging


def verbose() -> bool:
  """Whether the user asked for every library's lines."""
  if os.environ.get("ELECTRA_TF_VERBOSE") == "1":
    return True
  return any(arg in ("--verbose", "--verbose=true", "--verbose=1")
             for arg in sys.argv[1:])


def quiet_libraries():
  """Hides the libraries' Python log lines below ERROR (TensorFlow's
  warnings about values a restore did not use, Model Garden's optimizer
  settings at INFO) and their deprecation warnings, unless `verbose()`."""
  if verbose():
    return
  if not flags.FLAGS["verbosity"].present:
    absl_logging.set_verbosity(absl_logging.ERROR)
  logging.getLogger("tensorflow").setLevel(logging.ERROR)


if not verbose():
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  # tensorflow_hub imports pkg_resources, which warns on import.
  warnings.filterwarnings("ignore", message="pkg_resources is deprecated",
                          category=UserWarning)
