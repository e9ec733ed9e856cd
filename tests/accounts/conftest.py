"""Fixtures for the accounts tests: a real SQLite file per test."""

from __future__ import annotations

import pytest

from records import Database


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'stepback.sqlite3'}")
    database.upgrade()
    yield database
    database.dispose()
