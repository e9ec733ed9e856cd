"""FHIR R4 that an EHR understands: RiskAssessment, the CMS139 falls-screening
Observation, the configured canonical base, the patient's language, and an
independent R4 validator (the npm ``fhir`` package, run with node)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from assessment import InputError
from records import accounts, fhir
from records import services as svc
from records.accounts import NotAllowed

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tests" / "node" / "validate.js"
FHIR_PACKAGE = ROOT / "tests" / "node" / "node_modules" / "fhir" / "package.json"


@pytest.fixture
def validate_r4():
    """Run the npm ``fhir`` validator on files; skipped locally when missing, a failure when CI=true."""
    node = shutil.which("node")
    if node is None or not FHIR_PACKAGE.exists():
        message = "node or the npm fhir package is missing (.ci/run installs tests/node)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true, so the R4 validation must not be skipped")
        pytest.skip(message)

    def run(*paths: Path) -> tuple[int, list[dict]]:
        done = subprocess.run([node, str(VALIDATOR), *map(str, paths)], capture_output=True, text=True, timeout=120)
        return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    return run


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _coded(resources: list[dict], code: str) -> list[dict]:
    return [r for r in resources if any(c["code"] == code for c in r["code"]["coding"])]


# ------------------------------------------------------------------ content


def test_the_probability_is_a_risk_assessment_with_window_basis_method_and_limits(filled_db):
    bundle = fhir.fhir_bundle(filled_db, "M1", actor="alice")
    (risk,) = _resources(bundle, "RiskAssessment")
    first_walk = next(r for r in _coded(_resources(bundle, "Observation"), "3mbw-mean-time")
                      if r["effectiveDateTime"] == "2024-03-04")
    (prediction,) = risk["prediction"]
    assert prediction["outcome"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "129839007", "display": "At risk for falls"}]
    assert prediction["probabilityDecimal"] == pytest.approx(0.3125)
    assert prediction["whenRange"]["low"]["value"] == 0 and prediction["whenRange"]["high"]["value"] == 12
    assert prediction["whenRange"]["high"]["code"] == "mo"
    assert prediction["qualitativeRisk"]["coding"][0]["code"] == "moderate"
    assert risk["code"]["coding"][0]["code"] == "414191008"
    assert risk["method"]["text"] == "StepBack fall-risk model evidence-1"
    # basis: the 3MBW and the four STEADI observations of that assessment, the data the model read
    basis = {b["reference"] for b in risk["basis"]}
    same_day = {f"urn:uuid:{r['id']}" for r in _resources(bundle, "Observation")
                if r["effectiveDateTime"] == "2024-03-04" and r["code"]["coding"][0]["code"] != "73830-2"}
    assert basis == same_day and f"urn:uuid:{first_walk['id']}" in basis and len(basis) == 5
    notes = " ".join(n["text"] for n in risk["note"])
    assert "not been validated prospectively" in notes and "0.200 to 0.450" in notes


def test_each_completed_final_assessment_counts_as_falls_screening_and_a_stopped_test_does_not(filled_db):
    m1 = fhir.fhir_bundle(filled_db, "M1", actor="alice")
    screenings = _coded(_resources(m1, "Observation"), "73830-2")
    assert sorted(s["effectiveDateTime"] for s in screenings) == ["2024-03-04", "2024-06-04"]
    at_risk = next(s for s in screenings if s["effectiveDateTime"] == "2024-03-04")
    assert at_risk["code"]["coding"][0]["system"] == "http://loinc.org"
    assert at_risk["valueCodeableConcept"]["coding"][0]["code"] == "129839007"  # model category moderate
    unknown = next(s for s in screenings if s["effectiveDateTime"] == "2024-06-04")
    assert "coding" not in unknown["valueCodeableConcept"] and unknown["status"] == "amended"
    members = {m["reference"] for m in at_risk["hasMember"]}
    assert len(members) == 5
    stopped = fhir.fhir_bundle(filled_db, "-M3", actor="alice")
    assert _coded(_resources(stopped, "Observation"), "73830-2") == []
    assert len(_coded(_resources(stopped, "Observation"), "3mbw-mean-time")) == 1


def test_codes_and_identifiers_live_under_the_configured_base(filled_db, monkeypatch):
    monkeypatch.setenv(fhir.FHIR_BASE_ENV, "https://fhir.riverside.example.org/stepback/")
    bundle = fhir.fhir_bundle(filled_db, "M1", actor="alice")
    (patient,) = _resources(bundle, "Patient")
    assert patient["identifier"][0]["system"] == "https://fhir.riverside.example.org/stepback/NamingSystem/mrn"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    walk = _coded(_resources(bundle, "Observation"), "3mbw-mean-time")[0]
    assert walk["code"]["coding"][0]["system"] == "https://fhir.riverside.example.org/stepback/CodeSystem/stepback"
    assert {c["valueQuantity"]["code"] for c in walk["component"]} == {"s", "m/s"}


@pytest.mark.parametrize("value", [
    "http://fhir.clinic.org/stepback", "urn:stepback:", "https://", "https://x.org/a?b=1", "https://x.org/#f",
    "https://user@x.org/fhir", "https://x.org/a b", "ftp://x.org", "https://" + "a" * 200 + ".org",
])
def test_a_bad_base_is_refused_naming_the_setting(value, filled_db, monkeypatch, tmp_path):
    with pytest.raises(InputError) as caught:
        fhir.fhir_base(value)
    assert caught.value.field == "STEPBACK_FHIR_BASE"
    monkeypatch.setenv(fhir.FHIR_BASE_ENV, value)
    with pytest.raises(InputError):
        fhir.export_fhir(filled_db, "M1", tmp_path / "m1.json", actor="alice")
    assert not (tmp_path / "m1.json").exists()


def test_the_default_base_is_a_reserved_placeholder():
    assert fhir.fhir_base(None if not os.environ.get(fhir.FHIR_BASE_ENV) else fhir.DEFAULT_FHIR_BASE) == fhir.DEFAULT_FHIR_BASE
    assert fhir.is_placeholder_base(fhir.DEFAULT_FHIR_BASE)
    assert not fhir.is_placeholder_base("https://fhir.clinic.org")


# ----------------------------------------------------------------- language


@pytest.mark.parametrize("code, display", [("en", "English"), ("es", "Spanish"), ("zh-Hans", "Chinese (Simplified)")])
def test_a_language_maps_to_communication_and_back(code, display):
    communication = fhir.communication_for(code)
    assert communication == [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": code, "display": display}],
                                           "text": display}, "preferred": True}]
    assert fhir.language_of({"resourceType": "Patient", "communication": communication}) == code


def test_no_language_is_none_both_ways():
    assert fhir.communication_for(None) is None
    assert fhir.language_of({"resourceType": "Patient"}) is None


@pytest.mark.parametrize("tag, code", [("en-US", "en"), ("ES-mx", "es"), ("zh-hans-CN", "zh-Hans"), ("zh-CN", "zh-Hans")])
def test_regional_variants_read_as_the_supported_language(tag, code):
    resource = {"communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": tag}]}}]}
    assert fhir.language_of(resource) == code


@pytest.mark.parametrize("communication, fragment", [
    ([{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fr"}]}}], "'fr' is not supported"),
    ([{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "zh-Hant"}]}}], "not supported"),
    ([{"language": {"text": "Spanish"}}], "no urn:ietf:bcp:47 code"),
    ([{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}, "preferred": True},
      {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]}, "preferred": True}], "several"),
    ([{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}},
      {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]}}], "none marked preferred"),
])
def test_an_unsupported_or_unclear_language_is_refused(communication, fragment):
    with pytest.raises(InputError) as caught:
        fhir.language_of({"communication": communication})
    assert caught.value.field == "communication" and fragment in caught.value.message


def test_an_unsupported_code_cannot_be_exported():
    with pytest.raises(InputError) as caught:
        fhir.communication_for("fr")
    assert caught.value.field == "language"


# ---------------------------------------------------- independent validation


def test_every_export_passes_the_npm_fhir_r4_validator(filled_db, validate_r4, tmp_path):
    files = []
    for mrn in ("M1", "M2", "-M3", "M4", "M5"):
        path = tmp_path / f"{mrn}.json"
        fhir.export_fhir(filled_db, mrn, path, actor="alice")
        files.append(path)
    written = fhir.export_bulk(filled_db, tmp_path / "bulk", actor="system")
    code, results = validate_r4(*files, *written.values())
    errors = [e for r in results for e in r["errors"]]
    assert code == 0 and errors == []
    kinds = {r["resourceType"] for r in results}
    assert kinds == {"Bundle", "Patient", "Observation", "RiskAssessment"}
    assert len(results) == 5 + sum(len(p.read_text().splitlines()) for p in written.values())


def test_the_validator_does_report_errors(validate_r4, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "RiskAssessment", "status": "done", "subject": {"reference": "Patient/1"},
                               "prediction": [{"probabilityDecimal": "high"}]}))
    code, (result,) = validate_r4(bad)
    assert code == 1 and {e["location"] for e in result["errors"]} >= {"RiskAssessment.status"}


# ------------------------------------------------------------------ bulk


def test_bulk_export_writes_one_ndjson_file_per_type_with_resolvable_references(filled_db, tmp_path):
    written = fhir.export_bulk(filled_db, tmp_path, actor="system")
    assert sorted(written) == ["Observation", "Patient", "RiskAssessment"]
    by_type = {k: [json.loads(line) for line in p.read_text("utf-8").splitlines()] for k, p in written.items()}
    assert [p["identifier"][0]["value"] for p in by_type["Patient"]] == ["-M3", "M1", "M2", "M4", "M5"]
    ids = {f"{k}/{r['id']}" for k, rs in by_type.items() for r in rs}
    references = {r["subject"]["reference"] for rs in by_type.values() for r in rs if "subject" in r}
    references |= {b["reference"] for r in by_type["RiskAssessment"] for b in r["basis"]}
    references |= {m["reference"] for r in by_type["Observation"] for m in r.get("hasMember", [])}
    assert references <= ids
    # M1: 2 walks, 4 STEADI, 2 screenings; -M3: 1 walk (stopped, no screening); M5: 1 walk + 1 screening
    assert len(by_type["Observation"]) == 11 and len(by_type["RiskAssessment"]) == 2  # M1's first visit and M5
    (row,) = svc.list_audit(filled_db, action="exchange.export_fhir_bulk")
    assert row.detail["resources"] == {"Patient": 5, "Observation": 11, "RiskAssessment": 2}


def test_bulk_export_is_for_administrators_only(filled_db, tmp_path):
    accounts.add_user(filled_db, username="root", password="correct horse battery", role="admin", actor="system")
    accounts.add_user(filled_db, username="carla", password="correct horse battery", clinic="North", actor="root")
    with pytest.raises(NotAllowed):
        fhir.export_bulk(filled_db, tmp_path / "carla", actor="carla")
    assert not (tmp_path / "carla").exists()
    assert len(fhir.bulk_resources(filled_db, actor="root")["Patient"]) == 5


# ------------------------------------------------------------------ import


def _patient(mrn="E1", **changes) -> dict:
    resource = {
        "resourceType": "Patient",
        "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                        "system": "urn:oid:1.2.36.146.595.217.0.1", "value": mrn}],
        "name": [{"use": "nickname", "given": ["Bea"], "family": "X"},
                 {"use": "official", "given": ["Ana", "María"], "family": "Ruiz"}],
        "gender": "female",
        "birthDate": "1948-03-02",
        "communication": fhir.communication_for("es"),
    }
    resource.update(changes)
    return resource


def test_an_ehr_bundle_imports_its_patients_and_skips_other_resources(other_db, tmp_path):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": _patient()},
        {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Encounter", "status": "finished",
                                               "class": {"code": "AMB"}}},
        {"fullUrl": "urn:uuid:3", "resource": _patient("E2", gender="unknown", communication=None)},
    ]}
    path = tmp_path / "ehr.json"
    path.write_text(json.dumps(bundle))
    summary = fhir.import_fhir(other_db, path, actor="alice")
    assert (summary.rows, summary.patients_added) == (2, 2)
    ana = svc.get_patient(other_db, "E1")
    assert (ana.given_name, ana.family_name, str(ana.birth_date), ana.sex, ana.population) == (
        "Ana María", "Ruiz", "1948-03-02", "female", "community")
    assert svc.get_patient(other_db, "E2").sex is None
    again = fhir.import_fhir(other_db, path, actor="alice")  # idempotent: a patient is its MRN
    assert (again.patients_added, again.patients_existing) == (0, 2)
    assert [r.detail["other_resources"] for r in svc.list_audit(other_db, action="exchange.import_fhir_skipped")] == [1, 1]


def test_ndjson_with_bad_patients_imports_nothing_and_reports_every_line(other_db, tmp_path):
    lines = [
        _patient("G1"),
        _patient("G2", gender="other"),
        _patient("G3", birthDate="1948-03"),
        _patient("G4", identifier=[]),
        _patient("G5", communication=[{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fr"}]}}]),
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
        _patient("G7", birthDate="1890-01-01"),
    ]
    path = tmp_path / "Patient.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    with pytest.raises(fhir.ImportRejected) as caught:
        fhir.import_fhir(other_db, path, actor="alice")
    report = caught.value.report().splitlines()
    assert [line.split(":")[0] for line in report] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7)]
    assert [p.field for p in caught.value.problems] == [
        "gender", "birthDate", "identifier", "communication", "resourceType", "birth_date"]
    assert caught.value.field == "fhir" and caught.value.message == "6 bad row(s), nothing imported"
    assert svc.count_rows(other_db)["patients"] == 0


def test_a_bad_json_line_or_empty_file_is_one_problem(other_db, tmp_path):
    path = tmp_path / "p.ndjson"
    path.write_text(json.dumps(_patient()) + "\n{not json\n")
    with pytest.raises(fhir.ImportRejected) as caught:
        fhir.import_fhir(other_db, path, actor="alice")
    assert str(caught.value.problems[0]).startswith("line 2: json: not JSON")
    path.write_text("")
    with pytest.raises(fhir.ImportRejected) as caught:
        fhir.import_fhir(other_db, path, actor="alice")
    assert caught.value.problems[0].field == "file"
    assert svc.count_rows(other_db)["patients"] == 0


def test_a_patient_differing_from_the_stored_one_is_a_bundle_entry_problem(filled_db, tmp_path):
    resource = _patient("M1", name=[{"given": ["Ada"], "family": "Lovelace"}], birthDate="1950-03-04",
                        communication=None)
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": resource}]}))
    with pytest.raises(fhir.ImportRejected) as caught:
        fhir.import_fhir(filled_db, path, actor="alice")
    (problem,) = caught.value.problems
    assert str(problem).startswith("entry 1: given_name: differs from the stored patient with MRN M1")


def test_round_trip_export_import_export_gives_the_same_patient_resources(filled_db, other_db, tmp_path):
    svc.update_patient(filled_db, "M5", population="parkinsons")
    for mrn in ("M1", "-M3", "M2"):
        first = fhir.fhir_bundle(filled_db, mrn, actor="alice")
        path = tmp_path / "first.json"
        path.write_text(json.dumps(first))
        summary = fhir.import_fhir(other_db, path, actor="alice")
        assert summary.patients_added == 1
        again = fhir.fhir_bundle(other_db, mrn, actor="alice")
        assert _resources(again, "Patient") == _resources(first, "Patient")
        assert again["entry"][0]["fullUrl"] == first["entry"][0]["fullUrl"]
    # the bulk Patient file imports the same way (the population extension carries parkinsons)
    written = fhir.export_bulk(filled_db, tmp_path / "bulk", actor="system")
    assert fhir.import_fhir(other_db, written["Patient"], actor="alice").patients_added == 2
    assert svc.get_patient(other_db, "M5").population == "parkinsons"
    first = fhir.bulk_resources(filled_db, actor="system")["Patient"]
    assert fhir.bulk_resources(other_db, actor="system")["Patient"] == first
    Bundle.model_validate(fhir.fhir_bundle(other_db, "M1", actor="alice"))


def test_the_export_reads_the_language_from_the_patient_record(filled_db):
    assert "communication" not in fhir.patient_resource(svc.get_patient(filled_db, "M1"), fhir.DEFAULT_FHIR_BASE)
    svc.update_patient(filled_db, "M1", language="zh-Hans", actor="alice")
    resource = fhir.patient_resource(svc.get_patient(filled_db, "M1"), fhir.DEFAULT_FHIR_BASE)
    assert resource["communication"] == fhir.communication_for("zh-Hans")
    assert fhir.language_of(resource) == "zh-Hans"
