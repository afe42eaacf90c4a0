"""One writer per run directory (run_lock) for pretraining and fine-tuning."""

import os
import signal
import subprocess
import sys

import pytest

from electra_tf import run_lock

from conftest import REPO, TEXT

_HOLD = """
import sys, time
from electra_tf import run_lock
with run_lock.hold(sys.argv[1]):
  print("held", flush=True)
  time.sleep(600)
"""


def test_a_held_directory_is_refused_until_released(tmp_path):
  with run_lock.hold(str(tmp_path)):
    with pytest.raises(run_lock.DirectoryInUseError,
                       match=f"in use by process {os.getpid()} on "):
      with run_lock.hold(str(tmp_path)):
        pass
  with run_lock.hold(str(tmp_path)):  # released on exit
    pass


def test_a_killed_holder_releases_the_directory(tmp_path):
  holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(run_lock.DirectoryInUseError,
                       match=f"process {holder.pid} "):
      with run_lock.hold(str(tmp_path)):
        pass
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  with run_lock.hold(str(tmp_path)):
    pass


@pytest.mark.parametrize("binary, flags", [
    ("run_pretraining", ["--config=mini", f"--train_text={TEXT}",
                         "--num_train_steps=2", "--noeval"]),
    ("run_finetuning", ["--config=mini", "--task=sst", "--train_file=" +
                        os.path.join(REPO, "tests", "data", "movie_reviews",
                                     "sst", "dev.tsv")]),
])
def test_binaries_refuse_a_directory_in_use(binary, flags, tmp_path):
  directory_flag = ("--model_dir" if binary == "run_pretraining"
                    else "--output_dir")
  with run_lock.hold(str(tmp_path)):
    run = subprocess.run(
        [sys.executable, "-m", f"electra_tf.{binary}",
         f"{directory_flag}={tmp_path}", *flags], cwd=REPO,
        capture_output=True, text=True, timeout=300, check=False)
  assert run.returncode != 0
  assert f"is in use by process {os.getpid()}" in run.stderr
  assert os.listdir(tmp_path) == [run_lock.LOCK_NAME]  # nothing written
