"""Issue 14, finding 6: the reproductions that ended in a traceback now end in one line, exit 2.

In-process (``cli.main``), against a real SQLite file; after each refusal the
database is row-identical (audit log aside: a refusal may be audited).
"""

from __future__ import annotations

import contextlib
import io

import pytest

import cli
from records import services as svc

from hardening_support import add_patients, make_db, table_digest


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("STEPBACK_DATABASE_URL", raising=False)
    monkeypatch.setenv("STEPBACK_CLINICIAN", "fuzzer")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cli.sqlite3"
    db = make_db(path)
    add_patients(db, 1)
    yield tmp_path, path, db
    db.dispose()


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def rows(db):
    return {t: n for t, n in svc.count_rows(db).items() if t != "audit_log"}


DB_VALUES = {
    "directory": lambda tmp: str(tmp),
    "device": lambda tmp: "/dev/null",
    "no driver": lambda tmp: "mysql://user@localhost/stepback",
    "unreachable server": lambda tmp: "postgresql+psycopg://u:p@127.0.0.1:1/stepback",
    "long file name": lambda tmp: str(tmp / ("a" * 300)),
    "empty": lambda tmp: "",  # not the default database: that would be made in the user data directory
}


@pytest.mark.parametrize("kind", sorted(DB_VALUES))
def test_a_bad_db_value_is_one_line(store, kind):
    tmp, _, db = store
    before = rows(db)
    code, out, err = run(["patient", "list", "--db", DB_VALUES[kind](tmp)])
    assert code == 2 and out == "" and err.count("\n") == 1 and "database" in err and "Traceback" not in err, err
    assert rows(db) == before


@pytest.mark.parametrize(("argv", "field"), [
    (["score", "--age", "70", "--trial", "1_0"], "trial_1"),          # was read as 10 s
    (["score", "--age", "70", "--trial", "٥"], "trial_1"),             # an Arabic-Indic digit
    (["score", "--age", "70", "--trial", "5", "--prior-falls", "²"], "--prior-falls"),
    (["score", "--age", "9" * 4300, "--trial", "5"], "age"),
])
def test_only_ascii_digits_are_numbers(store, argv, field):
    code, out, err = run(argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and field in err and "Traceback" not in err, err


@pytest.mark.parametrize("target", ["/dev/null", "missing/dir/out.csv", "."])
def test_export_to_a_device_missing_folder_or_directory_is_one_line(store, target):
    tmp, path, db = store
    before = rows(db)
    code, out, err = run(["export", "--csv", target, "--db", str(path)])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert rows(db) == before
    assert not (tmp / "missing").exists()
    assert not list(tmp.glob(".stepback-*"))


def test_backup_onto_a_symlink_is_refused_and_the_link_target_kept(store):
    tmp, path, _ = store
    victim = tmp / "victim.txt"
    victim.write_text("not yours")
    (tmp / "link.sqlite3").symlink_to(victim)
    code, _, err = run(["backup", "--out", str(tmp / "link.sqlite3"), "--db", str(path)])
    assert code == 2 and "symbolic link" in err and err.count("\n") == 1
    assert victim.read_text() == "not yours"


def test_a_bit_flipped_backup_is_refused_in_one_line(store):
    tmp, path, _ = store
    good = tmp / "good.sqlite3"
    assert run(["backup", "--out", str(good), "--db", str(path)])[0] == 0
    data = bytearray(good.read_bytes())
    for offset in range(200, len(data), 997):  # flip bits all through the file (the header stays)
        data[offset] ^= 0xFF
    bad = tmp / "flipped.sqlite3"
    bad.write_bytes(bytes(data))
    before = path.read_bytes()
    code, _, err = run(["restore", str(bad), "--db", str(path)])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and "backup_file" in err, err
    assert path.read_bytes() == before


@pytest.mark.parametrize("version", ["no-such-version", "", "x" * 500, "evidence\u2028v1"])
def test_model_activate_of_a_bad_version_writes_no_row(store, version):
    tmp, path, _ = store
    before = table_digest(path)  # every table, the audit log included
    code, out, err = run(["model", "activate", version, "--db", str(path)])
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "version" in err, err
    assert table_digest(path) == before


def test_score_out_onto_a_symlink_to_the_database_is_refused(store):
    tmp, path, _ = store
    (tmp / "walks.csv").write_text("age,sex,trial_1\n78,female,5.2\n", "utf-8")
    (tmp / "link.csv").symlink_to(path)
    before = table_digest(path)
    code, out, err = run(["score", "--csv", "walks.csv", "--out", "link.csv"])
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "--out" in err and "symbolic link" in err, err
    assert table_digest(path) == before
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith(".stepback-")) == []


def test_a_refused_command_leaves_no_database_it_was_asked_to_create(store):
    tmp, _, _ = store
    code, _, err = run(["assess", "--db", "new.sqlite3", "--create", "--mrn", "NOPE", "--trial", "5"])
    assert code == 2 and "NOPE" in err and len(err.splitlines()) == 1, err
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("new.sqlite3")]
    code, _, err = run(["patient", "list", "--db", "new.sqlite3", "--create"])
    assert code == 0 and (tmp / "new.sqlite3").exists(), err


def test_create_needs_an_existing_folder_and_refuses_a_dangling_symlink(store):
    tmp, _, _ = store
    (tmp / "dangling.sqlite3").symlink_to(tmp / "elsewhere.sqlite3")
    for value, expected in (("no/such/folder/x.sqlite3", "does not exist"), ("dangling.sqlite3", "symbolic link")):
        code, out, err = run(["patient", "list", "--db", value, "--create"])
        assert code == 2 and out == "" and err.startswith("stepback: error: --db: ") and expected in err, err
    assert not (tmp / "no").exists() and not (tmp / "elsewhere.sqlite3").exists()


def test_a_backup_with_text_that_is_not_utf8_is_refused(store):
    tmp, path, _ = store
    good = tmp / "good.sqlite3"
    assert run(["backup", "--out", str(good), "--db", str(path)])[0] == 0
    data = good.read_bytes()
    at = data.index(b"Given0")  # a name: SQLite's integrity check does not look inside text
    bad = tmp / "bad.sqlite3"
    bad.write_bytes(data[:at] + b"\xff" + data[at + 1:])
    before = table_digest(path)
    code, out, err = run(["restore", str(bad), "--db", str(path)])
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "damaged (table patients" in err, err
    assert table_digest(path) == before
