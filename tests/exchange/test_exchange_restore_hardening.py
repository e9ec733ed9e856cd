"""Issue 14, finding 5: restore takes only StepBack's own schema and audits after the
restore; an older backup's lost rows are counted and saved first; outputs refuse
devices, symlinks, directories and missing folders; killed writers leave no copies."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from assessment import InputError
from cli import main
from records import services as svc
from records.backup import backup, restore
from records.exchange import export_csv
from records.files import remove_stale_temporaries, write_bytes_atomically

pytestmark = pytest.mark.skipif(bool(os.environ.get("STEPBACK_TEST_DATABASE_URL")),
                                reason="SQLite file backup/restore: the test database is a server (PostgreSQL)")


def _target_path(db):
    return db.url.removeprefix("sqlite:///")


def _audit_count(path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM audit_log").fetchone()[0]


def _tampered(filled_db, tmp_path, statement: str):
    file = tmp_path / "tampered.sqlite3"
    backup(filled_db, file)
    with sqlite3.connect(file) as connection:
        connection.execute(statement)
    return file


@pytest.mark.parametrize("statement", [
    "CREATE TRIGGER wipe AFTER INSERT ON audit_log BEGIN DELETE FROM audit_log; END",
    "CREATE VIEW everyone AS SELECT * FROM patients",
    "CREATE TABLE extra (x)",
    "CREATE INDEX ix_extra ON patients (given_name)",
])
def test_restore_refuses_objects_stepback_does_not_create(filled_db, other_db, tmp_path, statement):
    file = _tampered(filled_db, tmp_path, statement)
    target = _target_path(other_db)
    before = open(target, "rb").read()
    with pytest.raises(InputError) as caught:
        restore(target, file)
    assert caught.value.field == "backup_file" and "StepBack does not create" in caught.value.message
    assert open(target, "rb").read() == before


def test_the_restore_audit_row_is_written_after_the_restore(filled_db, other_db, tmp_path):
    file = tmp_path / "b.sqlite3"
    backup(filled_db, file)
    target = _target_path(other_db)
    restore(target, file, actor="root")
    with sqlite3.connect(target) as connection:
        last = connection.execute("SELECT actor, action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert last == ("root", "database.restore")


def test_restoring_an_older_backup_counts_and_saves_the_newer_rows(filled_db, tmp_path, capsys):
    file = tmp_path / "old.sqlite3"
    backup(filled_db, file)
    svc.add_patient(filled_db, mrn="LATE1", given_name="Late", family_name="Comer", birth_date="1950-01-01", sex=None)
    target = _target_path(filled_db)
    newer_before = _audit_count(target) - _audit_count(file)
    filled_db.dispose()
    assert main(["restore", str(file), "--db", target]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "newer than the backup" in err and err.count("\n") == 1
    (copy,) = tmp_path.glob("*.before-restore-*")
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT count(*) FROM patients WHERE mrn = 'LATE1'").fetchone()[0] == 1
    assert newer_before >= 1


@pytest.mark.parametrize("kind", ["device", "symlink", "directory", "missing_dir"])
def test_outputs_refuse_anything_but_a_regular_file(filled_db, tmp_path, kind):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me")
    target = {
        "device": "/dev/null",
        "symlink": tmp_path / "link.csv",
        "directory": tmp_path,
        "missing_dir": tmp_path / "no" / "such" / "out.csv",
    }[kind]
    if kind == "symlink":
        target.symlink_to(elsewhere)
    for write in (lambda: export_csv(filled_db, target, actor="system"), lambda: backup(filled_db, target),
                  lambda: write_bytes_atomically(target, b"%PDF")):
        with pytest.raises(InputError):
            write()
    assert elsewhere.read_text() == "keep me"
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert not (tmp_path / "no").exists()
    assert not list(tmp_path.glob(".stepback-*"))


def test_cli_export_to_a_device_is_one_line_exit_2(filled_db, capsys):
    assert main(["export", "--csv", "/dev/null", "--db", filled_db.url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "device" in err and "Traceback" not in err


def test_a_killed_backups_temporary_copy_is_removed_by_the_next_one(filled_db, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".stepback-backup-{dead.stdout.strip()}-abc.sqlite3"
    stale.write_bytes(b"patient data left by a killed backup")
    mine = tmp_path / f".stepback-backup-{os.getpid()}-live.sqlite3"  # a running writer's file stays
    mine.write_bytes(b"in progress")
    backup(filled_db, tmp_path / "next.sqlite3")
    assert not stale.exists() and mine.exists()
    mine.unlink()
    assert remove_stale_temporaries(tmp_path) == 0
