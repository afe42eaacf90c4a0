"""Turns raw text into sharded TFRecords for ELECTRA pretraining.

  python -m electra_tf.data.build_pretraining_dataset \
    --input_files='corpus/*.txt' --vocab_file=data/vocab_uncased.txt \
    --output_dir=/tmp/pretrain_data --max_seq_length=128 --num_processes=4

See `pretraining_records` for the format and the packing.
"""

# First, before TensorFlow loads: its start-up lines are hidden.
from electra_tf import quiet_start  # pylint: disable=unused-import,g-bad-import-order

from absl import flags

from electra_tf import cli
from electra_tf import paths
from electra_tf.data import pretraining_records

_INPUT_FILES = flags.DEFINE_list(
    "input_files", None, "Text files or globs, comma-separated.")
_VOCAB_FILE = flags.DEFINE_string("vocab_file", None, "WordPiece vocabulary.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where shards go.")
_MAX_SEQ_LENGTH = flags.DEFINE_integer("max_seq_length", 128,
                                       "Tokens per example.", lower_bound=5)
_DO_LOWER_CASE = flags.DEFINE_bool("do_lower_case", True, "Uncased vocab.")
_BLANKS_SEPARATE_DOCS = flags.DEFINE_bool(
    "blanks_separate_docs", True,
    "Blank lines end documents; if false, a file is one stream of sentences.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", 1,
                                      "Files tokenized in parallel.",
                                      lower_bound=1)
paths.require_literal("output_dir")  # run_pretraining globs the shards
_SEED = flags.DEFINE_integer("seed", 12345, "Seed for packing choices.")


def main(argv):
  del argv
  pretraining_records.build(
      _INPUT_FILES.value, _VOCAB_FILE.value, _OUTPUT_DIR.value,
      _MAX_SEQ_LENGTH.value, _DO_LOWER_CASE.value, _BLANKS_SEPARATE_DOCS.value,
      _NUM_PROCESSES.value, _SEED.value)


if __name__ == "__main__":
  flags.mark_flags_as_required(["input_files", "vocab_file", "output_dir"])
  cli.run(main)
