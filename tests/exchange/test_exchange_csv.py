"""CSV export and import: round trip, idempotence, all-or-nothing rejection, formula neutralising, audit."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest

from records import exchange
from records import services as svc
from records.exchange import ImportRejected, RowProblem, neutralise, unneutralise

HEADER = "mrn,given_name,family_name,birth_date,sex,population,assessed_on,trial_1,trial_2"


def _rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def _write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _without_audit(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k != "audit_log"}


# ------------------------------------------------------------- neutralising


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Ada", "Ada"),
        ("=Ada", "'=Ada"),
        ("+Plus", "'+Plus"),
        ("-Dash", "'-Dash"),
        ("@李", "'@李"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("'Ada", "'Ada"),          # a leading quote alone is kept as it is
        ("'=x", "''=x"),           # a quote before a formula character gets one more
        ("''@y", "'''@y"),
        ("", ""),
        ("=1+2", "'=1+2"),
    ],
)
def test_text_cells_are_neutralised_and_restored_exactly(value, written):
    assert neutralise(value) == written
    assert unneutralise(written) == value


def test_export_neutralises_text_cells_but_writes_numbers_as_numbers(filled_db, tmp_path):
    out = tmp_path / "out.csv"
    exchange.export_csv(filled_db, out, actor="alice")
    rows = _rows(out)
    first = next(r for r in rows if r["mrn"] == "M1" and r["assessed_on"] == "2024-03-04")
    assert first["given_name"] == "'=Ada"
    assert first["trial_2_invalid_reason"] == "'=turned around"
    assert first["trial_1"] == "6.0" and first["trial_2"] == "7.25" and first["trial_2_steps"] == "9"
    assert first["probability"] == "0.3125"
    assert next(r for r in rows if r["mrn"] == "'-M3")["family_name"] == "Ødegård-Łukasiewicz"
    assert next(r for r in rows if r["given_name"] == "''=Quoted")["family_name"] == "'+Plus"
    dangerous = tuple(exchange.FORMULA_START)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(dangerous), (column, cell)


# ------------------------------------------------------------- round trip


def test_export_import_export_gives_the_same_file(filled_db, other_db, tmp_path, model_risk):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    summary = exchange.export_csv(filled_db, first, actor="alice")
    assert (summary.patients, summary.assessments, summary.rows) == (5, 4, 6)  # M2 and M4 have no final assessment

    imported = exchange.import_csv(other_db, first, actor="bob", risk_fn=model_risk)
    assert (imported.patients_added, imported.assessments_added, imported.assessments_skipped) == (5, 4, 0)
    exchange.export_csv(other_db, second, actor="bob")

    assert second.read_bytes() == first.read_bytes()
    counts = svc.count_rows(other_db)
    assert counts["patients"] == 5 and counts["assessments"] == 4
    assert counts["trials"] == 3 + 2 + 0 + 1  # the amended version's two trials, not the superseded ones


def test_imported_records_equal_the_originals(filled_db, other_db, tmp_path, model_risk):
    out = tmp_path / "out.csv"
    exchange.export_csv(filled_db, out, actor="alice")
    exchange.import_csv(other_db, out, actor="bob", risk_fn=model_risk)
    for mrn in ("M1", "M2", "-M3", "M4", "M5"):
        a, b = svc.get_patient(filled_db, mrn), svc.get_patient(other_db, mrn)
        assert (a.given_name, a.family_name, a.birth_date, a.sex, a.population) == (
            b.given_name, b.family_name, b.birth_date, b.sex, b.population)
        old, new = svc.history(filled_db, mrn), svc.history(other_db, mrn)
        assert len(old) == len(new)
        for x, y in zip(old, new):
            same = ("assessed_on", "start", "footwear", "assistive_device", "practice_walk_done", "stop_reason",
                    "prior_falls", "walking_aid", "safety_screen", "steadi", "population", "mean_seconds", "band",
                    "probability", "probability_low", "probability_high", "risk_category", "model_version")
            assert {k: getattr(x, k) for k in same} == {k: getattr(y, k) for k in same}
            assert [t.as_raw() for t in x.trials] == [t.as_raw() for t in y.trials]
    assert svc.get_patient(other_db, "M1").given_name == "=Ada"
    assert svc.get_patient(other_db, "M4").given_name == "'=Quoted"


def test_change_is_recomputed_oldest_first(filled_db, other_db, tmp_path, model_risk):
    out = tmp_path / "out.csv"
    exchange.export_csv(filled_db, out, actor="alice")
    rows = _rows(out)
    rows.reverse()  # the later assessment comes first in the file
    with open(out, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    exchange.import_csv(other_db, out, actor="bob", risk_fn=model_risk)
    later = svc.history(other_db, "M1")[-1]
    assert later.assessed_on == date(2024, 6, 4)
    assert later.previous_seconds == svc.history(other_db, "M1")[0].mean_seconds


# ------------------------------------------------------------- idempotence


def test_reimporting_the_same_file_adds_nothing(filled_db, other_db, tmp_path, model_risk):
    out = tmp_path / "out.csv"
    exchange.export_csv(filled_db, out, actor="alice")
    exchange.import_csv(other_db, out, actor="bob", risk_fn=model_risk)
    before = svc.count_rows(other_db)
    again = exchange.import_csv(other_db, out, actor="bob", risk_fn=model_risk)
    assert (again.patients_added, again.patients_existing, again.assessments_added, again.assessments_skipped) == (0, 5, 0, 4)
    assert _without_audit(svc.count_rows(other_db)) == _without_audit(before)


def test_reimport_into_the_source_adds_nothing(filled_db, tmp_path):
    out = tmp_path / "out.csv"
    exchange.export_csv(filled_db, out, actor="alice")
    before = svc.count_rows(filled_db)
    summary = exchange.import_csv(filled_db, out, actor="alice")
    assert summary.assessments_added == 0 and summary.patients_added == 0
    assert _without_audit(svc.count_rows(filled_db)) == _without_audit(before)


def test_a_new_assessment_for_a_known_patient_is_added_once(db, tmp_path):
    path = _write(tmp_path / "a.csv", f"{HEADER}\nM1,Ada,Lovelace,1950-03-04,female,,2024-03-04,6.0,6.4\n")
    exchange.import_csv(db, path, actor="alice")
    path = _write(tmp_path / "b.csv", f"{HEADER}\nM1,Ada,Lovelace,1950-03-04,female,,2024-03-04,6.0,6.4\n"
                                      "M1,Ada,Lovelace,1950-03-04,female,,2024-03-04,6.0,6.5\n"
                                      "M1,Ada,Lovelace,1950-03-04,female,,2024-03-04,6.0,6.5\n")
    summary = exchange.import_csv(db, path, actor="alice")
    assert (summary.assessments_added, summary.assessments_skipped) == (1, 2)  # a repeat inside the file is skipped too
    assert len(svc.history(db, "M1")) == 2


def test_a_minimal_file_imports_patients_only(db, tmp_path):
    path = _write(tmp_path / "p.csv", "mrn,given_name,family_name,birth_date\nM9,Nan,Null,1950-01-01\n")
    summary = exchange.import_csv(db, path, actor="alice")
    assert summary.patients_added == 1 and summary.assessments_added == 0
    patient = svc.get_patient(db, "M9")
    assert (patient.given_name, patient.family_name, patient.sex, patient.population) == ("Nan", "Null", None, "community")


# ------------------------------------------------------------- rejection

GOOD = {
    "mrn": "M1", "given_name": "Ada", "family_name": "Lovelace", "birth_date": "1950-03-04", "sex": "female",
    "population": "community", "assessed_on": "2024-03-04", "trial_1": "6.0", "trial_2": "6.4",
}
TOMORROW = (date.today() + timedelta(days=1)).isoformat()

BAD_CELLS = [
    ("mrn", "M 1", "mrn", "not a valid MRN"),
    ("mrn", "", "mrn", "required"),
    ("given_name", "", "given_name", "required"),
    ("family_name", "1234", "family_name", "no letter"),
    ("birth_date", "1950-13-01", "birth_date", "not a date"),
    ("birth_date", TOMORROW, "birth_date", "future"),
    ("birth_date", "2020-01-01", "birth_date", "age"),
    ("sex", "x", "sex", "allowed: female, male"),
    ("population", "martians", "population", "allowed: community"),
    ("assessment_population", "martians", "assessment_population", "allowed: community"),
    ("assessment_population", "parkinsons", "assessment_population", "differs from the patient's population"),
    ("assessed_on", "", "assessed_on", "required"),
    ("assessed_on", TOMORROW, "assessed_on", "out of range"),
    ("trial_1", "abc", "trial_1", "not a number"),
    ("trial_1", "0.5", "trial_1", "plausible range"),
    ("trial_1", "", "trial_1", "without gaps"),
    ("trial_1_valid", "no", "trial_1.invalid_reason", "needs a reason"),
    ("trial_1_hands_on_assistance", "yes", "trial_1.valid", "hands-on"),
    ("trial_1_timing_source", "sundial", "trial_1.timing_source", "allowed: stopwatch"),
    ("trial_2_steps", "2.5", "trial_2.steps", "whole number"),
    ("start", "jump", "start", "allowed: standing, rolling"),
    ("footwear", "boots", "footwear", "allowed: shoes"),
    ("stop_reason", "tired", "stop_reason", "allowed"),
    ("practice_walk_done", "maybe", "practice_walk_done", "yes/no"),
    ("steadi_tug_seconds", "999", "steadi.tug_seconds", "plausible range"),
    ("steadi_si_fallen_past_year", "yes", "steadi.stay_independent.", "yes or no"),
    ("safety_uses_walking_aid", "yes", "safety_screen.", "answered"),
    ("prior_falls", "-1", "prior_falls", "allowed: 0, 1, 2+"),
    ("walking_aid", "sometimes", "walking_aid", "yes/no"),
    ("probability", "1.5", "risk.probability", "0 to 1"),
    ("probability", "'-0.1", "risk.probability", "not a number"),
]


def _csv_text(rows: list[dict[str, str]]) -> str:
    columns = list(dict.fromkeys(c for r in rows for c in r))
    lines = [",".join(columns)]
    for r in rows:
        lines.append(",".join('"' + r.get(c, "").replace('"', '""') + '"' for c in columns))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("column", "value", "field", "reason"), BAD_CELLS, ids=[f"{c}={v!r}" for c, v, _, _ in BAD_CELLS])
def test_a_bad_row_is_reported_and_nothing_is_imported(db, tmp_path, column, value, field, reason):
    rows = [dict(GOOD), dict(GOOD, mrn="M2", assessed_on="2024-03-05"), dict(GOOD, mrn="M3")]
    rows[1][column] = value
    path = _write(tmp_path / "bad.csv", _csv_text(rows))
    before = svc.count_rows(db)
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    problems = caught.value.problems
    assert [p.line for p in problems] == [3]
    assert problems[0].field.startswith(field), problems
    assert reason in problems[0].reason, problems
    after = svc.count_rows(db)
    assert _without_audit(after) == _without_audit(before)
    assert after["audit_log"] == before["audit_log"] + 1
    assert svc.list_audit(db, action="exchange.import_rejected")[0].detail == {"rows": 3, "bad_rows": 1, "problems": 1}


def test_every_bad_row_is_reported_with_line_field_and_reason(db, tmp_path):
    rows = [dict(GOOD), dict(GOOD, mrn="M2", trial_1="x"), dict(GOOD, mrn="M3"), dict(GOOD, mrn="M4", sex="y"),
            dict(GOOD, mrn="M5", birth_date="1950-13-13")]
    path = _write(tmp_path / "bad.csv", _csv_text(rows))
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    assert [(p.line, p.field) for p in caught.value.problems] == [(3, "trial_1"), (5, "sex"), (6, "birth_date")]
    assert "line 5: sex: " in caught.value.report()
    assert str(caught.value) == "csv: 3 bad row(s), nothing imported"
    assert svc.count_rows(db)["patients"] == 0


def test_same_mrn_with_other_details_is_a_bad_row(db, tmp_path):
    rows = [dict(GOOD), dict(GOOD, given_name="Eve", assessed_on="2024-03-05")]
    path = _write(tmp_path / "bad.csv", _csv_text(rows))
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    assert caught.value.problems == (RowProblem(3, "given_name", caught.value.problems[0].reason),)
    assert "line 2" in caught.value.problems[0].reason


def test_a_stored_patient_with_other_details_is_a_bad_row(db, tmp_path):
    svc.add_patient(db, mrn="M1", given_name="Ada", family_name="Lovelace", birth_date="1950-03-04", sex="male", actor="alice")
    path = _write(tmp_path / "bad.csv", _csv_text([dict(GOOD)]))
    before = svc.count_rows(db)
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "sex")]
    assert "stored patient" in caught.value.problems[0].reason
    assert _without_audit(svc.count_rows(db)) == _without_audit(before)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("mrn,given_name,family_name,birth_date,shoe_size\nM1,Ada,L,1950-01-01,9\n", "shoe_size", "unknown column"),
        ("mrn,given_name,birth_date\nM1,Ada,1950-01-01\n", "family_name", "required column missing"),
        ("", "csv", "empty"),
        (f"{HEADER},trial_11\n", "trial_11", "unknown column"),
    ],
)
def test_a_bad_file_is_rejected_at_line_1(db, tmp_path, text, field, reason):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    assert any(p.line == 1 and p.field == field and reason in p.reason for p in caught.value.problems), caught.value.problems
    assert svc.count_rows(db)["patients"] == 0


def test_a_file_that_is_not_utf8_is_rejected(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("mrn,given_name,family_name,birth_date\nM1,Zoë,L,1950-01-01\n".encode("latin-1"))
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    assert caught.value.problems[0].field == "csv" and "UTF-8" in caught.value.problems[0].reason


def test_a_missing_file_is_rejected(db, tmp_path):
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, tmp_path / "nope.csv", actor="alice")
    assert "no such file" in caught.value.problems[0].reason


# ------------------------------------------------------------- audit


def test_export_and_import_are_audited_without_patient_data(filled_db, other_db, tmp_path, model_risk):
    out = tmp_path / "out.csv"
    exchange.export_csv(filled_db, out, actor="alice")
    exports = svc.list_audit(filled_db, action="patient.export_csv")
    assert len(exports) == 5 and {e.actor for e in exports} == {"alice"}
    assert all(e.entity_id is not None for e in exports)
    summary = svc.list_audit(filled_db, action="exchange.export_csv")[0]
    assert summary.detail == {"rows": 6, "patients": 5, "assessments": 4}

    exchange.import_csv(other_db, out, actor="bob", risk_fn=model_risk)
    assert len(svc.list_audit(other_db, action="patient.import_csv")) == 5
    assert len(svc.list_audit(other_db, action="assessment.import_csv")) == 4
    assert svc.list_audit(other_db, action="exchange.import_csv")[0].actor == "bob"
    details = json.dumps([a.detail for a in svc.list_audit(other_db, limit=1000)], ensure_ascii=False)
    for name in ("Ada", "Lovelace", "李", "Zoë", "turned around"):
        assert name not in details


def test_a_bad_actor_is_refused_before_anything_is_read(db, tmp_path):
    with pytest.raises(exchange.InputError) as caught:
        exchange.export_csv(db, tmp_path / "x.csv", actor="not a user!")
    assert caught.value.field == "actor"
    assert not (tmp_path / "x.csv").exists()
