"""Rows of TSV, CSV and JSON-lines files, with errors that name file and line.

Every row comes back as (line number, {column: value}). TSV is read as GLUE
writes it: tab-separated, quotes taken literally. CSV follows RFC 4180.
JSON lines hold one object per line. Files without a header row are read
with integer column names (0, 1, ...).
"""

import csv
import json
import os
from typing import Dict, Iterator, Sequence, Tuple, Union

Column = Union[str, int]
Row = Dict[Column, str]


class DataError(ValueError):
  """A problem in a data file, located by file and line."""

  def __init__(self, path, line, message):
    super().__init__(f"{path}:{line}: {message}" if line else
                     f"{path}: {message}")


def file_format(path: str) -> str:
  extension = os.path.splitext(path)[1].lower().lstrip(".")
  if extension not in ("tsv", "csv", "jsonl", "json"):
    raise DataError(path, None, "unknown data format: the name must end in "
                    ".tsv, .csv or .jsonl")
  return "jsonl" if extension == "json" else extension


def decoded_lines(path: str) -> Iterator[Tuple[int, str]]:
  """(line number, text) of a UTF-8 file, decoded line by line so that an
  encoding error names its line. A byte-order mark (Excel's "CSV UTF-8")
  is dropped."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"Data file not found: {path}")
  with open(path, "rb") as handle:
    for line, raw in enumerate(handle, 1):
      try:
        yield line, raw.decode("utf-8-sig" if line == 1 else "utf-8")
      except UnicodeDecodeError as e:
        raise DataError(path, line, f"not valid UTF-8 ({e.reason})") from None


def read_rows(path: str, has_header: bool = True,
              required: Sequence[Column] = ()) -> Iterator[Tuple[int, Row]]:
  """(line, row) pairs of `path`; every row must have the `required` columns."""
  kind = file_format(path)
  lines = decoded_lines(path)
  if kind == "jsonl":
    rows = _json_rows(path, lines)
  else:
    rows = _delimited_rows(path, lines, "\t" if kind == "tsv" else ",",
                           has_header, required)
  for line, row in rows:
    missing = [c for c in required if row.get(c) is None]
    if missing:
      raise DataError(path, line, f"missing column(s) {missing}")
    yield line, row


def _json_rows(path, lines):
  for line, text in lines:
    if not text.strip():
      continue
    try:
      row = json.loads(text)
    except json.JSONDecodeError as e:
      raise DataError(path, line, f"invalid JSON ({e.msg})") from None
    if not isinstance(row, dict):
      raise DataError(path, line, "each line must be a JSON object")
    yield line, {k: v if isinstance(v, str) or v is None else str(v)
                 for k, v in row.items()}


def _delimited_rows(path, lines, delimiter, has_header, required):
  if delimiter == "\t":
    records = ((line, text.rstrip("\r\n").split("\t")) for line, text in lines)
  else:
    reader = csv.reader((text for _, text in lines), delimiter=delimiter)
    records = ((reader.line_num, fields) for fields in _csv_records(path, reader))
  header = None
  for line, fields in records:
    if not any(f.strip() for f in fields):
      continue
    if has_header and header is None:
      header = fields
      absent = [c for c in required if c not in header]
      if absent:
        raise DataError(path, line, f"header lacks column(s) {absent}; it has "
                        f"{header}")
      continue
    names = header if header is not None else range(len(fields))
    if header is not None and len(fields) != len(header):
      raise DataError(path, line, f"{len(fields)} fields where the header has "
                      f"{len(header)}")
    yield line, dict(zip(names, fields))


def _csv_records(path, reader):
  try:
    yield from reader
  except csv.Error as e:
    raise DataError(path, reader.line_num, f"malformed CSV ({e})") from None
