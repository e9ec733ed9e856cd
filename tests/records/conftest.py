"""Fixtures for the records tests: a real database per test.

Default: a fresh SQLite file under ``tmp_path``. With
``STEPBACK_TEST_DATABASE_URL`` set (e.g. ``postgresql+psycopg://...``) the
tests run against that server; each test starts from an empty schema.
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from records import Database
from records import services as svc

TEST_URL_ENV = "STEPBACK_TEST_DATABASE_URL"

#: A fixed past date, so tests do not depend on today.
ASSESSED_ON = date(2024, 3, 4)
BIRTH_DATE = date(1950, 3, 4)


@pytest.fixture
def db_url(tmp_path) -> str:
    return os.environ.get(TEST_URL_ENV) or f"sqlite:///{tmp_path / 'stepback.sqlite3'}"


@pytest.fixture
def empty_db(db_url):
    """A database with no StepBack tables (the server's schema is emptied first)."""
    database = Database(db_url)
    database.downgrade("base")
    yield database
    database.dispose()


@pytest.fixture
def db(empty_db):
    """A database migrated to head."""
    empty_db.upgrade()
    return empty_db


@pytest.fixture
def patient(db):
    return svc.add_patient(
        db, mrn="M1", given_name="Ada", family_name="Lovelace", birth_date=BIRTH_DATE, sex="female", actor="alice"
    )


@pytest.fixture
def final_assessment(db, patient):
    view, _ = svc.record_assessment(db, patient.mrn, {"trials": [6.0, 6.4], "assessed_on": ASSESSED_ON}, actor="alice")
    return view
