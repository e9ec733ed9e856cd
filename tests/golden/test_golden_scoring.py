"""`assessment.score` against golden cases computed independently in bc (see README.md)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from assessment import populations, score, validate_assessment

HERE = Path(__file__).parent
ROWS = list(csv.DictReader((HERE / "scoring.csv").open(encoding="utf-8")))

# Tolerances, as stated in README.md. The code rounds mean to 4 decimals, speed
# and z to 4, percentile to 2 and change to 3; the golden file keeps 6.
TOL = {"mean_seconds": 1e-4, "speed_m_per_s": 1e-3, "z": 1e-3, "percentile": 0.05,
       "change_seconds": 1e-3, "mdc95": 1e-3}


def opt(text: str) -> float | None:
    return float(text) if text != "" else None


def build(row: dict) -> dict:
    """Raw input for the gatekeeper; a trailing * marks an invalid trial."""
    trials = []
    for part in row["trials"].split(";"):
        if part.endswith("*"):
            trials.append({"seconds": part[:-1], "valid": False, "invalid_reason": "golden: invalid"})
        else:
            trials.append(part)
    return {"population": row["population"], "trials": trials, "previous_seconds": row["previous_seconds"]}


def test_golden_file_covers_enough_cases():
    assert len(ROWS) >= 12
    assert len({r["population"] for r in ROWS}) >= 5
    assert any(r["previous_seconds"] for r in ROWS) and any(not r["previous_seconds"] for r in ROWS)
    assert {r["change"] for r in ROWS} >= {"improved", "no_real_change", "worse", ""}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['population']}:{r['trials']}:{r['previous_seconds']}" for r in ROWS])
def test_score_matches_the_independent_computation(row):
    r = score(validate_assessment(build(row)))
    assert r.mean_seconds == pytest.approx(float(row["mean_seconds"]), abs=TOL["mean_seconds"])
    assert r.speed_m_per_s == pytest.approx(float(row["speed_m_per_s"]), abs=TOL["speed_m_per_s"])
    for name in ("z", "percentile"):
        expected = opt(row[name])
        if expected is None:
            assert getattr(r, name) is None
        else:
            assert getattr(r, name) == pytest.approx(expected, abs=TOL[name])
    assert r.band == (row["band"] or None)

    mdc = opt(row["mdc95"])
    pop = populations()[row["population"]]
    if pop.mdc95_speed is not None:  # speed-based: seconds only at the patient's own two times
        assert pop.mdc95_seconds is None
    elif mdc is None:
        assert pop.mdc95_seconds is None
    else:
        assert pop.mdc95_seconds == pytest.approx(mdc, abs=TOL["mdc95"])

    if not row["previous_seconds"]:
        assert r.change is None
        return
    assert r.change.change_seconds == pytest.approx(float(row["change_seconds"]), abs=TOL["change_seconds"])
    assert r.change.change == (row["change"] or None)
    if mdc is None:
        assert r.change.mdc95 is None
    else:
        assert r.change.mdc95 == pytest.approx(mdc, abs=TOL["mdc95"])


@pytest.mark.skipif(shutil.which("bc") is None, reason="bc not installed: cannot regenerate the golden file")
def test_golden_file_is_what_the_script_generates():
    out = subprocess.run(["bash", str(HERE / "make_scoring_golden.sh")], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout == (HERE / "scoring.csv").read_text(encoding="utf-8")
