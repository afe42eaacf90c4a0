"""Up-front checks of the paths a binary is given, before any long work."""

import os
import tempfile
from typing import List

from absl import flags
import tensorflow as tf

# TensorFlow finds checkpoint files and SavedModel variables by glob, so a
# path with these characters writes files that can never be found again.
GLOB_CHARACTERS = "*?[]"


def require_literal(*flag_names: str):
  """Refuses, at flag parsing, a path flag holding a glob character."""
  for name in flag_names:
    flags.register_validator(
        name, lambda path: not path or not set(path) & set(GLOB_CHARACTERS),
        message=f"--{name} may not contain any of {GLOB_CHARACTERS}: "
        "TensorFlow reads checkpoint and SavedModel paths as glob patterns; "
        "rename the directory")


def matching_files(pattern: str) -> List[str]:
  """The files `pattern` names, sorted; a file that exists is taken as named,
  even if its name looks like a glob (`data[1].txt`)."""
  if tf.io.gfile.exists(pattern) and not tf.io.gfile.isdir(pattern):
    return [pattern]
  return sorted(tf.io.gfile.glob(pattern))


def check_writable(directory: str):
  """Proves that `directory` can be written (or created, in its nearest
  existing ancestor) without creating anything; names it if not."""
  if "://" in directory:
    return  # object stores: permissions show on the first write
  existing = os.path.abspath(directory)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    raise PermissionError(f"cannot write in {directory}: {existing} is not "
                          "a directory")
  try:
    with tempfile.TemporaryFile(dir=existing):
      pass
  except OSError as e:
    raise PermissionError(
        f"cannot write in {directory}: {e.strerror or e}") from None
