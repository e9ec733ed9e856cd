"""The database connection: one engine, one transaction per user action.

SQLite by default, in the user's data directory; PostgreSQL (psycopg 3,
``postgresql+psycopg://...``) with the same code. The schema is created and
upgraded only by Alembic (:meth:`Database.upgrade`), never by
``create_all``, so an existing database upgrades in place.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .errors import Conflict

#: Environment variable that overrides the default database URL.
DATABASE_URL_ENV = "STEPBACK_DATABASE_URL"
#: File name of the default SQLite database.
DEFAULT_FILE_NAME = "stepback.sqlite3"
#: How long a SQLite connection waits for another writer, milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 5000
#: Alembic's script location, found through the installed package.
MIGRATIONS = "records:migrations"


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
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The StepBack database: an engine and a session factory.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL. Default: ``$STEPBACK_DATABASE_URL`` when set, else
        :func:`default_database_url`. For a SQLite file the parent
        directory is created.

    Notes
    -----
    Creating a ``Database`` does not create or upgrade the schema; call
    :meth:`upgrade`, or use :func:`open_database`.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url)
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

        with self.engine.begin() as connection:
            command.upgrade(self._alembic_config(connection), revision)

    def downgrade(self, revision: str) -> None:
        """Run ``alembic downgrade`` to ``revision`` (``base`` drops every table)."""
        from alembic import command

        with self.engine.begin() as connection:
            command.downgrade(self._alembic_config(connection), revision)

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at, or None when unversioned."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error.

        A unique or foreign-key violation that the services' own checks did
        not catch (two writers at once) is raised as :class:`Conflict`.
        """
        with self._sessions() as session:
            try:
                with session.begin():
                    yield session
            except IntegrityError as exc:
                raise Conflict("record", "a conflicting change was saved at the same time; try again") from exc

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
    database.upgrade()
    return database
