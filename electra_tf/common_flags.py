"""Flags shared by run_pretraining and run_finetuning.

Defined once here, so both binaries can be imported into one process.
"""

import os

from absl import flags
import tensorflow as tf

from electra_tf import runtime

_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")

PARAMS_OVERRIDE = flags.DEFINE_string(
    "params_override", None,
    "Overrides of the experiment config, as 'train.batch_size=8,"
    "finetune.learning_rate=1e-4' or YAML.")
VOCAB_FILE = flags.DEFINE_string(
    "vocab_file", os.path.join(_DATA_DIR, "vocab_uncased.txt"),
    "WordPiece vocabulary (run_finetuning ignores it with --hub_module).")
DO_LOWER_CASE = flags.DEFINE_bool(
    "do_lower_case", True,
    "Lower-case text before tokenizing (run_finetuning ignores it with "
    "--hub_module).")
DISTRIBUTION_STRATEGY = flags.DEFINE_enum(
    "distribution_strategy", "one_device", runtime.STRATEGIES,
    "tf.distribute strategy; multi_worker_mirrored reads TF_CONFIG.")
NUM_GPUS = flags.DEFINE_integer("num_gpus", -1, "-1: all visible GPUs.",
                                lower_bound=-1)
TPU = flags.DEFINE_string("tpu", "",
                          "TPU address for --distribution_strategy=tpu.")
MIXED_PRECISION = flags.DEFINE_enum(
    "mixed_precision", "float32", runtime.PRECISIONS,
    "Keras precision policy (mixed_float16 adds dynamic loss scaling).")
LOG_EVERY = flags.DEFINE_integer(
    "log_every", 10, "Steps between progress lines (examples/s, elapsed and "
    "time left); run_pretraining writes its summaries at each.", lower_bound=1)

# TensorFlow's defaults measured best on a 2-core CPU beside a busy process
# (docs/benchmarks.md, "Against PyTorch"); these are for other machines.
INTRA_OP_THREADS = flags.DEFINE_integer(
    "intra_op_threads", 0, "Threads one op may use on the CPU; 0: "
    "TensorFlow's default (the number of cores).", lower_bound=0)
INTER_OP_THREADS = flags.DEFINE_integer(
    "inter_op_threads", 0, "Ops run at once on the CPU; 0: TensorFlow's "
    "default (the number of cores).", lower_bound=0)


def configure_runtime():
  """Sets the precision policy and thread pools; returns the strategy the
  flags ask for."""
  strategy = runtime.configure(
      DISTRIBUTION_STRATEGY.value, MIXED_PRECISION.value, NUM_GPUS.value,
      TPU.value, INTRA_OP_THREADS.value, INTER_OP_THREADS.value)
  threading = tf.config.threading
  gpus = len(tf.config.list_physical_devices("GPU"))
  devices = f"{gpus} GPU(s) found" if gpus else "no GPU found: on the CPU"
  print(f"{devices}; {type(strategy).__name__} on "
        f"{strategy.num_replicas_in_sync} replica(s), "
        f"{MIXED_PRECISION.value}; CPU threads: intra-op "
        f"{threading.get_intra_op_parallelism_threads() or 'default'}, "
        f"inter-op {threading.get_inter_op_parallelism_threads() or 'default'}",
        flush=True)
  return strategy
