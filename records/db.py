"""The database connection: one engine, one transaction per user action.

SQLite by default, in the user's data directory; PostgreSQL (psycopg 3,
``postgresql+psycopg://...``) with the same code. The schema is created and
upgraded only by Alembic (:meth:`Database.upgrade`), never by
``create_all``, so an existing database upgrades in place.
"""

from __future__ import annotations

import functools
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from assessment.errors import InputError

from .errors import Conflict
from .scope import apply_scope

T = TypeVar("T")

#: Environment variable that overrides the default database URL.
DATABASE_URL_ENV = "STEPBACK_DATABASE_URL"
#: Settings of the connection pool of a database server (PostgreSQL), per app process.
POOL_SIZE_ENV = "STEPBACK_DB_POOL_SIZE"
MAX_OVERFLOW_ENV = "STEPBACK_DB_MAX_OVERFLOW"
#: SQLAlchemy's own defaults: 5 kept-open connections, 10 more at a peak.
DEFAULT_POOL_SIZE, DEFAULT_MAX_OVERFLOW = 5, 10
#: File name of the default SQLite database.
DEFAULT_FILE_NAME = "stepback.sqlite3"
#: How long a SQLite connection waits for another writer, milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 5000
#: Alembic's script location, found through the installed package.
MIGRATIONS = "records:migrations"


class DatabaseBusy(InputError):
    """Another writer held the SQLite database for longer than the retry bound.

    An :class:`assessment.InputError` (field ``database``), so the CLI and the
    app show it as one line; nothing of the action was saved.
    """

    def __init__(self) -> None:
        super().__init__("database", "the database is busy; try again")


@dataclass(frozen=True)
class BusyRetry:
    """How long an action retries taking SQLite's write lock before giving up.

    Each attempt already waits up to :data:`SQLITE_BUSY_TIMEOUT_MS` inside
    SQLite; between attempts the action sleeps ``first_delay * 2**k``
    seconds (at most ``max_delay``, with up to 50 % random jitter so waiting
    writers do not wake in step).

    Parameters
    ----------
    attempts : int
        Attempts in all, at least 1.
    first_delay, max_delay : float
        Backoff between attempts, seconds.
    deadline : float
        No new attempt starts once this many seconds have passed since the first.
    """

    attempts: int = 6
    first_delay: float = 0.05
    max_delay: float = 1.0
    deadline: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (0-based)."""
        base = min(self.max_delay, self.first_delay * 2**attempt)
        return base * (1 + random.random() / 2)


#: The retry bound every :class:`Database` uses unless given another.
DEFAULT_BUSY_RETRY = BusyRetry()


def is_busy_error(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy" (``SQLITE_BUSY``, ``SQLITE_LOCKED``).

    Accepts the driver's ``sqlite3.OperationalError`` or SQLAlchemy's
    wrapper around it; anything else (a PostgreSQL error, a missing table) is False.
    """
    orig = exc.orig if isinstance(exc, OperationalError) else exc
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message or "busy" in message


def default_database_url() -> str:
    """The default URL: a SQLite file in the user's data directory.

    The directory (``platformdirs.user_data_dir("stepback")``) is created
    when missing.

    Returns
    -------
    str
        ``sqlite:///<data dir>/stepback.sqlite3``.
    """
    directory = Path(platformdirs.user_data_dir("stepback"))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / DEFAULT_FILE_NAME}"


def resolve_url(url: str | None = None) -> str:
    """The URL to use: ``url``, else ``$STEPBACK_DATABASE_URL``, else the default."""
    if url:
        return url
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def _pool_setting(name: str, default: int, low: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= 1000:
        raise InputError(name, f"{raw!r} is not a whole number from {low} to 1000")
    return value


def pool_options() -> dict:
    """Connection-pool arguments for a database server, from ``$STEPBACK_DB_POOL_SIZE`` and ``$STEPBACK_DB_MAX_OVERFLOW``.

    Each app process holds up to ``pool_size + max_overflow`` connections;
    a clinic's hosts × processes × that must stay below the server's
    ``max_connections``. Connections are checked before use
    (``pool_pre_ping``), so a restarted server costs no failed page.

    Raises
    ------
    InputError
        A setting that is not a whole number in range (pool size 1–1000, overflow 0–1000).
    """
    return {"pool_size": _pool_setting(POOL_SIZE_ENV, DEFAULT_POOL_SIZE, 1),
            "max_overflow": _pool_setting(MAX_OVERFLOW_ENV, DEFAULT_MAX_OVERFLOW, 0),
            "pool_pre_ping": True}


#: ``Session.info`` key (and connection execution option) of a read-only session.
READ_ONLY = "stepback_read_only"
#: ``Session.info`` key: audit rows a read-only session leaves to be written after it.
PENDING_AUDIT = "stepback_pending_audit"


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_read_only(session: Session, _context, _instances) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read-only session cannot write; open it with read_only=False")


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout on every connection; real transactions.

    pysqlite's own transaction handling begins a transaction only before a
    write, so a read-then-write action is not atomic. We switch it off and
    emit ``BEGIN IMMEDIATE`` ourselves (SQLAlchemy's documented recipe):
    each action takes the write lock at its start and waits up to the busy
    timeout for another writer instead of failing half way.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # a read-only session begins DEFERRED: in WAL mode it reads a snapshot and
        # neither waits for nor holds up a writer
        read_only = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """The StepBack database: an engine and a session factory.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL. Default: ``$STEPBACK_DATABASE_URL`` when set, else
        :func:`default_database_url`. For a SQLite file the parent
        directory is created.
    busy_retry : BusyRetry, optional
        How long an action retries SQLite's write lock before raising
        :class:`DatabaseBusy` (default :data:`DEFAULT_BUSY_RETRY`).

    Notes
    -----
    Creating a ``Database`` does not create or upgrade the schema; call
    :meth:`upgrade`, or use :func:`open_database`.
    """

    def __init__(self, url: str | None = None, *, busy_retry: BusyRetry = DEFAULT_BUSY_RETRY) -> None:
        self.url = resolve_url(url)
        self.busy_retry = busy_retry
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url, **({} if parsed.get_backend_name() == "sqlite" else pool_options()))
        if _is_sqlite(self.engine):
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def _alembic_config(self, connection):
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        config.attributes["connection"] = connection
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Run ``alembic upgrade`` (default: to head) in one transaction.

        Safe on an existing database: only missing revisions run.
        """
        from alembic import command

        def run() -> None:
            with self.engine.begin() as connection:
                command.upgrade(self._alembic_config(connection), revision)

        self._retry_busy(run)

    def downgrade(self, revision: str) -> None:
        """Run ``alembic downgrade`` to ``revision`` (``base`` drops every table)."""
        from alembic import command

        def run() -> None:
            with self.engine.begin() as connection:
                command.downgrade(self._alembic_config(connection), revision)

        self._retry_busy(run)

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at, or None when unversioned."""
        from alembic.runtime.migration import MigrationContext

        def read() -> str | None:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()

        return self._retry_busy(read)  # a writer's lock: retried, then "busy", never the driver's error

    def _retry_busy(self, action: Callable[[], T]) -> T:
        """Run ``action`` (one whole transaction); retry it while SQLite is busy.

        Only for actions that roll back completely when they fail, so a
        retry never repeats a committed change. Gives up after
        ``busy_retry.attempts`` attempts or ``busy_retry.deadline`` seconds
        with :class:`DatabaseBusy`; never lets the driver's
        "database is locked" reach the user.
        """
        policy = self.busy_retry
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return action()
            except OperationalError as exc:
                if not is_busy_error(exc):
                    raise
                pause = policy.delay(attempt)
                attempt += 1
                if attempt >= policy.attempts or time.monotonic() - started + pause > policy.deadline:
                    raise DatabaseBusy() from exc
                time.sleep(pause)

    def _begin(self, read_only: bool = False) -> tuple[Session, SessionTransaction]:
        """A new session and its begun transaction (on SQLite a writer's holds the write lock)."""
        session = self._sessions()
        session.info[READ_ONLY] = read_only
        try:
            transaction = session.begin()
            # BEGIN (IMMEDIATE) now, not at the first statement
            session.connection(execution_options={READ_ONLY: True} if read_only else None)
        except BaseException:
            session.close()
            raise
        return session, transaction

    @contextmanager
    def session(self, actor: str | None = None, *, read_only: bool = False) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error.

        With ``actor``, the session is limited to that user's clinic
        (:mod:`records.scope`, the one access rule): patients of other
        clinics and everything hanging off them are not found, and writing
        them is refused.

        The transaction begins before the ``with`` body runs: on SQLite that
        is ``BEGIN IMMEDIATE``, which takes the write lock. While another
        writer holds it, beginning is retried with backoff
        (:class:`BusyRetry`); once begun, nothing in the body can meet a busy
        database. So the body runs once, and a busy database ends in
        :class:`DatabaseBusy` ("the database is busy; try again"), never in
        the driver's raw error. A unique or foreign-key violation that the
        services' own checks did not catch (two writers at once) is raised
        as :class:`Conflict`.

        With ``read_only``, the session reads only: on SQLite it begins
        ``DEFERRED`` and reads a snapshot without the write lock, so a page
        that only shows records never waits behind, or holds up, another
        clinician's save. Writing in it is refused (``before_flush``). The
        audit rows of what it read (:func:`records.audit.write_audit`) are
        written in a short transaction of their own when the read has
        succeeded; should that fail, the error reaches the caller instead
        of the records, so nothing is shown unaudited.
        """
        session, transaction = self._retry_busy(functools.partial(self._begin, read_only))
        with session:
            try:
                with transaction:  # commits, or rolls back on any error
                    if actor is not None:
                        apply_scope(session, actor)
                    yield session
            except IntegrityError as exc:
                raise Conflict("record", "a conflicting change was saved at the same time; try again") from exc
            except OperationalError as exc:
                if is_busy_error(exc):
                    raise DatabaseBusy() from exc
                raise
            pending = session.info.pop(PENDING_AUDIT, None)
        if pending:
            with self.session() as writer:
                writer.add_all(pending)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_database(url: str | None = None) -> Database:
    """Open the database and bring its schema up to date (what the CLI calls).

    Parameters
    ----------
    url : str, optional
        As for :class:`Database`.

    Returns
    -------
    Database
        Upgraded to the newest migration.
    """
    database = Database(url)
    if database.current_revision() != head_revision():  # a database at head needs no Alembic run
        database.upgrade()
    return database


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision id (read once per process from the migration scripts)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(config).get_current_head()
