"""Alembic migrations: empty → head, migrations == models, downgrade and upgrade in place."""

from __future__ import annotations

from importlib.resources import files

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from assessment.program import SAFETY_SCREEN_KEYS

from records import open_database
from records import services as svc
from records.db import MIGRATIONS
from records.schema import Base

MODEL_TABLES = {t.name for t in Base.metadata.sorted_tables}


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(config).get_current_head()


def _tables(database) -> set[str]:
    return set(sa.inspect(database.engine).get_table_names())


def _diff(database) -> list:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def test_scripts_are_found_inside_the_installed_package():
    folder = files("records") / "migrations"
    assert (folder / "env.py").is_file()
    assert (folder / "script.py.mako").is_file()
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    assert [r.revision for r in scripts.walk_revisions()][-1] == "0001"


def test_upgrade_from_empty_database_to_head(empty_db):
    assert _tables(empty_db) - {"alembic_version"} == set()
    assert empty_db.current_revision() is None
    empty_db.upgrade()
    assert empty_db.current_revision() == _head()
    assert _tables(empty_db) == MODEL_TABLES | {"alembic_version"}


def test_migrations_match_the_models(db):
    assert _diff(db) == []


def test_downgrade_to_base_then_upgrade_again(db):
    db.downgrade("base")
    assert _tables(db) - {"alembic_version"} == set()
    assert db.current_revision() is None
    db.upgrade()
    assert db.current_revision() == _head()
    assert _diff(db) == []


def test_existing_database_upgrades_in_place_keeping_its_data(db, final_assessment):
    before = svc.count_rows(db)
    again = open_database(db.url)  # what the CLI does on every start
    try:
        assert again.current_revision() == _head()
        assert svc.count_rows(again) == before
        assert svc.get_assessment(again, final_assessment.id).mean_seconds == final_assessment.mean_seconds
    finally:
        again.dispose()


def test_0004_backfills_every_final_rows_program_with_the_rule(db, patient):
    """A row stored before the decision existed (a 'low' category at 5.7 s) is backfilled supervised."""
    view, _ = svc.record_assessment(
        db, patient.mrn, {"trials": [5.7], "assessed_on": "2024-03-04", "prior_falls": 0, "walking_aid": "no",
                          "safety_screen": {k: "no" for k in SAFETY_SCREEN_KEYS}},
        risk_fn=lambda *_: {"probability": 0.1, "probability_low": 0.05, "probability_high": 0.2,
                            "risk_category": "low", "model_version": "old"},
    )
    db.downgrade("0003")
    with db.engine.begin() as connection:
        assert "program_tier" not in {c["name"] for c in sa.inspect(connection).get_columns("assessments")}
    db.upgrade()
    stored = svc.get_assessment(db, view.id)
    assert stored.program_tier == "supervised"
    assert any("high-risk band" in r for r in stored.program_reasons)
