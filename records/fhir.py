"""FHIR R4 export of one patient and their assessments, as a Bundle.

Built with the ``fhir.resources`` models of FHIR R4B (``fhir.resources.R4B``,
release 4.3.0): fhir.resources 7 and later model R5 at the package root and
R4B in a subpackage, and R4B is the R4-compatible release (Patient,
Observation and Bundle are unchanged from R4 4.0.1 in every element used
here). Every resource is validated by its model class before the bundle is
written.

Contents (type ``collection``, ``urn:uuid`` full URLs derived from the
record ids, so the same records give the same bundle):

* the Patient (MRN as identifier, name, gender, birth date);
* per current final assessment, one 3MBW Observation (local code system
  :data:`CODE_SYSTEM`, code ``3mbw-mean-time``, ``valueQuantity`` in UCUM
  ``s``, one component per timed trial, the speed in ``m/s``, the band as
  interpretation); an assessment stopped before any valid trial has a
  ``dataAbsentReason`` instead of a value;
* the STEADI items recorded with it: TUG as LOINC 89423-8 (s), 30-s chair
  stand as LOINC 66247-8, tandem stance and Stay Independent total with
  local codes;
* the model's fall probability, when one was stored, as an Observation
  (local code ``fall-probability``, unit ``1``, the interval as components).

Only the records that were asked for are exported, and an audit row says so.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient

from .assessments import history
from .audit import write_audit
from .db import Database
from .patients import get_patient
from .validation import validate_actor
from .views import AssessmentView, PatientView

#: FHIR release of the models used (fhir.resources.R4B).
FHIR_VERSION = "4.3.0"
#: Local code system for StepBack observations (3MBW, fall probability).
CODE_SYSTEM = "https://stepback.example/fhir/CodeSystem/3mbw"
#: Identifier system of the clinic's medical record numbers.
MRN_SYSTEM = "https://stepback.example/fhir/NamingSystem/mrn"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#: Namespace of the deterministic resource UUIDs (uuid5 of the record ids).
_NAMESPACE = uuid.UUID("6f1d1c3e-8c1b-4f0e-9a57-3a8b0e3d5b10")

#: LOINC codes. source: loinc.org 89423-8 "Time to rise from chair, walk 10 feet
#: and back, and return to sitting [TUG]" (unit s); 66247-8 "Sit to stand
#: frequency in 30 seconds" (unit {#}/(30.s)).
LOINC_TUG = ("89423-8", "Time to rise from chair, walk 10 feet and back, and return to sitting [TUG]")
LOINC_CHAIR_STAND = ("66247-8", "Sit to stand frequency in 30 seconds")


def _urn(*parts: Any) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '/'.join(str(p) for p in parts))}"


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _exam() -> list[dict[str, Any]]:
    return [_concept(OBSERVATION_CATEGORY, "exam", "Exam")]


def _patient_resource(patient: PatientView) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": MRN_SYSTEM, "value": patient.mrn}],
        "name": [{"given": [patient.given_name], "family": patient.family_name}],
        "gender": patient.sex or "unknown",
        "birthDate": patient.birth_date.isoformat(),
    }
    return FhirPatient.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _observation(subject: str, a: AssessmentView, code: dict[str, Any], **fields: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "status": "amended" if a.amended else "final",
        "category": _exam(),
        "code": code,
        "subject": {"reference": subject},
        "effectiveDateTime": a.assessed_on.isoformat(),
        **fields,
    }
    return Observation.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _walk_observation(subject: str, a: AssessmentView) -> dict[str, Any]:
    components = [
        {
            "code": _concept(CODE_SYSTEM, "3mbw-trial-time", f"3MBW timed trial {t.number}"),
            "valueQuantity": _quantity(t.seconds, "s", "s"),
            **({} if t.valid else {"interpretation": [{"text": f"invalid: {t.invalid_reason}"}]}),
        }
        for t in a.trials
    ]
    if a.speed_m_per_s is not None:
        components.append({
            "code": _concept(CODE_SYSTEM, "3mbw-speed", "3MBW walking speed"),
            "valueQuantity": _quantity(a.speed_m_per_s, "m/s", "m/s"),
        })
    fields: dict[str, Any] = {"component": components or None}
    if a.mean_seconds is not None:
        fields["valueQuantity"] = _quantity(a.mean_seconds, "s", "s")
    else:
        fields["dataAbsentReason"] = _concept(DATA_ABSENT, "not-performed", "Not Performed")
    notes = []
    if a.band is not None:
        fields["interpretation"] = [{"text": a.band}]
    if a.stop_reason is not None:
        notes.append({"text": f"stopped: {a.stop_reason}"})
    notes.append({"text": f"population: {a.population}; start: {a.start}; assistive device: {a.assistive_device}"})
    fields["note"] = notes
    code = _concept(CODE_SYSTEM, "3mbw-mean-time", "3-meter backward walk test, mean time of valid trials")
    return _observation(subject, a, code, **fields)


def _steadi_observations(subject: str, a: AssessmentView) -> list[tuple[str, dict[str, Any]]]:
    steadi = a.steadi or {}
    out: list[tuple[str, dict[str, Any]]] = []
    if steadi.get("tug_seconds") is not None:
        code = _concept(LOINC, *LOINC_TUG)
        out.append(("tug", _observation(subject, a, code, valueQuantity=_quantity(steadi["tug_seconds"], "s", "s"))))
    if steadi.get("chair_stand_count") is not None:
        code = _concept(LOINC, *LOINC_CHAIR_STAND)
        value = _quantity(steadi["chair_stand_count"], "stands in 30 s", "{#}/(30.s)")
        out.append(("chair-stand", _observation(subject, a, code, valueQuantity=value)))
    if steadi.get("tandem_seconds") is not None:
        code = _concept(CODE_SYSTEM, "steadi-tandem-stance-time", "STEADI 4-stage balance: tandem stance hold time")
        out.append(("tandem", _observation(subject, a, code, valueQuantity=_quantity(steadi["tandem_seconds"], "s", "s"))))
    if steadi.get("stay_independent_score") is not None:
        code = _concept(CODE_SYSTEM, "steadi-stay-independent-score", "STEADI Stay Independent brochure total")
        value = _quantity(steadi["stay_independent_score"], "points", "{score}")
        out.append(("stay-independent", _observation(subject, a, code, valueQuantity=value)))
    return out


def _probability_observation(subject: str, a: AssessmentView) -> dict[str, Any] | None:
    if a.probability is None:
        return None
    components = [
        {"code": _concept(CODE_SYSTEM, code, display), "valueQuantity": _quantity(value, "probability", "1")}
        for code, display, value in (
            ("fall-probability-low", "Fall probability, lower bound of the interval", a.probability_low),
            ("fall-probability-high", "Fall probability, upper bound of the interval", a.probability_high),
        )
        if value is not None
    ]
    fields: dict[str, Any] = {
        "valueQuantity": _quantity(a.probability, "probability", "1"),
        "component": components or None,
        "method": {"text": f"StepBack fall-risk model {a.model_version}"} if a.model_version else None,
        "interpretation": [{"text": a.risk_category}] if a.risk_category else None,
    }
    code = _concept(CODE_SYSTEM, "fall-probability", "Probability of a fall (StepBack fall-risk model)")
    observation = _observation(subject, a, code, **{k: v for k, v in fields.items() if v is not None})
    observation.pop("category", None)
    return observation


def fhir_bundle(db: Database, mrn: str, *, actor: str) -> dict[str, Any]:
    """A FHIR R4(B) Bundle of the patient and their current final assessments.

    Parameters
    ----------
    db : Database
    mrn : str
    actor : str
        Username; a ``patient.export_fhir`` audit row is written.

    Returns
    -------
    dict
        The Bundle as JSON-ready data, validated by ``fhir.resources.R4B``.

    Raises
    ------
    NotFound
        When no patient has this MRN.
    """
    actor = validate_actor(actor)
    patient = get_patient(db, mrn, actor=actor)
    assessments = history(db, patient.mrn, actor=actor)
    patient_urn = _urn("patient", patient.id)
    entries = [{"fullUrl": patient_urn, "resource": _patient_resource(patient)}]
    observations = 0
    for a in assessments:
        items = [("3mbw", _walk_observation(patient_urn, a)), *_steadi_observations(patient_urn, a)]
        probability = _probability_observation(patient_urn, a)
        if probability is not None:
            items.append(("fall-probability", probability))
        for name, resource in items:
            entries.append({"fullUrl": _urn("assessment", a.id, name), "resource": resource})
            observations += 1
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": entries})
    with db.session(actor) as session:
        write_audit(
            session, actor, "patient.export_fhir", "patient", patient.id,
            {"assessments": len(assessments), "observations": observations, "fhir": FHIR_VERSION},
        )
    return bundle.model_dump(mode="json", exclude_none=True)


def export_fhir(db: Database, mrn: str, out_path: str | os.PathLike, *, actor: str) -> int:
    """Write :func:`fhir_bundle` to a JSON file (replaced atomically).

    Returns
    -------
    int
        The number of resources in the bundle (the patient plus observations).
    """
    bundle = fhir_bundle(db, mrn, actor=actor)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".stepback-fhir-", suffix=".json", dir=out_path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(bundle, stream, ensure_ascii=False, indent=2)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(bundle["entry"])
