"""Elapsed time and time left, for progress lines a person can plan by."""

import math
import time


def clock(seconds: float) -> str:
  """`seconds` as h:mm:ss, or m:ss under an hour."""
  minutes, seconds = divmod(int(round(seconds)), 60)
  hours, minutes = divmod(minutes, 60)
  return (f"{hours}:{minutes:02d}:{seconds:02d}" if hours
          else f"{minutes}:{seconds:02d}")


class StepTimer:
  """The time of a run of `total_steps`, this process starting at
  `first_step` (later than 0 when resumed).

  The time left is the pace so far (evaluations and checkpoints included,
  since they recur) times the steps to go; the first steps carry the
  tracing, so early estimates run high.
  """

  def __init__(self, total_steps: int, first_step: int = 0):
    self.total_steps = total_steps
    self._first_step = first_step
    self._start = time.perf_counter()

  def elapsed(self) -> float:
    return time.perf_counter() - self._start

  def seconds_left(self, step: int) -> float:
    done = step - self._first_step
    if done <= 0:
      return float("nan")
    return self.elapsed() / done * (self.total_steps - step)

  def line(self, step: int) -> str:
    """"elapsed m:ss  left m:ss" at `step`."""
    left = self.seconds_left(step)
    return (f"elapsed {clock(self.elapsed())}  left "
            f"{'?' if math.isnan(left) else clock(left)}")
