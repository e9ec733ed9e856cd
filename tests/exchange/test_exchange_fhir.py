"""FHIR R4 export: a Bundle that fhir.resources parses back, with the agreed codes."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.riskassessment import RiskAssessment

from records import NotFound, fhir
from records import services as svc


def _by_code(bundle: Bundle) -> dict[str, list[Observation]]:
    out: dict[str, list[Observation]] = {}
    for entry in bundle.entry:
        if entry.resource.get_resource_type() == "Observation":
            out.setdefault(entry.resource.code.coding[0].code, []).append(entry.resource)
    return out


def test_bundle_parses_back_with_the_r4b_models(filled_db, tmp_path):
    out = tmp_path / "m1.json"
    count = fhir.export_fhir(filled_db, "M1", out, actor="alice")
    bundle = Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    assert bundle.type == "collection" and len(bundle.entry) == count
    patient = bundle.entry[0].resource
    assert isinstance(patient, Patient)
    assert patient.identifier[0].value == "M1" and patient.identifier[0].system == fhir.mrn_system(fhir.DEFAULT_FHIR_BASE)
    assert patient.name[0].given == ["=Ada"] and patient.gender == "female" and str(patient.birthDate) == "1950-03-04"
    for entry in bundle.entry[1:]:  # every resource also validates on its own and points at the patient
        model = {"Observation": Observation, "RiskAssessment": RiskAssessment}[entry.resource.get_resource_type()]
        resource = model.model_validate(entry.resource.model_dump(mode="json"))
        assert resource.subject.reference == bundle.entry[0].fullUrl


def test_observations_carry_the_codes_units_and_values(filled_db):
    bundle = Bundle.model_validate(fhir.fhir_bundle(filled_db, "M1", actor="alice"))
    observations = _by_code(bundle)
    walks = observations["3mbw-mean-time"]
    assert len(walks) == 2  # one per current final assessment (the amended one as its current version)
    first, amended = sorted(walks, key=lambda o: str(o.effectiveDateTime))
    assert first.code.coding[0].system == fhir.code_system(fhir.DEFAULT_FHIR_BASE)
    assert (first.valueQuantity.value, first.valueQuantity.system, first.valueQuantity.code) == (
        pytest.approx(6.25), "http://unitsofmeasure.org", "s")
    trial_times = [c.valueQuantity.value for c in first.component if c.code.coding[0].code == "3mbw-trial-time"]
    assert trial_times == [6.0, 7.25, 6.5]
    assert first.status == "final" and amended.status == "amended"
    assert float(amended.valueQuantity.value) == pytest.approx(5.125)

    (tug,) = observations["89423-8"]
    assert tug.code.coding[0].system == "http://loinc.org"
    assert (float(tug.valueQuantity.value), tug.valueQuantity.code) == (12.5, "s")
    (chair,) = observations["66247-8"]
    assert float(chair.valueQuantity.value) == 9
    assert "fall-probability" not in observations  # the probability is a RiskAssessment now


def test_a_stopped_assessment_has_a_data_absent_reason(filled_db):
    bundle = Bundle.model_validate(fhir.fhir_bundle(filled_db, "-M3", actor="alice"))
    (walk,) = _by_code(bundle)["3mbw-mean-time"]
    assert walk.valueQuantity is None
    assert walk.dataAbsentReason.coding[0].code == "not-performed"
    assert any("pain" in note.text for note in walk.note)


def test_a_patient_without_assessments_is_a_one_entry_bundle(filled_db):
    bundle = Bundle.model_validate(fhir.fhir_bundle(filled_db, "M2", actor="alice"))
    assert [e.resource.get_resource_type() for e in bundle.entry] == ["Patient"]
    assert bundle.entry[0].resource.gender == "unknown"


def test_the_same_records_give_the_same_bundle(filled_db):
    assert json.dumps(fhir.fhir_bundle(filled_db, "M1", actor="alice")) == json.dumps(
        fhir.fhir_bundle(filled_db, "M1", actor="alice"))


def test_export_is_audited(filled_db, tmp_path):
    fhir.export_fhir(filled_db, "M1", tmp_path / "m1.json", actor="bob")
    (row,) = svc.list_audit(filled_db, action="patient.export_fhir")
    assert row.actor == "bob" and row.entity == "patient"
    assert row.entity_id == str(svc.get_patient(filled_db, "M1").id)
    # 2 walks + TUG, chair stand, tandem, Stay Independent; one RiskAssessment; 2 falls-screening observations
    assert row.detail == {"assessments": 2, "resources": {"Patient": 1, "Observation": 8, "RiskAssessment": 1},
                          "fhir": fhir.FHIR_VERSION}


def test_unknown_mrn_is_not_found_and_writes_no_file(filled_db, tmp_path):
    with pytest.raises(NotFound) as caught:
        fhir.export_fhir(filled_db, "NOPE", tmp_path / "x.json", actor="alice")
    assert caught.value.field == "mrn"
    assert not (tmp_path / "x.json").exists()
