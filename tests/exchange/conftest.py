"""Fixtures for the exchange tests: real SQLite files under ``tmp_path``."""

from __future__ import annotations

from datetime import date

import pytest

from assessment.program import SAFETY_SCREEN_KEYS
from assessment.steadi import stay_independent_items
from records import Database
from records import services as svc

ASSESSED_ON = date(2024, 3, 4)


def make_db(path) -> Database:
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    return database


@pytest.fixture
def db(tmp_path):
    database = make_db(tmp_path / "source.sqlite3")
    yield database
    database.dispose()


@pytest.fixture
def other_db(tmp_path):
    """A second, empty database (the import target)."""
    database = make_db(tmp_path / "target.sqlite3")
    yield database
    database.dispose()


def _risk(valid, result, extras):
    return {"probability": 0.3125, "probability_low": 0.2, "probability_high": 0.45,
            "risk_category": "moderate", "model_version": "evidence-1"}


@pytest.fixture
def filled_db(db):
    """Patients with Unicode names, names a spreadsheet would run as formulas, and varied assessments."""
    people = [
        ("M1", "=Ada", "Lovelace", "1950-03-04", "female"),
        ("M2", "@李", "王", "1940-01-01", None),
        ("-M3", "Zoë", "Ødegård-Łukasiewicz", "1945-07-08", "male"),
        ("M4", "'=Quoted", "+Plus", "1938-12-31", "female"),
        ("M5", "Σωκράτης", "-Dash", "1960-02-29", "male"),
    ]
    for mrn, given, family, born, sex in people:
        svc.add_patient(db, mrn=mrn, given_name=given, family_name=family, birth_date=born, sex=sex, actor="alice")
    full = {
        "trials": [6.0, {"seconds": 7.25, "valid": False, "invalid_reason": "=turned around", "steps": 9},
                   {"seconds": 6.5, "timing_source": "manual", "loss_of_balance": True}],
        "assessed_on": ASSESSED_ON,
        "footwear": "shoes",
        "assistive_device": "cane",
        "steadi": {"stay_independent": {item.key: i % 3 == 0 for i, item in enumerate(stay_independent_items())},
                   "tug_seconds": 12.5, "chair_stand_count": 9, "tandem_seconds": 8.0},
        "safety_screen": {k: i == 5 for i, k in enumerate(SAFETY_SCREEN_KEYS)},
        "prior_falls": 3,
        "walking_aid": True,
    }
    svc.record_assessment(db, "M1", full, risk_fn=_risk, actor="alice")
    later, _ = svc.record_assessment(db, "M1", {"trials": [5.0, 5.5], "assessed_on": date(2024, 6, 4), "start": "rolling"}, actor="alice")
    svc.amend_assessment(db, later.id, {"trials": [5.0, 5.25]}, reason="typo", actor="alice")
    svc.record_assessment(db, "-M3", {"trials": [], "stop_reason": "pain", "assessed_on": ASSESSED_ON, "population": "parkinsons"},
                          actor="alice")
    svc.record_assessment(db, "M5", {"trials": [9.5], "assessed_on": ASSESSED_ON, "prior_falls": 0, "walking_aid": False}, actor="alice")
    draft = svc.start_assessment(db, "M4", assessed_on=ASSESSED_ON, actor="alice")
    svc.record_trial(db, draft, 4.0, actor="alice")
    return db
