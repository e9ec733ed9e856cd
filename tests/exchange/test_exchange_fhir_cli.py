"""`stepback import --fhir` and `stepback export --fhir-bulk` on real SQLite files."""

from __future__ import annotations

import json

import cli
from records import accounts
from records import services as svc


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bulk_export_then_import_the_patient_file_elsewhere(capsys, filled_db, other_db, tmp_path):
    out_dir = tmp_path / "warehouse"
    code, out, err = run(capsys, "export", "--db", filled_db.url, "--fhir-bulk", "--out-dir", str(out_dir))
    assert code == 0, err
    assert "5 Patient, 11 Observation, 2 RiskAssessment" in out
    assert sorted(p.name for p in out_dir.iterdir()) == ["Observation.ndjson", "Patient.ndjson", "RiskAssessment.ndjson"]
    code, out, err = run(capsys, "import", "--db", other_db.url, "--fhir", str(out_dir / "Patient.ndjson"))
    assert code == 0 and "Imported 5 FHIR patients: 5 new, 0 already present." in out
    assert [p.mrn for p in svc.list_patients(other_db)] == [p.mrn for p in svc.list_patients(filled_db)]


def test_bulk_export_refuses_a_clinician_who_is_not_an_administrator(capsys, filled_db, tmp_path):
    accounts.add_user(filled_db, username="root", password="correct horse battery", role="admin", actor="system")
    accounts.add_user(filled_db, username="carla", password="correct horse battery", actor="root")
    out_dir = tmp_path / "w"
    code, out, err = run(capsys, "export", "--db", filled_db.url, "--fhir-bulk", "--out-dir", str(out_dir),
                         "--clinician", "carla")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "administrator" in err
    assert not out_dir.exists()
    assert run(capsys, "export", "--db", filled_db.url, "--fhir-bulk", "--out-dir", str(out_dir),
               "--clinician", "root")[0] == 0


def test_option_mistakes_are_one_line_exit_2(capsys, filled_db, tmp_path):
    for argv in (["import"], ["import", "--csv", "a.csv", "--fhir", "b.json"],
                 ["export", "--fhir-bulk"], ["export", "--fhir-bulk", "--out-dir", "d", "--mrn", "M1"],
                 ["export", "--csv", "x.csv", "--out-dir", "d"]):
        code, out, err = run(capsys, *argv, "--db", filled_db.url)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, argv


def test_a_bad_fhir_import_prints_its_problems_in_one_line_and_writes_nothing(capsys, other_db, tmp_path):
    path = tmp_path / "p.ndjson"
    path.write_text(json.dumps({"resourceType": "Patient", "gender": "other", "birthDate": "1950-01-01",
                                "identifier": [{"system": "https://stepback.example/fhir/NamingSystem/mrn",
                                                "value": "Q1"}], "name": [{"given": ["Q"], "family": "R"}]}) + "\n")
    code, out, err = run(capsys, "import", "--db", other_db.url, "--fhir", str(path))
    assert code == 2 and out == ""
    assert err.splitlines() == ["stepback import: error: fhir: 1 bad row(s), nothing imported: "
                                "line 1: gender: 'other' cannot be stored; allowed: female, male, unknown or none"]
    assert svc.count_rows(other_db)["patients"] == 0
