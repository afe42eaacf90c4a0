"""Importing electra_tf first turns on TensorFlow's oneDNN CPU kernels."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

_REPORT = ("import os, tensorflow; "
           "from tensorflow.python.util import _pywrap_util_port as port; "
           "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'), "
           "port.IsMklEnabled())")


def _report(imports, environment_value=None):
  env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
  if environment_value is not None:
    env["TF_ENABLE_ONEDNN_OPTS"] = environment_value
  result = subprocess.run([sys.executable, "-c", imports + _REPORT],
                          capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=300, check=True)
  return result.stdout.split()[-2:]


@pytest.mark.parametrize("environment_value, expected", [
    (None, ["1", "True"]),
    ("0", ["0", "False"]),  # the user's choice wins
])
def test_onednn_kernels(environment_value, expected):
  assert _report("import electra_tf; ", environment_value) == expected


def test_started_tensorflow_is_left_alone():
  # Too late to take effect, so not set (TensorFlow's own default stands).
  assert _report("import tensorflow; import electra_tf; ")[0] == "None"
