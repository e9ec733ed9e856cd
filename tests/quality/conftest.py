"""A hand-made cohort for the quality measures, with its numbers worked out by hand.

Period 2025-01-01 to 2025-12-31. Clinic North unless said otherwise:

| MRN | born       | age on 2025-01-01 | visits in the period                        | counts as |
|-----|------------|-------------------|---------------------------------------------|-----------|
| A   | 1960-01-01 | 65 (boundary)     | completed 2025-03-01, moderate, printed     | den, num, at risk, documented |
| B   | 1960-01-02 | 64                | completed 2025-03-01                        | excluded (age) |
| C   | 1950-05-05 | 74                | visit list only, 2025-06-01                 | den, not screened |
| D   | 1955-01-01 | 70                | stopped 2025-04-01                          | den, not screened |
| E   | 1940-01-01 | 85                | completed 2024-12-31, list 2026-01-01       | excluded (no visit in period) |
| F   | 1945-02-02 | 79                | completed 2025-12-31, high, not printed     | den, num, at risk, not documented |
| G   | 1945-01-01 | 80                | stopped 2025-02-01; completed 2025-05-01    | den, num (low risk; amended once) |
|     |            |                   | low, then amended                           |           |
| H   | 1944-01-01 | 81  (clinic South)| completed 2025-07-07, high, printed         | den, num, at risk, documented (South) |
| I   | 1950-01-01 | 75                | a draft on 2025-08-01 only                  | excluded (drafts never count) |

Visit list: C 2025-06-01, E 2026-01-01, H 2025-07-07, ZZZ 2025-05-05 (not a patient).

North only: denominator A C D F G = 5, numerator A F G = 3, rate 0.6, not
screened C D; at risk A F = 2, documented A = 1; unknown visit MRNs H, ZZZ.
Every clinic: + H: denominator 6, numerator 4; at risk 3, documented 2;
unknown visit MRNs ZZZ.
"""

from __future__ import annotations

from datetime import date

import pytest

from records import Database
from records import services as svc

PEOPLE = [
    ("A", "Ana", "Alvarez", "1960-01-01", "North"),
    ("B", "Bo", "Berg", "1960-01-02", "North"),
    ("C", "Chen", "Li", "1950-05-05", "North"),
    ("D", "Dora", "<b>Diaz</b>", "1955-01-01", "North"),
    ("E", "Emil", "Eng", "1940-01-01", "North"),
    ("F", "Fay", "Fox", "1945-02-02", "North"),
    ("G", "Gus", "Gray", "1945-01-01", "North"),
    ("H", "Hal", "Hill", "1944-01-01", "South"),
    ("I", "Ida", "Ito", "1950-01-01", "North"),
]
VISITS_CSV = "mrn,date,department\nC,2025-06-01,PT\nE,2026-01-01,PT\nH,2025-07-07,PT\nZZZ,2025-05-05,PT\n"


def _risk(category):
    def risk_fn(valid, result, extras):
        return {"probability": {"low": 0.1, "moderate": 0.3, "high": 0.6}[category], "risk_category": category,
                "model_version": "test-1"}
    return risk_fn


@pytest.fixture
def cohort(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'quality.sqlite3'}")
    db.upgrade()
    for mrn, given, family, born, clinic in PEOPLE:
        svc.add_patient(db, mrn=mrn, given_name=given, family_name=family, birth_date=born, sex="female",
                        clinic=clinic, actor="alice")

    def walk(mrn, on, category=None, stopped=False):
        raw = {"trials": [] if stopped else [5.0, 5.4], "assessed_on": date.fromisoformat(on)}
        if stopped:
            raw["stop_reason"] = "pain"
        view, _ = svc.record_assessment(db, mrn, raw, risk_fn=_risk(category) if category else None, actor="alice")
        return view

    a = walk("A", "2025-03-01", "moderate")
    svc.record_report_printed(db, a.id, ["patient"], actor="alice")
    walk("B", "2025-03-01", "high")
    walk("D", "2025-04-01", stopped=True)
    walk("E", "2024-12-31", "high")
    walk("F", "2025-12-31", "high")  # never printed: at risk without a documented program
    walk("G", "2025-02-01", stopped=True)
    g = walk("G", "2025-05-01", "low")
    svc.amend_assessment(db, g.id, {"trials": [5.0, 5.2]}, reason="typo", risk_fn=_risk("low"), actor="alice")
    h = walk("H", "2025-07-07", "high")
    svc.record_report_printed(db, h.id, ["clinician"], actor="alice")
    draft = svc.start_assessment(db, "I", assessed_on="2025-08-01", actor="alice")
    svc.record_trial(db, draft, 5.0, actor="alice")
    yield db
    db.dispose()


@pytest.fixture
def visits_file(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text(VISITS_CSV, encoding="utf-8")
    return path
