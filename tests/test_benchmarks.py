"""The tokenization benchmark runs and reports every contender."""

import os
import re
import subprocess
import sys

from conftest import REPO


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
