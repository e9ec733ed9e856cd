"""Backup while the app writes, and restore that refuses anything but a StepBack database."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
import time

import pytest

from assessment import InputError
from records import Database, NotFound
from records import services as svc
from records.backup import backup, inspect_database_file, known_revisions, restore


def _head(db: Database) -> str:
    return db.current_revision()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counts(path) -> dict[str, int]:
    return inspect_database_file(path)[1]


def test_backup_while_another_thread_writes_is_a_committed_point(db, tmp_path):
    """Each patient.create commits a patient row and its audit row together: a torn copy would differ."""
    writer_db = Database(db.url)  # its own engine, as a second app session would have
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            n = 0
            while not stop.is_set():
                n += 1
                svc.add_patient(writer_db, mrn=f"W{n}", given_name="Writer", family_name=f"Number{n}",
                                birth_date="1950-01-01", sex="female", actor="writer")
                written.append(n)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 20:
            time.sleep(0.01)
        at_start = len(written)
        info = backup(db, tmp_path / "backup.sqlite3", actor="alice")
        at_end = len(written)
        while len(written) < at_end + 5:  # the app kept writing after the backup
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=30)
        writer_db.dispose()
    assert not errors

    copied = info.row_counts
    creates = sqlite3.connect(info.path).execute(
        "SELECT count(*) FROM audit_log WHERE action = 'patient.create'").fetchone()[0]
    assert copied["patients"] == creates
    assert at_start <= copied["patients"] <= at_end + 1  # +1: a write committing as the copy began
    assert svc.count_rows(db)["patients"] > copied["patients"]
    assert info.revision == _head(db)
    assert len(info.sha256) == 64 and info.bytes == info.path.stat().st_size

    restored = Database(f"sqlite:///{info.path}")
    try:
        assert restored.current_revision() == _head(db)
        assert svc.get_patient(restored, "W1").family_name == "Number1"
    finally:
        restored.dispose()


def test_backup_is_audited_in_the_live_database(filled_db, tmp_path):
    info = backup(filled_db, tmp_path / "b.sqlite3", actor="alice")
    (row,) = svc.list_audit(filled_db, action="database.backup")
    assert row.actor == "alice" and row.detail == {"bytes": info.bytes, "sha256": info.sha256, "revision": info.revision}


def test_backup_refuses_a_postgresql_database(tmp_path):
    server = Database("postgresql+psycopg://user@localhost/stepback")
    try:
        with pytest.raises(InputError) as caught:
            backup(server, tmp_path / "b.sqlite3")
        assert caught.value.field == "database"
    finally:
        server.dispose()
    assert list(tmp_path.iterdir()) == []


def test_restore_replaces_a_database_with_the_backup(filled_db, other_db, tmp_path):
    svc.add_patient(other_db, mrn="ONLY-HERE", given_name="Other", family_name="Person",
                    birth_date="1950-01-01", sex=None, actor="bob")
    info = backup(filled_db, tmp_path / "b.sqlite3", actor="alice")
    result = restore(other_db.url, info.path, actor="bob")
    assert result.revision_in_file == result.revision_now == _head(filled_db)
    counts = svc.count_rows(other_db)  # the open engine sees the restored file
    source = svc.count_rows(filled_db)
    for table in ("patients", "assessments", "trials", "steadi_answers", "clinicians"):
        assert counts[table] == source[table]
    with pytest.raises(NotFound):
        svc.get_patient(other_db, "ONLY-HERE")
    assert svc.list_audit(other_db, action="database.restore")[0].actor == "bob"


def test_restore_into_a_new_file_by_path(filled_db, tmp_path):
    info = backup(filled_db, tmp_path / "b.sqlite3")
    target = tmp_path / "new" / "stepback.sqlite3"
    restore(target, info.path)
    restored = Database(f"sqlite:///{target}")
    try:
        assert svc.get_patient(restored, "M1").given_name == "=Ada"
    finally:
        restored.dispose()


def test_restore_upgrades_an_older_stepback_backup(tmp_path):
    old = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    old.upgrade("0001")
    svc_row = "INSERT INTO clinicians (username, display_name, role, created_at) VALUES ('carol', 'Carol', 'clinician', '2024-01-01')"
    with old.engine.begin() as connection:
        connection.exec_driver_sql(svc_row)
    old.dispose()
    target = tmp_path / "live.sqlite3"
    result = restore(target, tmp_path / "old.sqlite3")
    live = Database(f"sqlite:///{target}")
    try:
        assert result.revision_in_file == "0001" and "0001" in known_revisions()
        assert result.revision_now == live.current_revision() != "0001"
        from records.accounts import list_users

        (carol,) = list_users(live)
        assert (carol.username, carol.has_password, carol.failed_attempts) == ("carol", False, 0)
    finally:
        live.dispose()


def _not_sqlite(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_text("this is not a database\n")
    return path


def _other_sqlite(tmp_path):
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    return path


def _unknown_revision(tmp_path, source: Database):
    path = tmp_path / "future.sqlite3"
    backup(source, path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    return path


def _truncated(tmp_path, source: Database):
    path = tmp_path / "cut.sqlite3"
    backup(source, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupted(tmp_path, source: Database):
    path = tmp_path / "corrupt.sqlite3"
    backup(source, path)
    data = bytearray(path.read_bytes())
    page = 4096
    for i in range(page * 2, min(len(data), page * 6)):
        data[i] = 0xA5
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp, src: _not_sqlite(tmp), "not a SQLite database"),
        (lambda tmp, src: _other_sqlite(tmp), "not a StepBack database"),
        (_unknown_revision, "revision 9999"),
        (_truncated, ""),
        (_corrupted, ""),
        (lambda tmp, src: tmp / "missing.sqlite3", "no such file"),
    ],
    ids=["text-file", "other-sqlite", "unknown-revision", "truncated", "corrupted", "missing"],
)
def test_restore_rejects_anything_but_a_stepback_database_and_changes_nothing(filled_db, tmp_path, make, reason):
    bad = make(tmp_path, filled_db)
    target = tmp_path / "live.sqlite3"
    shutil.copy(filled_db.url.removeprefix("sqlite:///"), target)
    before = _sha(target)
    with pytest.raises(InputError) as caught:
        restore(target, bad)
    assert caught.value.field == "backup_file"
    assert reason in caught.value.message
    assert _sha(target) == before
    assert not list(tmp_path.glob(".stepback-restore-*"))


def test_restore_refuses_a_postgresql_target(filled_db, tmp_path):
    info = backup(filled_db, tmp_path / "b.sqlite3")
    with pytest.raises(InputError) as caught:
        restore("postgresql+psycopg://user@localhost/stepback", info.path)
    assert caught.value.field == "database"
