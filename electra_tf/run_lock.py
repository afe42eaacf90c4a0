"""One writer per run directory: a lock held for the run's life.

The lock is `fcntl.flock` on `<directory>/.lock`, which names its holder (pid
and host) for the refusal message. The kernel releases it when the holder
exits however it ends (even `kill -9`), so a dead run's lock never blocks the
next one and there is nothing stale to take over. It guards local disks; NFS
honours it only where flock is forwarded to the server, and object stores
(`gs://`, `s3://`) have no lock: there, start one run per directory yourself.
"""

import contextlib
import fcntl
import os
import socket

LOCK_NAME = ".lock"


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
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)
