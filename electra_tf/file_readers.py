"""JSON and YAML files read so that a damaged one is refused by name.

json and yaml say where parsing stopped ("line 1 column 20") but not in
which file, and yaml's errors are not ValueErrors, so the binaries would
end in a traceback. Each reader here raises a `DamagedFileError` naming the
file, what it is, where it breaks and `next_step`.
"""

import json

import tensorflow as tf
import yaml


class DamagedFileError(ValueError):
  """A file that exists but cannot be parsed."""


def first_line(error: Exception) -> str:
  """The gist of a library's error: TensorFlow's messages go on for lines."""
  text = str(error.message if isinstance(error, tf.errors.OpError)
             else error).strip()
  return text.splitlines()[0] if text else type(error).__name__


def _refuse(path: str, what: str, reason: str, next_step: str):
  raise DamagedFileError(
      f"{what} {path} is damaged or not {reason}"
      f"{'. ' + next_step if next_step else ''}") from None


def _text(path: str, what: str, next_step: str) -> str:
  with tf.io.gfile.GFile(path, "rb") as f:
    raw = f.read()
  try:
    return raw.decode("utf-8-sig")
  except UnicodeDecodeError as e:
    _refuse(path, what, f"UTF-8 text (byte {e.start})", next_step)


def read_json(path: str, what: str = "JSON file", next_step: str = ""):
  """The object (dict) of the JSON file at `path`; all of ours hold one."""
  text = _text(path, what, next_step)
  try:
    value = json.loads(text)
  except json.JSONDecodeError as e:
    _refuse(path, what, f"JSON ({e.msg} at line {e.lineno} column {e.colno})",
            next_step)
  if not isinstance(value, dict):
    _refuse(path, what, f"a JSON object (it holds a {type(value).__name__})",
            next_step)
  return value


def read_yaml(path: str, what: str = "YAML file", next_step: str = ""):
  """The value of the YAML file at `path` (None when it is empty)."""
  text = _text(path, what, next_step)
  try:
    return yaml.safe_load(text)
  except yaml.YAMLError as e:
    mark = getattr(e, "problem_mark", None)
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
    problem = getattr(e, "problem", None) or type(e).__name__
    _refuse(path, what, f"YAML ({problem}{where})", next_step)
