"""Session timeout (pure helper and its environment setting) and the accounts migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from assessment import InputError
from records import Database
from records.accounts import (
    DEFAULT_SESSION_TIMEOUT_MINUTES,
    SESSION_TIMEOUT_ENV,
    authenticate,
    list_users,
    session_expired,
    session_timeout_minutes,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("idle", "timeout", "expired"),
    [
        (timedelta(minutes=14, seconds=59), 15, False),
        (timedelta(minutes=15), 15, True),
        (timedelta(hours=3), 15, True),
        (timedelta(0), 15, False),
        (timedelta(minutes=29), 30, False),
        (timedelta(minutes=1), 1, True),
    ],
)
def test_session_expires_after_the_timeout(idle, timeout, expired):
    assert session_expired(T0, T0 + idle, timeout) is expired


def test_a_session_never_seen_is_expired():
    assert session_expired(None, T0, 15) is True


def test_naive_times_are_taken_as_utc():
    naive = T0.replace(tzinfo=None)
    assert session_expired(naive, T0 + timedelta(minutes=16), 15) is True
    assert session_expired(T0, naive + timedelta(minutes=5), 15) is False


def test_the_default_timeout_is_15_minutes_and_the_environment_overrides_it(monkeypatch):
    monkeypatch.delenv(SESSION_TIMEOUT_ENV, raising=False)
    assert session_timeout_minutes() == DEFAULT_SESSION_TIMEOUT_MINUTES == 15
    assert session_expired(T0, T0 + timedelta(minutes=20)) is True
    monkeypatch.setenv(SESSION_TIMEOUT_ENV, "30")
    assert session_timeout_minutes() == 30
    assert session_expired(T0, T0 + timedelta(minutes=20)) is False


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1441", "1.5"])
def test_a_bad_timeout_setting_names_the_variable(value):
    with pytest.raises(InputError) as caught:
        session_timeout_minutes({SESSION_TIMEOUT_ENV: value})
    assert caught.value.field == SESSION_TIMEOUT_ENV and "1 to 1440" in caught.value.message


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_a_bad_timeout_argument_is_refused(value):
    with pytest.raises(InputError):
        session_expired(T0, T0, value)


def test_migration_0002_keeps_existing_clinicians_and_they_cannot_sign_in(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        db.upgrade("0001")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO clinicians (username, display_name, role, created_at) "
                "VALUES ('dave', 'Dave', 'admin', '2024-01-01 00:00:00')"
            )
        db.upgrade()
        (dave,) = list_users(db)
        assert (dave.username, dave.role, dave.has_password, dave.failed_attempts, dave.disabled) == (
            "dave", "admin", False, 0, False)
        with pytest.raises(InputError):
            authenticate(db, "dave", "any password at all")
        db.downgrade("0001")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("clinicians")}
        assert columns == {"id", "username", "display_name", "role", "created_at"}
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT username FROM clinicians").scalar() == "dave"
    finally:
        db.dispose()
