"""The `stepback` command contract: output fields, exit codes, nothing written on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- score

SCORE_FIELDS = {"mean_seconds", "speed_m_per_s", "valid_trials", "population", "band", "cutoffs",
                "reference_cohort", "percentile", "z"}
CHANGE_FIELDS = {"change_seconds", "mdc95", "change"}


def test_score_json_has_the_contract_fields(capsys):
    code, out, err = run(capsys, "score", "--age", "78", "--sex", "female", "--trial", "5.2", "--trial", "5.6",
                         "--previous", "6.4", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert SCORE_FIELDS | CHANGE_FIELDS <= data.keys()
    assert data["mean_seconds"] == pytest.approx(5.4)
    assert data["speed_m_per_s"] == pytest.approx(3 / 5.4, abs=1e-4)
    assert data["valid_trials"] == 2
    assert data["population"] == "community"
    assert data["band"] == "high"
    assert data["reference_cohort"] == "polo_ferrero_2025_nonfallers"
    assert data["change_seconds"] == pytest.approx(-1.0)
    assert data["change"] == "improved"
    assert data["scoring_rule"].startswith("mean of the valid timed trials")


def test_score_without_previous_has_no_change_fields(capsys):
    code, out, _ = run(capsys, "score", "--age", "70", "--sex", "male", "--trial", "2.9", "--json")
    data = json.loads(out)
    assert code == 0 and data["band"] == "low"
    assert not CHANGE_FIELDS & data.keys()


def test_score_text_output_names_the_rule_and_the_cohort(capsys):
    code, out, _ = run(capsys, "score", "--age", "78", "--sex", "female", "--trial", "5.2", "--trial", "5.6")
    assert code == 0
    assert "mean of the valid timed trials" in out
    assert "Polo-Ferrero 2025" in out


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--age", "78", "--sex", "female", "--trial", "0.5"], "trial_1"),
        (["--age", "78", "--sex", "female", "--trial", "5", "--trial", "121"], "trial_2"),
        (["--age", "78", "--sex", "female", "--trial", "abc"], "trial_1"),
        (["--age", "17", "--sex", "female", "--trial", "5"], "age"),
        (["--age", "78.5", "--sex", "female", "--trial", "5"], "age"),
        (["--age", "78", "--sex", "x", "--trial", "5"], "sex"),
        (["--age", "78", "--sex", "female", "--population", "mars", "--trial", "5"], "population"),
        (["--age", "78", "--sex", "female", "--trial", "5", "--previous", "0"], "previous_seconds"),
        (["--age", "78", "--sex", "female"], "--trial"),
    ],
)
def test_score_bad_input_exits_2_with_one_line_naming_the_field(capsys, argv, field):
    code, out, err = run(capsys, "score", *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert field in lines[0]


def test_unknown_option_is_one_line_exit_2(capsys):
    code, _, err = run(capsys, "score", "--bogus")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--bogus" in err


def test_console_script_exit_codes():
    exe = shutil.which("stepback") or str((__import__("pathlib").Path(sys.executable).parent / "stepback"))
    ok = subprocess.run([exe, "score", "--trial", "5", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["mean_seconds"] == 5.0
    bad = subprocess.run([exe, "score", "--trial", "500"], capture_output=True, text=True)
    assert bad.returncode == 2 and "trial_1" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- batch


def test_batch_csv_matches_single_scoring(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text(
        "id,age,sex,population,trial_1,trial_2,trial_3,previous\n"
        "a,78,female,community,5.2,5.6,,6.4\n"
        "b,81,male,nursing_home,9.0,8.0,,\n"
        "c,,,parkinsons,4.2,,,6.5\n"
        "d,70,female,,2.5,2.7,2.6,\n"
    )
    out = tmp_path / "scored.csv"
    code, _, err = run(capsys, "score", "--csv", str(src), "--out", str(out))
    assert code == 0, err
    df = pd.read_csv(out)
    assert list(df["id"]) == ["a", "b", "c", "d"]
    for _, row in df.iterrows():
        argv = ["score", "--json"]
        for col in ("trial_1", "trial_2", "trial_3"):
            if not pd.isna(row[col]):
                argv += ["--trial", str(row[col])]
        if not pd.isna(row["previous"]):
            argv += ["--previous", str(row["previous"])]
        if not pd.isna(row["population"]):
            argv += ["--population", row["population"]]
        _, single_out, _ = run(capsys, *argv)
        single = json.loads(single_out)
        assert row["mean_seconds"] == pytest.approx(single["mean_seconds"])
        assert row["speed_m_per_s"] == pytest.approx(single["speed_m_per_s"])
        assert row["valid_trials"] == single["valid_trials"]
        assert (None if pd.isna(row["band"]) else row["band"]) == single["band"]
        for key in ("percentile", "z"):
            assert (None if pd.isna(row[key]) else pytest.approx(row[key])) == single[key]
        if "change" in single:
            assert row["change"] == single["change"]
            assert row["mdc95"] == pytest.approx(single["mdc95"])


def test_batch_bad_row_names_line_and_column_and_writes_nothing(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("age,sex,trial_1,trial_2\n78,female,5.2,5.6\n80,female,5.0,0.3\n")
    out = tmp_path / "scored.csv"
    code, _, err = run(capsys, "score", "--csv", str(src), "--out", str(out))
    assert code == 2
    assert "trial_2" in err and "line 3" in err
    assert not out.exists()


def test_batch_needs_out(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("trial_1\n5\n")
    code, _, err = run(capsys, "score", "--csv", str(src))
    assert code == 2 and "--out" in err


# --------------------------------------------------------------------------- store


@pytest.fixture
def db(tmp_path):
    """A new, migrated SQLite file (the CLI makes one only with --create)."""
    from records.db import open_database

    path = tmp_path / "clinic.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    return str(path)


def _counts(db_path):
    from records import services
    from records.db import Database

    return services.count_rows(Database(f"sqlite:///{db_path}"))


def test_patient_assess_history_round_trip(capsys, db):
    code, _, err = run(capsys, "patient", "add", "--db", db, "--mrn", "M1", "--given", "Ana", "--family", "Ruiz",
                       "--birth-date", "1948-03-02", "--sex", "female")
    assert code == 0, err
    code, out, _ = run(capsys, "patient", "list", "--db", db, "--json")
    patients = json.loads(out)
    assert [p["mrn"] for p in patients] == ["M1"] and patients[0]["population"] == "community"

    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "6.4", "--trial", "6.4",
                         "--date", "2026-05-01", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["mean_seconds"] == pytest.approx(6.4) and "change" not in first

    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "5.2", "--trial", "5.6",
                         "--date", "2026-11-01", "--json")
    second = json.loads(out)
    assert SCORE_FIELDS | CHANGE_FIELDS <= second.keys()
    assert second["change_seconds"] == pytest.approx(-1.0)
    assert second["change"] == "improved"

    code, out, _ = run(capsys, "history", "--db", db, "--mrn", "M1", "--json")
    history = json.loads(out)
    assert [h["assessed_on"] for h in history] == ["2026-05-01", "2026-11-01"]


def test_assess_defaults_to_today(capsys, db):
    run(capsys, "patient", "add", "--db", db, "--mrn", "M2", "--given", "Jo", "--family", "Lee",
        "--birth-date", "1950-01-01", "--sex", "male")
    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "M2", "--trial", "4.0", "--json")
    assert code == 0, err
    assert json.loads(out)["assessed_on"] == date.today().isoformat()


@pytest.mark.parametrize(
    "argv",
    [
        ["assess", "--mrn", "M1", "--trial", "0.2"],
        ["assess", "--mrn", "M1", "--trial", "5", "--trial", "999"],
        ["assess", "--mrn", "M1", "--trial", "5", "--date", "2999-01-01"],
        ["assess", "--mrn", "M1", "--trial", "5", "--start", "sideways"],
        ["assess", "--mrn", "NOPE", "--trial", "5"],
        ["patient", "add", "--mrn", "M1", "--given", "Dup", "--family", "X", "--birth-date", "1950-01-01", "--sex", "male"],
        ["patient", "add", "--mrn", "M 9", "--given", "A", "--family", "B", "--birth-date", "1950-01-01", "--sex", "male"],
        ["patient", "add", "--mrn", "M9", "--given", "A", "--family", "B", "--birth-date", "1950-13-01", "--sex", "male"],
        ["patient", "add", "--mrn", "M9", "--given", "A", "--family", "B", "--birth-date", "1950-01-01", "--sex", "m"],
        ["patient", "add", "--mrn", "M9", "--given", "", "--family", "B", "--birth-date", "1950-01-01", "--sex", "male"],
        ["patient", "add", "--mrn", "M9", "--given", "A", "--family", "B", "--birth-date", "1950-01-01", "--sex", "male",
         "--population", "moon"],
    ],
)
def test_bad_input_writes_nothing(capsys, db, argv):
    run(capsys, "patient", "add", "--db", db, "--mrn", "M1", "--given", "Ana", "--family", "Ruiz",
        "--birth-date", "1948-03-02", "--sex", "female")
    run(capsys, "assess", "--db", db, "--mrn", "M1", "--trial", "5.0", "--date", "2026-01-02")
    before = _counts(db)
    code, out, err = run(capsys, *argv, "--db", db)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1
    assert _counts(db) == before


def test_unicode_names_round_trip(capsys, db):
    names = [("Zoë", "Øster-Ñúñez"), ("Łukasz", "Żółć"), ("Σοφία", "Παπαδοπούλου"), ("Анна", "Иванова")]
    for i, (given, family) in enumerate(names):
        code, _, err = run(capsys, "patient", "add", "--db", db, "--mrn", f"U{i}", "--given", given,
                           "--family", family, "--birth-date", "1940-02-29", "--sex", "female")
        assert code == 0, err
    _, out, _ = run(capsys, "patient", "list", "--db", db, "--json")
    assert {(p["given_name"], p["family_name"]) for p in json.loads(out)} == set(names)


def test_env_database_url_is_used(capsys, tmp_path, monkeypatch):
    path = tmp_path / "env.sqlite3"
    monkeypatch.setenv("STEPBACK_DATABASE_URL", f"sqlite:///{path}")
    argv = ["patient", "add", "--mrn", "E1", "--given", "Eve", "--family", "Env", "--birth-date", "1945-05-05",
            "--sex", "female"]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == f"stepback: error: STEPBACK_DATABASE_URL: no database at {path}; add --create to make a new one\n"
    assert not path.exists()
    code, _, err = run(capsys, *argv, "--create")
    assert code == 0, err
    assert path.exists()


@pytest.mark.parametrize("argv", [
    ["patient", "list"], ["patient", "add", "--mrn", "T1", "--given", "A", "--family", "B", "--birth-date",
                          "1950-01-01", "--sex", "male"],
    ["assess", "--mrn", "T1", "--trial", "5"], ["user", "list"], ["model", "list"], ["model", "activate", "x"],
    ["clinic", "show"], ["backup", "--out", "b.sqlite3"], ["export", "--csv", "e.csv"],
    ["report", "--due", "--out-dir", "."], ["score", "--age", "70", "--trial", "5"],
])
@pytest.mark.parametrize("form", ["path", "url", "missing folder"])
def test_a_db_that_does_not_exist_is_not_created(capsys, tmp_path, monkeypatch, argv, form):
    monkeypatch.delenv("STEPBACK_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / ("typo.sqlite3" if form != "missing folder" else "no/such/typo.sqlite3")
    value = f"sqlite:///{path}" if form == "url" else str(path)
    code, out, err = run(capsys, *argv, "--db", value)
    assert (code, out) == (2, "")
    hint = "allowed: an existing StepBack database" if argv[0] == "score" else "add --create to make a new one"
    assert err == f"stepback: error: --db: no database at {path}; {hint}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_create_makes_the_database_and_restore_needs_it_too(capsys, db, tmp_path):
    fresh = tmp_path / "fresh.sqlite3"
    assert run(capsys, "patient", "list", "--db", str(fresh), "--create")[0] == 0
    assert fresh.exists()
    assert run(capsys, "backup", "--db", db, "--out", str(tmp_path / "b.sqlite3"))[0] == 0
    target = tmp_path / "new.sqlite3"
    code, _, err = run(capsys, "restore", "--db", str(target), str(tmp_path / "b.sqlite3"))
    assert code == 2 and "--db: no database at" in err and not target.exists()
    code, _, err = run(capsys, "restore", "--db", str(target), "--create", str(tmp_path / "b.sqlite3"))
    assert code == 0, err


# --------------------------------------------------------------------------- reports


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_report_one_and_batch(capsys, db, tmp_path):
    run(capsys, "patient", "add", "--db", db, "--mrn", "R1", "--given", "Анна", "--family", "Иванова",
        "--birth-date", "1944-03-02", "--sex", "female")
    run(capsys, "assess", "--db", db, "--mrn", "R1", "--trial", "6.1", "--trial", "6.3", "--date", "2026-03-01")
    run(capsys, "assess", "--db", db, "--mrn", "R1", "--trial", "5.2", "--trial", "5.6", "--date", "2026-09-01")
    before = _counts(db)

    out = tmp_path / "patient.pdf"
    code, _, err = run(capsys, "report", "--db", db, "--mrn", "R1", "--kind", "patient", "--out", str(out))
    assert code == 0, err
    text = _pdf_text(out)
    assert "Анна Иванова" in text and "5.4 seconds" in text
    assert "never on your" in text  # not screened: supervised only

    out = tmp_path / "clinician.pdf"
    code, _, err = run(capsys, "report", "--db", db, "--mrn", "R1", "--kind", "clinician", "--out", str(out))
    assert code == 0, err
    text = _pdf_text(out)
    assert "R1" in text and "Polo-Ferrero" in text
    assert "no real change (within MDC95)" in text

    due = tmp_path / "due"
    code, _, err = run(capsys, "report", "--db", db, "--due", "--out-dir", str(due))
    assert code == 0, err
    assert sorted(p.name.split("-")[0] for p in due.glob("*.pdf")) == ["clinician", "patient"]
    assert "reports" not in err  # the progress bar is drawn at a terminal only

    ranged = tmp_path / "march"
    code, _, err = run(capsys, "report", "--db", db, "--from", "2026-03-01", "--to", "2026-03-31",
                       "--kind", "clinician", "--out-dir", str(ranged))
    assert code == 0, err
    assert [p.name for p in ranged.glob("*.pdf")] == ["clinician-R1-2026-03-01-1-v1.pdf"]
    # printing reads the store (and audits the reads) but changes no clinical table
    after = _counts(db)
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}


@pytest.mark.parametrize(
    "argv, field",
    [
        (["report", "--mrn", "NOPE", "--kind", "patient", "--out", "x.pdf"], "mrn"),
        (["report", "--mrn", "R2", "--kind", "patient", "--out", "x.pdf"], "--mrn"),
        (["report", "--mrn", "R2", "--out", "x.pdf"], "--kind"),
        (["report", "--mrn", "R2", "--kind", "poster", "--out", "x.pdf"], "--kind"),
        (["report", "--due"], "--out-dir"),
        (["report", "--from", "2026-02-30", "--out-dir", "d"], "--from"),
    ],
)
def test_report_bad_input(capsys, db, tmp_path, monkeypatch, argv, field):
    monkeypatch.chdir(tmp_path)
    run(capsys, "patient", "add", "--db", db, "--mrn", "R2", "--given", "No", "--family", "Walks",
        "--birth-date", "1950-01-01", "--sex", "male")
    code, _, err = run(capsys, *argv, "--db", db)
    assert code == 2 and field in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists()


# --------------------------------------------------------------------------- model

RISK_FIELDS = {"probability", "probability_low", "probability_high", "risk_category", "model_version"}


def test_score_json_has_the_model_fields(capsys):
    code, out, err = run(capsys, "score", "--age", "78", "--sex", "female", "--trial", "5.2", "--trial", "5.6", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert RISK_FIELDS <= data.keys()
    assert 0 < data["probability_low"] < data["probability"] < data["probability_high"] < 1
    assert data["risk_category"] in {"low", "moderate", "high"}
    assert data["model_version"] == "evidence-2.0.0"
    assert data["risk_thresholds"]["low_below"] < data["risk_thresholds"]["high_at_or_above"]


def _probability(capsys, *extra):
    code, out, err = run(capsys, "score", "--trial", "5.4", "--json", *extra)
    assert code == 0, err
    return json.loads(out)["probability"]


def test_score_predictors_move_the_probability_the_published_way(capsys):
    unknown = _probability(capsys)
    no_falls, fell = _probability(capsys, "--prior-falls", "0"), _probability(capsys, "--prior-falls", "1")
    assert no_falls < unknown < fell
    assert _probability(capsys, "--walking-aid", "no") < unknown < _probability(capsys, "--walking-aid", "yes")
    # a clinic with a higher pre-test rate gets a higher probability, all else equal
    assert _probability(capsys, "--base-rate", "0.5") > unknown
    slow = json.loads(run(capsys, "score", "--trial", "8.0", "--json")[1])["probability"]
    assert slow >= unknown


def test_score_steadi_options_are_scored(capsys):
    code, out, _ = run(capsys, "score", "--age", "72", "--sex", "male", "--trial", "5", "--tug", "13.5",
                       "--chair-stand", "10", "--tandem", "12", "--stay-independent", "5", "--json")
    items = {s["item"]: s["at_risk"] for s in json.loads(out)["steadi"]}
    assert items == {"stay_independent": True, "tug_seconds": True, "chair_stand_count": True, "tandem_seconds": False}


def test_population_without_faller_data_gets_no_probability_and_says_why(capsys):
    code, out, _ = run(capsys, "score", "--population", "stroke", "--trial", "9", "--json")
    data = json.loads(out)
    assert code == 0 and data["probability"] is None and data["risk_category"] is None
    assert "Kapan 2023" in data["risk_note"]


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--prior-falls", "many"], "--prior-falls"),
        (["--walking-aid", "sometimes"], "--walking-aid"),
        (["--base-rate", "1.2"], "--base-rate"),
        (["--base-rate", "0"], "--base-rate"),
        (["--tug", "0.1"], "steadi.tug_seconds"),
        (["--stay-independent", "15"], "steadi.stay_independent_score"),
    ],
)
def test_score_bad_model_inputs(capsys, argv, field):
    code, out, err = run(capsys, "score", "--trial", "5", *argv)
    assert code == 2 and out == "" and field in err and len(err.strip().splitlines()) == 1


def test_batch_has_model_columns_and_base_rate_applies_to_every_row(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("trial_1,prior_falls,walking_aid\n5.4,,\n5.4,1,yes\n9.0,0,no\n")
    plain, shifted = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run(capsys, "score", "--csv", str(src), "--out", str(plain))[0] == 0
    assert run(capsys, "score", "--csv", str(src), "--out", str(shifted), "--base-rate", "0.5")[0] == 0
    a, b = pd.read_csv(plain), pd.read_csv(shifted)
    assert RISK_FIELDS <= set(a.columns)
    assert (b["probability"] > a["probability"]).all()
    single = json.loads(run(capsys, "score", "--trial", "5.4", "--prior-falls", "1", "--walking-aid", "yes", "--json")[1])
    assert a["probability"][1] == pytest.approx(single["probability"], abs=1e-4)


def test_batch_bad_model_column_names_line(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("trial_1,walking_aid\n5,yes\n5,no\n5,maybe\n")
    out = tmp_path / "o.csv"
    code, _, err = run(capsys, "score", "--csv", str(src), "--out", str(out))
    assert code == 2 and "walking_aid" in err and "line 4" in err and not out.exists()


def test_assess_records_the_model_version_and_probability(capsys, db):
    run(capsys, "patient", "add", "--db", db, "--mrn", "P1", "--given", "Ana", "--family", "Ruiz",
        "--birth-date", "1948-03-02", "--sex", "female")
    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "P1", "--trial", "6.0", "--prior-falls", "2+",
                         "--walking-aid", "yes", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["model_version"] == "evidence-2.0.0" and data["risk_category"] in {"moderate", "high"}
    history = json.loads(run(capsys, "history", "--db", db, "--mrn", "P1", "--json")[1])
    assert history[0]["probability"] == pytest.approx(data["probability"])


def test_score_states_the_horizon_the_inputs_and_the_scenarios(capsys):
    code, out, err = run(capsys, "score", "--trial", "9.8", "--prior-falls", "1", "--walking-aid", "yes", "--age", "72",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["risk_horizon"] == "a fall in the next 12 months"
    assert data["risk_inputs"]["known"]["prior falls"] == "1" and data["risk_inputs"]["known"]["age"] == "72 years"
    assert set(data["risk_inputs"]["unknown"]) == {"sex", "STEADI level"}
    a, b = data["risk_scenario_probabilities"]["A"], data["risk_scenario_probabilities"]["B"]
    assert data["probability_low"] <= min(a, b) and max(a, b) <= data["probability_high"]
    code, out, _ = run(capsys, "score", "--trial", "9.8", "--prior-falls", "1", "--age", "72")
    assert "chance of a fall in the next 12 months" in out and "inputs used" in out and "prior falls 1" in out


def test_score_gives_no_probability_or_percentile_below_the_populations_ages(capsys):
    code, out, err = run(capsys, "score", "--trial", "6", "--age", "45", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["probability"] is None and data["percentile"] is None and data["risk_category"] is None
    assert "Age 45 is outside" in data["risk_note"] and data["risk_horizon"] == "a fall in the next 12 months"
    code, out, _ = run(capsys, "score", "--trial", "6", "--age", "45")
    assert code == 0 and "percentile not computed" in out and "not estimated" in out


def test_assess_json_states_the_horizon_and_inputs(capsys, db):
    run(capsys, "patient", "add", "--db", db, "--mrn", "H1", "--given", "Ana", "--family", "Ruiz",
        "--birth-date", "1948-03-02", "--sex", "female")
    code, out, err = run(capsys, "assess", "--db", db, "--mrn", "H1", "--trial", "6.0", "--walking-aid", "no", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["risk_horizon"] == "a fall in the next 12 months"
    assert data["risk_inputs"]["known"]["walking aid"] == "no" and "prior falls" in data["risk_inputs"]["unknown"]


def test_model_evaluate_prints_the_metrics_with_their_cohorts(capsys, db):
    code, out, err = run(capsys, "model", "evaluate", "--db", db)
    assert code == 0, err
    assert "simulated from the model's own assumptions (not a validation)" in out
    for scenario in ("A", "B", "mix"):
        assert f"  {scenario:<9}community" in out
    assert "/ 10" in out and "published 0.655" in out and "Mix cohort: simulated cohort" in out
    code, out, _ = run(capsys, "model", "evaluate", "--db", db, "--json")
    data = json.loads(out)
    assert "not a validation" in data["cohort"] and set(data["scenarios"]) == {"A", "B", "mix"}


def test_model_list_activate_card_and_recalibrate_needs_outcomes(capsys, db):
    code, out, _ = run(capsys, "model", "list", "--db", db, "--json")
    versions = json.loads(out)
    assert [(v["version"], v["active"]) for v in versions] == [("evidence-2.0.0", True)]
    code, out, _ = run(capsys, "model", "card", "--db", db)
    assert code == 0 and "not been validated prospectively" in out
    code, _, err = run(capsys, "model", "recalibrate", "--db", db)
    assert code == 2 and "outcomes" in err and "more" in err
    code, _, err = run(capsys, "model", "activate", "--db", db, "no-such-version")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_model_recalibrate_and_activate_with_enough_outcomes(capsys, db):
    from datetime import timedelta

    from records import services
    from records.db import open_database

    store = open_database(f"sqlite:///{db}")
    rng = __import__("random").Random(3)
    day = date(2024, 1, 10)
    for i in range(130):
        mrn = f"O{i}"
        services.add_patient(store, mrn=mrn, given_name="A", family_name=f"P{i}", birth_date=date(1945, 1, 1),
                             sex="female")
        seconds = round(rng.uniform(3.5, 9.5), 2)
        services.record_assessment(store, mrn, {"trials": [seconds], "assessed_on": day})
        if rng.random() < min(0.9, (seconds - 3) / 7):
            services.record_fall(store, mrn, occurred_on=day + timedelta(days=100))
    code, out, err = run(capsys, "model", "recalibrate", "--db", db, "--json")
    assert code == 0, err
    new = json.loads(out)
    assert new["parent_version"] == "evidence-2.0.0" and new["kind"] == "recalibrated"
    assert "log_loss" in json.dumps(new["local"]) and "brier" in json.dumps(new["local"])
    versions = json.loads(run(capsys, "model", "list", "--db", db, "--json")[1])
    assert [v["active"] for v in versions if v["version"] == new["version"]] == [False]  # admin activates
    assert run(capsys, "model", "activate", "--db", db, new["version"])[0] == 0
    scored = json.loads(run(capsys, "score", "--db", db, "--trial", "5", "--json")[1])
    assert scored["model_version"] == new["version"]


# --------------------------------------------------------------------------- accounts, exchange, backup


def _with_stdin(monkeypatch, text):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_user_add_reads_the_password_from_stdin_never_an_argument(capsys, db, monkeypatch):
    _with_stdin(monkeypatch, "correct horse battery staple\n")
    code, out, err = run(capsys, "user", "add", "--db", db, "--username", "admin", "--admin")
    assert code == 0, err
    from records import accounts
    from records.db import open_database

    assert accounts.authenticate(open_database(f"sqlite:///{db}"), "admin", "correct horse battery staple").role == "admin"
    users = json.loads(run(capsys, "user", "list", "--db", db, "--json")[1])
    assert [(u["username"], u["role"], u["disabled"]) for u in users] == [("admin", "admin", False)]
    assert run(capsys, "user", "add", "--db", db, "--username", "x", "--password", "secret")[0] == 2


def test_user_add_rejects_a_short_password_and_writes_nothing(capsys, db, monkeypatch):
    before = _counts(db)
    _with_stdin(monkeypatch, "short\n")
    code, _, err = run(capsys, "user", "add", "--db", db, "--username", "admin", "--admin")
    assert code == 2 and "password" in err
    after = _counts(db)
    assert after["clinicians"] == before["clinicians"]


def test_export_import_round_trip_and_bad_import(capsys, db, tmp_path):
    run(capsys, "patient", "add", "--db", db, "--mrn", "X1", "--given", "=cmd", "--family", "Żółć",
        "--birth-date", "1944-03-02", "--sex", "female")
    run(capsys, "assess", "--db", db, "--mrn", "X1", "--trial", "5.2", "--trial", "5.6", "--date", "2026-03-01")
    first = tmp_path / "one.csv"
    assert run(capsys, "export", "--db", db, "--csv", str(first))[0] == 0
    assert "'=cmd" in first.read_text("utf-8-sig")  # neutralised against formula injection

    other = str(tmp_path / "other.sqlite3")
    code, out, err = run(capsys, "import", "--db", other, "--create", "--csv", str(first))
    assert code == 0, err
    second = tmp_path / "two.csv"
    run(capsys, "export", "--db", other, "--csv", str(second))
    assert first.read_bytes() == second.read_bytes()
    assert run(capsys, "import", "--db", other, "--csv", str(first))[0] == 0  # again: no duplicates
    assert _counts(other)["assessments"] == 1

    bad = tmp_path / "bad.csv"
    lines = first.read_text("utf-8-sig").splitlines()
    bad.write_text("\n".join([lines[0], lines[1].replace("1944-03-02", "1944-02-30")]) + "\n", "utf-8")
    before = _counts(other)
    code, _, err = run(capsys, "import", "--db", other, "--csv", str(bad))
    assert code == 2 and "birth_date" in err and "line 2" in err
    assert {k: v for k, v in _counts(other).items() if k != "audit_log"} == \
        {k: v for k, v in before.items() if k != "audit_log"}


def test_fhir_export(capsys, db, tmp_path):
    run(capsys, "patient", "add", "--db", db, "--mrn", "F1", "--given", "Σοφία", "--family", "Π",
        "--birth-date", "1944-03-02", "--sex", "female")
    run(capsys, "assess", "--db", db, "--mrn", "F1", "--trial", "5.2", "--tug", "13", "--date", "2026-03-01")
    out = tmp_path / "f1.json"
    code, _, err = run(capsys, "export", "--db", db, "--fhir", "--mrn", "F1", "--out", str(out))
    assert code == 0, err
    bundle = json.loads(out.read_text("utf-8"))
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    codes = {c["code"] for e in bundle["entry"] for c in e["resource"].get("code", {}).get("coding", [])}
    assert "89423-8" in codes  # TUG, LOINC
    assert run(capsys, "export", "--db", db, "--fhir", "--mrn", "F1")[0] == 2


def test_backup_and_restore(capsys, db, tmp_path):
    run(capsys, "patient", "add", "--db", db, "--mrn", "B1", "--given", "Bo", "--family", "Ek",
        "--birth-date", "1944-03-02", "--sex", "male")
    copy = tmp_path / "copy.sqlite3"
    assert run(capsys, "backup", "--db", db, "--out", str(copy))[0] == 0
    run(capsys, "patient", "add", "--db", db, "--mrn", "B2", "--given", "Al", "--family", "Ek",
        "--birth-date", "1944-03-02", "--sex", "male")
    assert _counts(db)["patients"] == 2
    code, _, err = run(capsys, "restore", "--db", db, str(copy))
    assert code == 0, err
    assert _counts(db)["patients"] == 1
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database")
    assert run(capsys, "restore", "--db", db, str(junk))[0] == 2
    assert _counts(db)["patients"] == 1


def test_printing_a_report_is_audited(capsys, db, tmp_path):
    from records import services
    from records.db import open_database

    run(capsys, "patient", "add", "--db", db, "--mrn", "A1", "--given", "Al", "--family", "Ek",
        "--birth-date", "1944-03-02", "--sex", "male")
    run(capsys, "assess", "--db", db, "--mrn", "A1", "--trial", "5.0", "--date", "2026-03-01")
    run(capsys, "report", "--db", db, "--mrn", "A1", "--kind", "clinician", "--out", str(tmp_path / "c.pdf"),
        "--clinician", "jdoe")
    rows = [r for r in services.list_audit(open_database(f"sqlite:///{db}"), action="report.print")]
    assert [(r.actor, r.entity, r.detail) for r in rows] == [("jdoe", "assessment", {"kinds": ["clinician"]})]
