"""AppTest fixtures: a temporary SQLite file per test, a signed-in session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from records import services
from records.db import open_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'stepback.sqlite3'}"
    monkeypatch.setenv("STEPBACK_DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    return url


@pytest.fixture
def db(db_url):
    database = open_database(db_url)
    services.ensure_clinician(database, "jdoe", "Jo Doe")
    yield database
    database.dispose()


@pytest.fixture
def patient(db):
    return services.add_patient(
        db, mrn="MRN001", given_name="Ana", family_name="García", birth_date=date(1946, 5, 17),
        sex="female", population="community", actor="jdoe",
    )


