"""Read-only sessions: pages that only show records do not take SQLite's write lock.

Every action used to begin ``BEGIN IMMEDIATE``, reads included, so under a
clinic's load each History or Result page queued behind every other
clinician's save for the whole of its read (issue 15). A read now reads a
snapshot; only its audit row is written, in a short transaction after it.
"""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from records import Database, DatabaseBusy
from records import services as svc
from records.audit import list_audit
from records.db import BusyRetry
from records.schema import AuditRow, Patient


@pytest.fixture
def sqlite_path(db) -> str:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    return make_url(db.url).database


@pytest.fixture
def impatient(db, sqlite_path, monkeypatch):
    """The same database, giving up on the write lock after one 0.2 s attempt."""
    monkeypatch.setattr("records.db.SQLITE_BUSY_TIMEOUT_MS", 200)
    database = Database(db.url, busy_retry=BusyRetry(attempts=1))
    yield database
    database.dispose()


def _hold_write_lock(path: str) -> sqlite3.Connection:
    """Another process's writer: a connection inside BEGIN IMMEDIATE (the caller rolls it back)."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _audit_count(db: Database) -> int:
    with db.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(AuditRow)).scalar_one()


def test_a_read_only_session_reads_while_another_writer_holds_the_lock(impatient, patient, sqlite_path):
    holder = _hold_write_lock(sqlite_path)
    try:
        with impatient.session(read_only=True) as session:
            assert session.scalars(sa.select(Patient.mrn)).all() == ["M1"]
        with pytest.raises(DatabaseBusy):  # a writer still waits for the lock, and says so
            with impatient.session() as session:
                session.execute(sa.select(Patient.id))
    finally:
        holder.rollback()
        holder.close()


def test_unaudited_reads_go_on_while_a_save_holds_the_lock(impatient, patient, sqlite_path):
    """Signing in checks the account on every rerun; it must not queue behind saves."""
    svc.add_user(impatient, username="boss", password="correct horse battery", role="admin",
                 display_name="B", actor="system")
    holder = _hold_write_lock(sqlite_path)
    try:
        assert svc.has_admin(impatient)
        assert [u.username for u in svc.list_users(impatient)] == ["boss"]
    finally:
        holder.rollback()
        holder.close()


def test_an_audited_read_is_not_shown_when_its_audit_row_cannot_be_written(impatient, patient, sqlite_path):
    before = _audit_count(impatient)
    holder = _hold_write_lock(sqlite_path)
    try:
        with pytest.raises(DatabaseBusy):
            svc.get_patient(impatient, "M1", actor="alice")
    finally:
        holder.rollback()
        holder.close()
    assert _audit_count(impatient) == before
    assert svc.get_patient(impatient, "M1", actor="alice").mrn == "M1"
    views = [a for a in list_audit(impatient, entity="patient") if a.action.endswith("view")]
    assert len(views) == 1 and views[0].actor == "alice"


def test_a_read_only_session_refuses_to_write(db, patient):
    with pytest.raises(RuntimeError, match="read-only"):
        with db.session(read_only=True) as session:
            session.get(Patient, patient.id).given_name = "Changed"
            session.flush()
    assert svc.get_patient(db, "M1").given_name == "Ada"


def test_every_audited_read_writes_one_row_after_it(db, final_assessment):
    """history, get_assessment, list_falls, get_patient: each read leaves exactly one audit row."""
    reads = [
        lambda: svc.history(db, "M1", actor="alice"),
        lambda: svc.get_assessment(db, final_assessment.id, actor="alice"),
        lambda: svc.list_falls(db, "M1", actor="alice"),
        lambda: svc.get_patient(db, "M1", actor="alice"),
    ]
    for read in reads:
        before = _audit_count(db)
        read()
        assert _audit_count(db) == before + 1
