"""Fixtures for the accounts tests: a real SQLite file per test.

With ``STEPBACK_TEST_DATABASE_URL`` set (``postgresql+psycopg://...``) the
tests run against that server; each test starts from an empty schema.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from records import Database

TEST_URL_ENV = "STEPBACK_TEST_DATABASE_URL"


def _emptied(url: str) -> str:
    """``url`` after dropping and recreating its ``public`` schema."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def db(tmp_path):
    server = os.environ.get(TEST_URL_ENV)
    database = Database(_emptied(server) if server else f"sqlite:///{tmp_path / 'stepback.sqlite3'}")
    database.upgrade()
    yield database
    database.dispose()
