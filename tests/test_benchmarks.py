"""The tokenization benchmark runs and reports every contender."""

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import harness  # noqa: E402  pylint: disable=wrong-import-position


def test_tokenization_benchmark_reports_each_tokenizer():
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, "benchmarks", "tokenization.py"),
       "--lines=300", "--batch_size=100", "--rounds=1"],
      capture_output=True, text=True, cwd=REPO, timeout=600, check=True)
  rows = re.findall(r"^\| (.+?) \| ([\d,]+) \| ([\d.]+)x \|$", result.stdout,
                    re.MULTILINE)
  assert [name for name, _, _ in rows] == [
      "electra_tf", "Model Garden BertTokenizer",
      "transformers BertTokenizerFast"]
  assert all(int(rate.replace(",", "")) > 0 for _, rate, _ in rows)
  assert rows[0][2] == "1.00"


def test_busy_processes_run_while_inside_and_are_gone_after():
  with harness.busy_processes(2) as spinners:
    assert len(spinners) == 2
    assert all(spinner.poll() is None for spinner in spinners)
  assert all(spinner.returncode is not None for spinner in spinners)


def test_pytorch_benchmark_reports_each_case():
  """Two of the four cases, small, with the thread flag. Without busy loops:
  a spinner would take the core the other test worker runs on."""
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, "benchmarks", "versus_pytorch.py"),
       "--case=forward", "--case=finetune_minilm", "--scale=0.1", "--steps=1",
       "--rounds=1", "--threads=1"],
      capture_output=True, text=True, cwd=REPO, timeout=600, check=True)
  assert ("TensorFlow intra-op threads 1, torch threads 1, 0 busy processes"
          in result.stdout)
  rows = re.findall(r"^(ELECTRA-Small forward|MiniLM \(6 x 384\) fine-tune "
                    r"step).* ([\d.]+) +([\d.]+) +([\d.]+)x$", result.stdout,
                    re.MULTILINE)
  assert [row[0] for row in rows] == ["ELECTRA-Small forward",
                                      "MiniLM (6 x 384) fine-tune step"]
  for _, ours, theirs, ratio in rows:
    assert float(ratio) == pytest.approx(float(theirs) / float(ours), rel=0.03)
