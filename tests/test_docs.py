"""The README and docs/ stay short, linked and runnable as written.

Every relative link points to a file of the repository, and every `python -m
<module>` or `python <script>.py` command in a ```bash block names a module
or script that exists and only flags it defines (as its `--helpfull` lists
them). Nothing is trained.
"""

import dataclasses
import functools
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from electra_tf import configs

from conftest import REPO

README = os.path.join(REPO, "README.md")
PAGES = [README] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
MAX_README_LINES = 220

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
# Commands whose flags are not ours.
_SKIPPED_MODULES = ("pip", "pytest", "venv")
_SEPARATORS = ("&&", "||", ";", "|", "&")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_FLAG = re.compile(r"^\[?--([A-Za-z0-9_]+)")
_DEFINED = re.compile(r"^\s+--(\[no\])?([A-Za-z0-9_]+)", re.MULTILINE)


def _read(path):
  with open(path, encoding="utf-8") as f:
    return f.read()


def _name(path):
  return os.path.relpath(path, REPO)


def _links(path):
  """(line number, target) of each markdown link outside code."""
  text = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), _read(path))
  found = []
  for number, line in enumerate(text.splitlines(), 1):
    for target in _LINK.findall(_INLINE_CODE.sub("", line)):
      found.append((number, target))
  return found


def _relative_links():
  return [(path, number, target) for path in PAGES
          for number, target in _links(path)
          if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]


def _commands(path):
  """(line number, argv) of each command in the page's ```bash blocks.

  Continuation lines (ending in a backslash) join their command; `&&`, `;`
  and pipes separate commands; comment lines are left out.
  """
  text = _read(path)
  commands = []
  for block in _FENCE.finditer(text):
    if block.group(1) != "bash":
      continue
    first = text.count("\n", 0, block.start(2)) + 1
    pending, start = "", None
    for offset, line in enumerate(block.group(2).splitlines()):
      if not pending and line.lstrip().startswith("#"):
        continue
      start = first + offset if start is None else start
      if line.rstrip().endswith("\\"):
        pending += line.rstrip()[:-1] + " "
        continue
      lexer = shlex.shlex(pending + line, posix=True, punctuation_chars=True)
      lexer.whitespace_split = True
      command = []
      for token in list(lexer) + [";"]:
        if token in _SEPARATORS:
          if command:
            commands.append((start, command))
          command = []
        else:
          command.append(token)
      pending, start = "", None
  return commands


def _python_commands():
  """(page, line, kind, target, flags): kind "module" or "script"."""
  found = []
  for path in PAGES:
    for number, argv in _commands(path):
      while argv and _ASSIGNMENT.match(argv[0]):
        argv = argv[1:]  # VARIABLE=value before the command
      if not argv or os.path.basename(argv[0]) not in ("python", "python3"):
        continue
      if len(argv) > 2 and argv[1] == "-m":
        kind, target, args = "module", argv[2], argv[3:]
        if target in _SKIPPED_MODULES:
          continue
      elif len(argv) > 1 and argv[1].endswith(".py"):
        kind, target, args = "script", argv[1], argv[2:]
      else:
        continue
      flags = [m.group(1) for m in map(_FLAG.match, args) if m]
      found.append((_name(path), number, kind, target, flags))
  return found


def _source(kind, target):
  """The file that runs for `target`, or None."""
  if kind == "script":
    candidates = [target]
  else:
    base = target.replace(".", os.sep)
    candidates = [base + ".py", os.path.join(base, "__main__.py")]
  for candidate in candidates:
    path = os.path.join(REPO, candidate)
    if os.path.isfile(path):
      return path
  return None


# Imports each (kind, target) given as "kind:target" in turn, as running it
# would but without calling main, and prints {"kind:target": [flags]}: the
# flags defined once it is imported, as its --helpfull lists them (both
# spellings of a boolean). One process for all: each start costs seconds.
# Binaries define flags of the same names, so the modules that defined flags
# are dropped, with their flags, before the next target; the rest (the
# library, which registers Keras classes once) stays imported.
_LIST_FLAGS = """
import json, os, runpy, sys
from absl import app, flags
import tensorflow, tf_keras  # noqa: F401  (imported once, for every target)
app.define_help_flags()  # --help, --helpfull, ...: app.run adds them
baseline, baseline_flags = set(sys.modules), set(flags.FLAGS)
listed = {}
for item in sys.argv[1:]:
  kind, target = item.split(":", 1)
  if kind == "module":
    runpy.run_module(target, run_name="_listed")
  else:
    sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    runpy.run_path(target, run_name="_listed")
    sys.path.pop(0)
  names = set()
  for name in flags.FLAGS:
    names.add(name)
    if isinstance(flags.FLAGS[name], flags.BooleanFlag):
      names.add("no" + name)
  listed[item] = sorted(names)
  defining = set(flags.FLAGS.flags_by_module_dict())
  for name in set(sys.modules) - baseline:
    if name in defining:
      del sys.modules[name]
      parent, _, child = name.rpartition(".")
      if parent in sys.modules:  # else `from parent import child` finds it
        vars(sys.modules[parent]).pop(child, None)
  for name in set(flags.FLAGS) - baseline_flags:
    delattr(flags.FLAGS, name)
print(json.dumps(listed))
"""


@functools.lru_cache(maxsize=None)
def _all_defined_flags():
  """{(kind, target): frozenset of flags} for every documented command."""
  items = sorted({f"{kind}:{target}" for _, _, kind, target, _ in
                  _python_commands() if _source(kind, target)})
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  result = subprocess.run([sys.executable, "-c", _LIST_FLAGS, *items],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  listed = json.loads(result.stdout.splitlines()[-1])
  return {tuple(item.split(":", 1)): frozenset(names)
          for item, names in listed.items()}


def _defined_flags(kind, target):
  return _all_defined_flags()[(kind, target)]


def test_readme_is_a_short_front_page():
  lines = _read(README).count("\n")
  assert lines <= MAX_README_LINES, (
      f"README.md has {lines} lines; move detail into docs/")


def test_there_are_pages_links_and_commands_to_check():
  assert len(PAGES) > 1
  assert _relative_links()
  assert _python_commands()


@pytest.mark.parametrize(
    "page, line, target", [(_name(p), n, t) for p, n, t in _relative_links()],
    ids=lambda value: str(value))
def test_relative_link_resolves(page, line, target):
  path = target.split("#", 1)[0]
  if not path:
    return  # an anchor on the same page
  resolved = os.path.normpath(
      os.path.join(REPO, os.path.dirname(page), path))
  assert os.path.exists(resolved), (
      f"{page}:{line}: link {target} points to {_name(resolved)}, which does "
      "not exist")


@pytest.mark.parametrize(
    "page, line, kind, target, flags", _python_commands(),
    ids=lambda value: str(value))
def test_command_runs_a_module_that_defines_its_flags(page, line, kind,
                                                      target, flags):
  assert _source(kind, target), f"{page}:{line}: no {kind} {target}"
  unknown = sorted(set(flags) - _defined_flags(kind, target))
  assert not unknown, (f"{page}:{line}: {target} defines no flag " +
                       ", ".join(f"--{name}" for name in unknown))


def _reference_rows():
  """Cells of the config-key tables of docs/pretraining.md and
  finetuning.md: {key: default cell}."""
  rows = {}
  for page in ("pretraining.md", "finetuning.md"):
    text = _read(os.path.join(REPO, "docs", page))
    for line in text.splitlines():
      cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
      if line.startswith("| `") and len(cells) >= 2:
        for key in re.findall(r"`([a-z_]+)`", cells[0]):
          rows.setdefault(key, []).append(cells[1])
  return rows


def _same_default(cell, value):
  cell = cell.strip("`")
  if isinstance(value, bool):
    return cell == str(value).lower()
  if isinstance(value, (int, float)):
    try:
      return float(cell.replace(",", "")) == float(value)
    except ValueError:
      return False
  return cell == (value if value else '""')


@pytest.mark.parametrize("section", [
    configs.EncoderConfig, configs.PretrainerConfig, configs.TrainConfig,
    configs.FinetuneConfig], ids=lambda cls: cls.__name__)
def test_every_config_key_is_documented_with_its_default(section):
  # The reference tables are written by hand; this keeps them the code's.
  rows = _reference_rows()
  for field in dataclasses.fields(section):
    default = getattr(section(), field.name)
    if dataclasses.is_dataclass(default):
      continue  # a nested section, with a table of its own
    assert field.name in rows, f"config key {field.name} is not in docs/"
    assert any(_same_default(cell, default) for cell in rows[field.name]), (
        f"docs give {field.name} the default {rows[field.name]}, the code "
        f"{default!r}")
