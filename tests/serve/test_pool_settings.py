"""The PostgreSQL connection pool of each app process follows STEPBACK_DB_POOL_SIZE / STEPBACK_DB_MAX_OVERFLOW."""

from __future__ import annotations

import pytest

from assessment import InputError
from records.db import Database

URL = "postgresql+psycopg://nobody@127.0.0.1:1/never"  # the engine connects lazily: nothing is contacted


def test_defaults_are_sqlalchemys(monkeypatch):
    monkeypatch.delenv("STEPBACK_DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("STEPBACK_DB_MAX_OVERFLOW", raising=False)
    pool = Database(URL).engine.pool
    assert (pool.size(), pool._max_overflow, pool._pre_ping) == (5, 10, True)


def test_settings_size_the_pool(monkeypatch):
    monkeypatch.setenv("STEPBACK_DB_POOL_SIZE", "3")
    monkeypatch.setenv("STEPBACK_DB_MAX_OVERFLOW", "0")
    pool = Database(URL).engine.pool
    assert (pool.size(), pool._max_overflow) == (3, 0)


@pytest.mark.parametrize("name, value", [("STEPBACK_DB_POOL_SIZE", "0"), ("STEPBACK_DB_POOL_SIZE", "five"),
                                         ("STEPBACK_DB_MAX_OVERFLOW", "-1"), ("STEPBACK_DB_MAX_OVERFLOW", "2000")])
def test_bad_settings_name_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError) as err:
        Database(URL)
    assert err.value.field == name and "whole number" in err.value.message

