"""The camera timing rule (``static/camera/timing.mjs``), tested with node's built-in test
runner (``tests/camera/timing.test.mjs``); this file makes pytest (and so CI) run it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_timing_rule_node_tests_pass():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node is missing and CI=true: the camera timing tests must run in CI")
        pytest.skip("node is missing")
    run = subprocess.run([node, "--test", str(HERE / "timing.test.mjs")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # the runner's own summary: every test ran and passed (none skipped or missing)
    assert "# fail 0" in run.stdout and "# pass 19" in run.stdout, run.stdout[-2000:]
