"""The load bench still works: ``python bench/load.py --quick`` through ``stepback serve`` (Caddy, TLS, 2 processes).

The quick mode is small (2 simulated clinicians, 100 patients) and
bounded: each clinician does one whole cycle of the scenario, through the
wizard's finalise. The test checks that the bench ran it without errors
or dropped websockets and printed its figures; the figures themselves are
a benchmark's, not a test's (targets are not asserted here).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from serve_support import ROOT, require_caddy

#: Seconds the quick bench may take on 2 busy cores (it takes under a minute on a quiet machine).
LIMIT = 600


def test_quick_load_bench_reaches_finalise_without_errors(tmp_path):
    require_caddy()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "bench/load.py", "--quick"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # the bench and the `stepback serve` it started
        out, _ = proc.communicate(timeout=60)
        pytest.fail(f"bench/load.py --quick took over {LIMIT} s:\n{out[-3000:]}")
    assert proc.returncode == 0, out[-3000:]
    assert "Caddy with TLS, 2 app process(es)" in out
    assert "errors: single 0, load 0; dropped websockets: single 0, load 0" in out, out[-3000:]
    finalised = re.search(r"finalised through the wizard: single (\d+), load (\d+)", out)
    assert finalised and (int(finalised[1]), int(finalised[2])) == (1, 2), out[-3000:]
    in_db = re.search(r"in the database: (\d+) final assessments by the simulated clinicians, (\d+) stopwatch walks", out)
    assert in_db and (int(in_db[1]), int(in_db[2])) == (3, 6), out[-3000:]  # 1 + 2 assessments, two laps each
    for figure in ("sign-in p95 (open the app to signed in)", "p90 of every action", "first finalise",
                   "Timed walks: stopwatch lap", "Observations: tick", "History: pick patient"):
        assert figure in out, figure
    assert list(tmp_path.iterdir()) == [], "the bench left files behind"
