"""Backup and restore of a SQLite StepBack database.

:func:`backup` uses SQLite's online backup API (``sqlite3.Connection.backup``)
in one step: it copies a consistent snapshot (one read transaction; WAL mode
lets the app keep writing meanwhile) to a temporary file, checks it, and
renames it into place.

:func:`restore` first checks that the file is a StepBack database: a SQLite
file that passes ``PRAGMA integrity_check``, whose ``alembic_version`` is a
revision of :mod:`records.migrations`, and which has the StepBack tables.
It upgrades a copy to the newest revision, then copies it into the target
with the backup API, which writes the target in a single SQLite
transaction: a failure leaves the target as it was (never half-restored).
Both write an audit row (sizes and revisions only).

PostgreSQL deployments use ``pg_dump``/``pg_restore`` instead.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from assessment.errors import InputError

from .audit import write_audit
from .db import MIGRATIONS, SQLITE_BUSY_TIMEOUT_MS, Database, head_revision
from .files import output_path, remove_stale_temporaries, temporary_prefix
from .validation import validate_actor

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: Tables every StepBack database has, at any revision.
CORE_TABLES = frozenset({"alembic_version", "clinicians", "patients", "assessments", "trials", "audit_log"})


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    bytes: int
    sha256: str
    revision: str
    #: Rows per table in the backup (a committed point of the source).
    row_counts: dict[str, int]


@dataclass(frozen=True)
class RestoreInfo:
    target: Path
    revision_in_file: str
    revision_now: str
    row_counts: dict[str, int]
    #: Audit rows the replaced database had written after the backup's newest one (now gone from it).
    audit_rows_after_backup: int = 0
    #: Where the replaced database was saved first (when it had such rows), else None.
    safety_copy: Path | None = None


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every Alembic revision id of :mod:`records.migrations`."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return frozenset(script.revision for script in ScriptDirectory.from_config(config).walk_revisions())


@functools.cache
def expected_objects(revision: str) -> frozenset[tuple]:
    """The schema objects (type, name, table, SQL) StepBack creates at ``revision``.

    Built once per revision by running the migrations into a scratch SQLite
    file; a backup must hold exactly these (no trigger, view, or changed
    definition), so restoring it cannot bring code that runs later.
    """
    with tempfile.TemporaryDirectory(prefix="stepback-schema-") as scratch:
        reference = Database(f"sqlite:///{Path(scratch) / 'reference.sqlite3'}")
        try:
            reference.upgrade(revision)
        finally:
            reference.dispose()
        connection = sqlite3.connect(Path(scratch) / "reference.sqlite3")
        try:
            return frozenset(connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex_%'"
            ).fetchall())
        finally:
            connection.close()


def _check_text(connection: sqlite3.Connection, name: str, field: str) -> None:
    """Refuse a file with text that is not UTF-8 (a flipped bit in a name passes SQLite's integrity check).

    Every row is read once, as the app would read it; StepBack only ever
    writes UTF-8, so such text means damage.
    """
    tables = [r[0] for r in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in tables:
        try:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            while cursor.fetchmany(1000):
                pass
        except sqlite3.OperationalError as err:  # "Could not decode to UTF-8 column ..."
            raise InputError(field, f"{name} is damaged (table {table}: {str(err).split(' with text')[0][:120]})") from None


def _sqlite_path(url_or_path: str | os.PathLike) -> Path:
    text = os.fspath(url_or_path)
    if "://" not in text:
        return Path(text).expanduser()
    url = make_url(text)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise InputError("database", "backup and restore work on a SQLite file; allowed: sqlite:///PATH or a file path "
                                     "(use pg_dump/pg_restore for PostgreSQL)")
    return Path(url.database).expanduser()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _row_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )]
    # Table names come from sqlite_master of a checked StepBack file, quoted as identifiers.
    return {n: connection.execute(f'SELECT count(*) FROM "{n.replace(chr(34), chr(34) * 2)}"').fetchone()[0] for n in names}


def inspect_database_file(path: str | os.PathLike, field: str = "backup_file") -> tuple[str, dict[str, int]]:
    """Check that ``path`` is a StepBack database; return (revision, row counts).

    Raises
    ------
    InputError
        Naming ``field``: not a SQLite file, damaged, not StepBack, or at an
        unknown revision. The file is opened read-only.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(field, f"{path}: no such file")
    with path.open("rb") as stream:
        if stream.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise InputError(field, f"{path.name} is not a SQLite database; allowed: a file made by stepback backup")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise InputError(field, f"cannot open {path.name}: {err}") from None
    try:
        check = connection.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise InputError(field, f"{path.name} is damaged (integrity check failed)")
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(CORE_TABLES - tables)
        if missing:
            raise InputError(field, f"{path.name} is not a StepBack database (no table {missing[0]}); allowed: a file made by stepback backup")
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        known = known_revisions()
        if len(rows) != 1 or rows[0][0] not in known:
            found = ", ".join(str(r[0]) for r in rows) or "none"
            raise InputError(field, f"{path.name} is at revision {found}; allowed: one of {', '.join(sorted(known))}")
        found_objects = set(connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex_%'"
        ).fetchall())
        unexpected = sorted(found_objects - expected_objects(rows[0][0]), key=lambda o: (o[0], o[1]))
        if unexpected:
            kind, name = unexpected[0][0], unexpected[0][1]
            raise InputError(field, f"{path.name} holds {kind} {name[:60]!r}, which StepBack does not create; "
                                    "allowed: the schema of a file made by stepback backup (no triggers, views or extra objects)")
        _check_text(connection, path.name, field)
        return rows[0][0], _row_counts(connection)
    except sqlite3.DatabaseError as err:
        raise InputError(field, f"{path.name} cannot be read as a database: {err}") from None
    except UnicodeDecodeError:  # damage inside a text value (a flipped bit in a name or message)
        raise InputError(field, f"{path.name} is damaged (text that is not UTF-8)") from None
    finally:
        connection.close()


def backup(db: Database, out_path: str | os.PathLike, *, actor: str = "system") -> BackupInfo:
    """Copy the live database to ``out_path``, consistently, while the app runs.

    Parameters
    ----------
    db : Database
        A SQLite database.
    out_path : path
        The backup file; replaced atomically when it exists.
    actor : str
        Username; a ``database.backup`` audit row is written to the live database.

    Returns
    -------
    BackupInfo

    Raises
    ------
    InputError
        When the database is not SQLite (``database``).
    """
    actor = validate_actor(actor)
    _sqlite_path(db.url)  # refuses PostgreSQL
    out_path = output_path(out_path, "out")
    remove_stale_temporaries(out_path.parent)
    handle, tmp_name = tempfile.mkstemp(prefix=temporary_prefix("backup"), suffix=".sqlite3", dir=out_path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        raw = db.engine.raw_connection()
        try:
            target = sqlite3.connect(tmp)
            try:
                raw.driver_connection.backup(target)  # pages=-1: the whole snapshot in one step
                target.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
            finally:
                target.close()
        finally:
            raw.close()
        revision, counts = inspect_database_file(tmp, "backup")
        size = tmp.stat().st_size
        digest = _sha256(tmp)
        os.replace(tmp, out_path)
    except BaseException:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        raise
    with db.session() as session:
        write_audit(session, actor, "database.backup", "database", None, {"bytes": size, "sha256": digest, "revision": revision})
    return BackupInfo(out_path, size, digest, revision, counts)


def restore(db_url_or_path: str | os.PathLike, backup_file: str | os.PathLike, *, actor: str = "system") -> RestoreInfo:
    """Replace a SQLite StepBack database with a checked backup, all or nothing.

    Parameters
    ----------
    db_url_or_path : str or path
        ``sqlite:///PATH`` or a file path: the database to replace (created
        when missing).
    backup_file : path
        A file made by :func:`backup`.
    actor : str
        Username; a ``database.restore`` audit row is written to the restored database.

    Returns
    -------
    RestoreInfo

    Raises
    ------
    InputError
        ``backup_file`` when it is not a StepBack database at a known
        revision (nothing is changed); ``database`` for a non-SQLite target
        or when the target cannot be written (it is left as it was).
    """
    actor = validate_actor(actor)
    target = _sqlite_path(db_url_or_path)
    if target.exists() and not target.is_file():
        raise InputError("database", f"{str(target)[:200]} is not a file; allowed: a SQLite database file")
    revision_in_file, _ = inspect_database_file(backup_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".stepback-restore-", suffix=".sqlite3", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        source = sqlite3.connect(f"{Path(backup_file).resolve().as_uri()}?mode=ro", uri=True)
        staging = sqlite3.connect(tmp)
        try:
            source.backup(staging)
        finally:
            staging.close()
            source.close()
        staged = Database(f"sqlite:///{tmp}")
        try:
            if staged.current_revision() != head_revision():
                staged.upgrade()  # an older backup is brought to the current schema before it goes live
            revision_now = staged.current_revision()
        finally:
            staged.dispose()
        _, counts = inspect_database_file(tmp, "backup_file")
        newer = _audit_rows_newer_than(target, _newest_audit(tmp))
        safety_copy = _safety_copy(target) if newer else None
        source = sqlite3.connect(tmp)
        try:
            destination = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as err:
            source.close()
            raise InputError("database", f"cannot open {target.name[:200]}: {err}; it was left unchanged") from None
        try:
            source.backup(destination)  # one SQLite transaction on the target
        except sqlite3.Error as err:
            raise InputError("database", f"cannot write {target.name[:200]}: {err}; it was left unchanged") from None
        finally:
            destination.close()
            source.close()
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    restored = Database(f"sqlite:///{target}")
    try:  # written after the restore, into the restored database: nothing in the file can remove it
        with restored.session() as session:
            write_audit(session, actor, "database.restore", "database", None,
                        {"revision_in_file": revision_in_file, "revision": revision_now,
                         "audit_rows_after_backup": newer, "safety_copy": safety_copy is not None})
    finally:
        restored.dispose()
    return RestoreInfo(target, revision_in_file, revision_now, counts, newer, safety_copy)


def _newest_audit(path: Path) -> str | None:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT max(at) FROM audit_log").fetchone()[0]
    finally:
        connection.close()


def _audit_rows_newer_than(target: Path, stamp: str | None) -> int:
    """Audit rows of the current database written after the backup's newest one (they will be gone)."""
    if not target.is_file() or target.stat().st_size == 0:
        return 0
    try:
        connection = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        try:
            query = "SELECT count(*) FROM audit_log" + ("" if stamp is None else " WHERE at > ?")
            return connection.execute(query, () if stamp is None else (stamp,)).fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return 0  # not a StepBack database yet: nothing of ours is lost


def _safety_copy(target: Path) -> Path:
    """A consistent copy of the current database next to it, made before it is replaced."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    copy = target.with_name(f"{target.name}.before-restore-{stamp}")
    source = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
    destination = sqlite3.connect(copy)
    try:
        source.backup(destination)
    except sqlite3.Error as err:
        copy.unlink(missing_ok=True)
        raise InputError("database", f"cannot save the current database before the restore: {err}") from None
    finally:
        destination.close()
        source.close()
    return copy
