"""The Database object: URLs, SQLite pragmas, one transaction per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from records import Conflict, Database, default_database_url
from records import services as svc
from records.db import DATABASE_URL_ENV, SQLITE_BUSY_TIMEOUT_MS
from records.schema import ModelVersion, Patient, TrialRow

sqlite_only = pytest.mark.usefixtures("_require_sqlite")


@pytest.fixture
def _require_sqlite(db):
    if db.dialect != "sqlite":
        pytest.skip("SQLite pragmas")


def _pragma(database: Database, name: str):
    with database.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


@sqlite_only
def test_wal_mode_is_on(db):
    assert _pragma(db, "journal_mode") == "wal"
    # persistent in the file: a brand-new engine without our listener sees it too
    raw = sa.create_engine(db.url)
    try:
        with raw.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        raw.dispose()


@sqlite_only
@pytest.mark.parametrize(("pragma", "expected"), [("foreign_keys", 1), ("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)])
def test_connection_pragmas(db, pragma, expected):
    assert _pragma(db, pragma) == expected


def test_default_url_is_a_file_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = default_database_url()
    expected = tmp_path / "xdg" / "stepback" / "stepback.sqlite3"
    assert url == f"sqlite:///{expected}"
    assert expected.parent.is_dir()


def test_environment_overrides_default_and_argument_overrides_environment(tmp_path, monkeypatch):
    env_url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    arg_url = f"sqlite:///{tmp_path / 'arg' / 'nested' / 'arg.sqlite3'}"
    monkeypatch.setenv(DATABASE_URL_ENV, env_url)
    from_env, from_arg = Database(), Database(arg_url)
    try:
        assert from_env.url == env_url
        assert from_arg.url == arg_url
        assert (tmp_path / "arg" / "nested").is_dir()  # parent folder created
    finally:
        from_env.dispose()
        from_arg.dispose()


def test_no_url_and_no_environment_uses_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    database = Database()
    try:
        assert Path(sa.make_url(database.url).database) == tmp_path / "stepback" / "stepback.sqlite3"
    finally:
        database.dispose()


def test_session_rolls_back_everything_on_error(db):
    before = svc.count_rows(db)
    with pytest.raises(RuntimeError):
        with db.session() as session:
            session.add(
                Patient(
                    mrn="X1", given_name="A", family_name="B", birth_date=date(1950, 1, 1), sex=None,
                    population="community", mrn_key="x1", name_key="a b",
                    created_at=sa.func.now(), updated_at=sa.func.now(),
                )
            )
            session.flush()
            raise RuntimeError("boom")
    assert svc.count_rows(db) == before


def test_foreign_keys_are_enforced(db):
    with pytest.raises(Conflict) as info:
        with db.session() as session:
            session.add(
                TrialRow(
                    assessment_id=999, number=1, seconds=5.0, timing_source="stopwatch", start="standing",
                    valid=True, loss_of_balance=False, hands_on_assistance=False, recorded_at=sa.func.now(),
                )
            )
    assert info.value.field == "record"


def test_database_allows_at_most_one_active_model(db):
    for version in ("a", "b"):
        svc.save_model_version(db, version=version, kind="evidence", artifact=b"x", card="card", metrics={})
    with pytest.raises(Conflict):
        with db.session() as session:
            session.execute(sa.update(ModelVersion).values(active=True))
    assert svc.active_model_version(db) is None


def test_repr_hides_the_password():
    database = Database("postgresql+psycopg://user:secret@localhost/stepback")
    try:
        assert "secret" not in repr(database)
    finally:
        database.dispose()


def test_two_writers_at_once_both_succeed(db, patient):
    """Two app sessions (separate engines) recording trials at the same time: none is lost."""
    import threading

    drafts = [svc.start_assessment(db, "M1", assessed_on=date(2024, 3, 4)) for _ in range(2)]
    errors: list[BaseException] = []

    def record(draft_id: int) -> None:
        own = Database(db.url)
        try:
            for _ in range(10):
                svc.record_trial(own, draft_id, 6.0)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=record, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert [len(svc.get_assessment(db, d).trials) for d in drafts] == [10, 10]
