"""The CLI carries the one safety decision: program_tier / program_reasons, and --screen (issue 9)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
from assessment.program import SAFETY_SCREEN_KEYS
from tests.program.oracle import never_looser

CLEAR = [a for k in SAFETY_SCREEN_KEYS for a in ("--screen", f"{k}=no")]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path, capsys):
    path = str(tmp_path / "clinic.sqlite3")
    code, _, err = run(capsys, "patient", "add", "--db", path, "--create", "--mrn", "M1", "--given", "Ana", "--family", "Ruiz",
                       "--birth-date", "1948-03-02", "--sex", "female")
    assert code == 0, err
    return path


def _rows(db_path):
    from records import services
    from records.db import Database

    return {k: v for k, v in services.count_rows(Database(f"sqlite:///{db_path}")).items() if k != "audit_log"}


def test_assess_history_and_score_json_carry_the_program(capsys, db):
    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "2.8", "--trial", "2.8",
                         "--date", "2026-05-01", "--prior-falls", "0", "--walking-aid", "no", *CLEAR, "--json")
    assert code == 0, err
    clear = json.loads(out)
    assert clear["program_tier"] == "independent" and clear["risk_level"] == "low"
    assert isinstance(clear["program_reasons"], list) and clear["program_reasons"]

    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "5.6", "--trial", "5.9",
                         "--date", "2026-06-01", "--prior-falls", "0", "--walking-aid", "no", *CLEAR, "--json")
    slow = json.loads(out)
    assert slow["program_tier"] == "supervised" and slow["risk_level"] == "high"
    assert any("faller cut-off" in r for r in slow["program_reasons"])

    code, out, _ = run(capsys, "history", "--db", db, "--mrn", "M1", "--json")
    rows = json.loads(out)
    assert [r["program_tier"] for r in rows] == ["independent", "supervised"]
    assert all(r["program_reasons"] for r in rows)

    code, out, _ = run(capsys, "score", "--trial", "5.7", "--prior-falls", "0", "--walking-aid", "no", *CLEAR, "--json")
    assert code == 0 and json.loads(out)["program_tier"] == "supervised"
    code, out, _ = run(capsys, "score", "--trial", "2.8", "--json")  # unscreened: supervised
    result = json.loads(out)
    assert result["program_tier"] == "supervised"
    assert any("Safety screen not recorded" in r for r in result["program_reasons"])


def test_assess_stores_what_the_rule_gives_for_the_stored_facts(capsys, db):
    from records import services
    from records.db import Database

    code, _, err = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "4.5", "--prior-falls", "2+",
                       "--walking-aid", "yes", *CLEAR)
    assert code == 0, err
    (view,) = services.history(Database(f"sqlite:///{db}"), "M1")
    never_looser(view, "community")
    assert view.program_tier == "supervised"


def test_human_output_names_the_program(capsys, db):
    code, out, _ = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "3.6", *CLEAR)
    assert code == 0
    assert "Program         supported" in out and "because:" in out


@pytest.mark.parametrize(
    "screen",
    [
        ["--screen", "smoker=yes"],
        ["--screen", "balance_disorder_or_vertigo"],
        ["--screen", "balance_disorder_or_vertigo=perhaps", *CLEAR[2:]],
        CLEAR[:-2],  # six of seven
        [*CLEAR, "--screen", "uses_walking_aid=yes"],  # twice
    ],
)
def test_a_bad_screen_is_one_line_exit_2_and_writes_nothing(capsys, db, screen):
    before = _rows(db)
    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "3.0", *screen)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and ("--screen" in err or "safety_screen" in err), err
    assert _rows(db) == before


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    trials=st.lists(st.sampled_from(["2.8", "3.4", "4.5", "5.6", "8.2", "12.0"]), min_size=1, max_size=2),
    falls=st.sampled_from([None, "0", "1", "2+"]),
    aid=st.sampled_from([None, "yes", "no"]),
    answers=st.one_of(st.none(), st.fixed_dictionaries({k: st.sampled_from(["yes", "no"]) for k in SAFETY_SCREEN_KEYS})),
    tug=st.sampled_from([None, "9", "14"]),
)
def test_every_cli_assessment_stores_no_looser_program_than_the_rule(capsys, db, trials, falls, aid, answers, tug):
    from records import services
    from records.db import Database

    argv = ["assess", "--db", db, "--mrn", "M1", "--date", "2026-05-01"]
    argv += [a for t in trials for a in ("--trial", t)]
    argv += ["--prior-falls", falls] if falls else []
    argv += ["--walking-aid", aid] if aid else []
    argv += ["--tug", tug] if tug else []
    argv += [a for k, v in (answers or {}).items() for a in ("--screen", f"{k}={v}")]
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    printed = json.loads(out)
    database = Database(f"sqlite:///{db}")
    try:
        view = services.get_assessment(database, printed["assessment_id"])
    finally:
        database.dispose()
    never_looser(view, "community")
    assert printed["program_tier"] == view.program_tier


def test_amend_writes_a_new_version_scored_again_and_keeps_the_old(capsys, db):
    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "2.8", "--prior-falls", "0",
                         "--walking-aid", "no", *CLEAR, "--json")
    first = json.loads(out)
    assert first["program_tier"] == "independent"
    code, out, err = run(capsys, "amend", "--db", db, "--assessment", str(first["assessment_id"]),
                         "--reason", "two falls were not asked", "--prior-falls", "2+", "--json")
    assert code == 0, err
    amended = json.loads(out)
    assert amended["version"] == 2 and amended["supersedes_id"] == first["assessment_id"]
    assert amended["program_tier"] == "supervised"
    code, out, _ = run(capsys, "history", "--db", db, "--mrn", "M1", "--json")
    (current,) = json.loads(out)
    assert current["assessment_id"] == amended["assessment_id"] and current["version"] == 2
    # the old version is still there, and cannot be amended again
    before = _rows(db)
    code, out, err = run(capsys, "amend", "--db", db, "--assessment", str(first["assessment_id"]),
                         "--reason", "again", "--trial", "3.0")
    assert code == 2 and err.count("\n") == 1 and "amended by" in err
    assert _rows(db) == before


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ([], "nothing to amend"),
        (["--trial", "abc"], "trial_1"),
        (["--reason", "", "--trial", "3.0"], "reason"),
        (["--trial", "3.0", "--assessment", "999"], "no assessment with id 999"),
    ],
)
def test_bad_amend_is_one_line_exit_2_and_writes_nothing(capsys, db, extra, needle):
    code, out, _ = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "2.8", "--json")
    aid = json.loads(out)["assessment_id"]
    before = _rows(db)
    argv = ["amend", "--db", db, "--assessment", str(aid), "--reason", "fix"] + extra
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err
    assert _rows(db) == before
