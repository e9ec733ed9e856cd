"""Fixtures for the exchange tests: real SQLite files under ``tmp_path``.

With ``STEPBACK_TEST_DATABASE_URL`` set (``postgresql+psycopg://...``) the
source and target are two databases on that server instead, each emptied
before every test; the SQLite backup/restore tests are skipped there.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessment.program import SAFETY_SCREEN_KEYS
from assessment.steadi import stay_independent_items
from records import Database
from records import services as svc

ASSESSED_ON = date(2024, 3, 4)
TEST_URL_ENV = "STEPBACK_TEST_DATABASE_URL"
#: Tests of SQLite file backup/restore: they need the database to be a SQLite file.
SQLITE_FILE_FIXTURES = {"db", "filled_db", "other_db"}
SQLITE_ONLY_MODULES = {"test_exchange_backup.py"}


def pytest_collection_modifyitems(config, items):
    """On a server database, skip the backup/restore tests that work on the SQLite file."""
    if not os.environ.get(TEST_URL_ENV):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="SQLite file backup/restore: the test database is a server (PostgreSQL)")
    for item in items:
        if (item.path.parent == here and item.path.name in SQLITE_ONLY_MODULES
                and SQLITE_FILE_FIXTURES & set(getattr(item, "fixturenames", ()))):
            item.add_marker(skip)


def server_database(name: str) -> str | None:
    """URL of an empty database ``<test db>_<name>`` on the test server, or None when testing on SQLite.

    The database is created on first use; afterwards its ``public`` schema is dropped and recreated.
    """
    base = os.environ.get(TEST_URL_ENV)
    if not base:
        return None
    base_url = sa.make_url(base)
    url = base_url.set(database=f"{base_url.database}_{name}")
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}) is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    finally:
        admin.dispose()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
    return url.render_as_string(hide_password=False)


def make_db(path) -> Database:
    """A migrated database: the SQLite file ``path``, or on the test server a database named after its stem."""
    database = Database(server_database(Path(path).stem) or f"sqlite:///{path}")
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


#: The later visit of M1: the "model" gives it no probability (as for a population without one).
UNSCORED_ON = date(2024, 6, 4)


def _risk(valid, result, extras):
    if valid.assessed_on == UNSCORED_ON or result.mean_seconds is None:  # as the real model: no time, no risk
        return None
    return {"probability": 0.3125, "probability_low": 0.2, "probability_high": 0.45,
            "risk_category": "moderate", "model_version": "evidence-1"}


@pytest.fixture
def model_risk():
    """The fixed "model" the source was scored with: an import scores every assessment again with it."""
    return _risk


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
        svc.add_patient(db, mrn=mrn, given_name=given, family_name=family, birth_date=born, sex=sex, actor="alice",
                        population="parkinsons" if mrn == "-M3" else "community")
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
    # Every final assessment goes through the same "model" (which leaves the later M1 visit unscored),
    # as an import scores them again.
    later, _ = svc.record_assessment(db, "M1", {"trials": [5.0, 5.5], "assessed_on": date(2024, 6, 4), "start": "rolling"},
                                     risk_fn=_risk, actor="alice")
    svc.amend_assessment(db, later.id, {"trials": [5.0, 5.25]}, reason="typo", risk_fn=_risk, actor="alice")
    svc.record_assessment(db, "-M3", {"trials": [], "stop_reason": "pain", "assessed_on": ASSESSED_ON, "population": "parkinsons"},
                          risk_fn=_risk, actor="alice")
    svc.record_assessment(db, "M5", {"trials": [9.5], "assessed_on": ASSESSED_ON, "prior_falls": 0, "walking_aid": False},
                          risk_fn=_risk, actor="alice")
    draft = svc.start_assessment(db, "M4", assessed_on=ASSESSED_ON, actor="alice")
    svc.record_trial(db, draft, 4.0, actor="alice")
    return db
