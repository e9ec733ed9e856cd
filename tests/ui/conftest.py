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


#: Test accounts: the first administrator, then a clinician (real argon2 hashes).
ADMIN, CLINICIAN = "boss", "jdoe"
PASSWORD = "correct horse battery"


@pytest.fixture
def db(db_url):
    database = open_database(db_url)
    services.add_user(database, username=ADMIN, password=PASSWORD, role="admin", display_name="Bo Boss",
                      actor="system")
    services.add_user(database, username=CLINICIAN, password=PASSWORD, role="clinician", display_name="Jo Doe",
                      actor=ADMIN)
    yield database
    database.dispose()


@pytest.fixture
def patient(db):
    return services.add_patient(
        db, mrn="MRN001", given_name="Ana", family_name="García", birth_date=date(1946, 5, 17),
        sex="female", population="community", actor="jdoe",
    )




@pytest.fixture
def delivered(monkeypatch):
    """Files handed over by ``ui.common.file_button`` during AppTest runs: file name → bytes.

    The page sends the bytes (base64) as the save component's data over the
    live session; this decodes them as the browser's script does.
    """
    import base64

    from ui import common

    files: dict[str, bytes] = {}
    original = common._save_component

    def save(*, key, data):
        files[data["name"]] = base64.b64decode(data["b64"])
        return original(key=key, data=data)

    monkeypatch.setattr(common, "_save_component", save)
    return files
