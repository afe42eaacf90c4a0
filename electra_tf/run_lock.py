"""One writer per run directory: a lock held for the run's life.

The lock is `fcntl.flock` on `<directory>/.lock`, which names its holder (pid
and host) for the refusal message. The kernel releases it when the holder
exits however it ends (even `kill -9`), so a dead run's lock never blocks the
next one and there is nothing stale to take over. It guards local disks; NFS
honours it only where flock is forwarded to the server, and object stores
(`gs://`, `s3://`) have no lock: there, start one run per directory yourself.
Holding the lock, a run removes the checkpoint staging directories
(`ckpt-7_temp/`) that a killed writer left.
"""

import contextlib
import fcntl
import os
import re
import shutil
import socket

LOCK_NAME = ".lock"
# TensorFlow writes a checkpoint's shards here, then merges them into
# `ckpt-7.index` / `.data-*`; a kill in between leaves the directory.
_CHECKPOINT_STAGING = re.compile(r".+-\d+_temp$")


class DirectoryInUseError(RuntimeError):
  """Another live process writes this directory."""


@contextlib.contextmanager
def hold(directory: str):
  """Holds `directory`'s lock for the body; refuses if another process does."""
  if "://" in directory:
    yield  # no lock on object stores (see the module docstring)
    return
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, LOCK_NAME)
  with open(path, "a+", encoding="utf-8") as f:
    try:
      fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      f.seek(0)
      holder = f.read().strip() or "another process"
      raise DirectoryInUseError(
          f"{directory} is in use by {holder}: one run writes a directory at "
          "a time. Wait for it to finish, or choose another directory.") from None
    f.seek(0)
    f.truncate()
    f.write(f"process {os.getpid()} on {socket.gethostname()}\n")
    f.flush()
    _remove_leftovers(directory)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


def _remove_leftovers(directory: str):
  """Checkpoint staging directories a killed writer left, in `directory` and
  its subdirectories (kept models, workers). Only the lock's holder writes
  here, so none of them is in use."""
  top = [entry.path for entry in os.scandir(directory) if entry.is_dir()]
  nested = [entry.path for parent in top for entry in os.scandir(parent)
            if entry.is_dir()]
  for path in top + nested:  # listed before any removal
    if _CHECKPOINT_STAGING.match(os.path.basename(path)):
      shutil.rmtree(path, ignore_errors=True)
