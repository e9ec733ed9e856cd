"""Helpers shared by the hardening tests (imported by name: this folder has no __init__.py)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from records import Database
from records import services as svc

#: Lines the tests add for pytest's terminal summary (concurrency figures ...).
REPORT_LINES: list[str] = []


def make_db(path) -> Database:
    """A migrated SQLite database at ``path``."""
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    return database


def add_patients(db: Database, count: int, prefix: str = "P") -> list[str]:
    """Register ``count`` patients (MRNs ``P0``, ``P1`` ...); returns the MRNs."""
    mrns = [f"{prefix}{i}" for i in range(count)]
    for i, mrn in enumerate(mrns):
        svc.add_patient(db, mrn=mrn, given_name=f"Given{i}", family_name="Soak", birth_date="1950-01-01",
                        sex="female" if i % 2 else "male", actor="setup")
    return mrns


def table_digest(path: str | Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of every row of every table of the SQLite file at ``path`` (tables in ``skip`` left out)."""
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        digests = {}
        for table in tables:
            if table in skip:
                continue
            rows = sorted(repr(r) for r in connection.execute(f'SELECT * FROM "{table}"'))
            digests[table] = hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest()
        return digests
    finally:
        connection.close()
