"""Runs a binary's main so that user errors end in one line, not a traceback.

A bad flag, file, config or checkpoint raises one of `USER_ERRORS` with a
message that names what is wrong; the binary prints it and exits with status
1. `--verbose` (or ELECTRA_TF_TRACEBACK=1) shows the traceback too. Other
exceptions, programming errors, keep theirs. The libraries' own log lines
are hidden (`quiet_start`) unless --verbose or ELECTRA_TF_VERBOSE=1.
"""

import os
import sys

from absl import app
from absl import flags

from electra_tf import quiet_start
from electra_tf import run_lock

VERBOSE = flags.DEFINE_bool(
    "verbose", False, "Show TensorFlow's and the other libraries' log lines "
    "(also with the environment variable ELECTRA_TF_VERBOSE=1) and the "
    "traceback of an error in the input (also ELECTRA_TF_TRACEBACK=1).")

# app.UsageError included: absl would print the whole --help before it.
USER_ERRORS = (app.UsageError, ValueError, KeyError, FileNotFoundError,
               FileExistsError, NotADirectoryError, IsADirectoryError,
               PermissionError, run_lock.DirectoryInUseError)


def run(main):
  """`app.run(main)`, with user errors as `error: <message>` and status 1."""

  def guarded(argv):
    quiet_start.quiet_libraries()
    try:
      return main(argv)
    except USER_ERRORS as e:
      if VERBOSE.value or os.environ.get("ELECTRA_TF_TRACEBACK") == "1":
        raise
      # KeyError's str() quotes its message.
      message = e.args[0] if isinstance(e, KeyError) and e.args else e
      sys.stderr.write(f"error: {message}\n(--verbose shows where)\n")
      sys.exit(1)

  app.run(guarded)
