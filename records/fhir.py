"""FHIR R4 exchange: one patient as a Bundle, the clinic as Bulk Data NDJSON,
and patients imported from an EHR export.

**Release.** The resources follow FHIR R4 (4.0.1): the tests validate every
exported file with an independent R4 validator (the npm ``fhir`` package,
FHIR.js, core R4 profiles). The Python models that check each resource
before it is written are ``fhir.resources.R4B`` (release 4.3.0): no
maintained ``fhir.resources`` has an R4 module (5.x, the last one, needs
pydantic 1; 6.x and later model R4B and R5), and R4B changed none of the
resources used here (Patient, Observation, RiskAssessment, Bundle), so a
resource valid in one is valid in the other.

**Codes** (``shared/clinical-evidence.md`` §5, "Codes for exchange"):

* each 3MBW result is an Observation with a local code (no LOINC code
  exists for the 3MBW) in the code system :func:`code_system` under the
  deployment's canonical base ``STEPBACK_FHIR_BASE``; the mean time in UCUM
  ``s``, one component per timed trial, the speed in ``m/s``;
* TUG is LOINC 89423-8 (``s``), the 30-s chair stand LOINC 66247-8; the
  tandem stance and the Stay Independent total have local codes;
* the model's fall probability is a ``RiskAssessment`` (code SNOMED CT
  414191008 "Fall risk assessment", outcome SNOMED CT 129839007 "At risk for
  falls", ``probabilityDecimal``, ``whenRange`` the next 12 months, ``basis``
  the observations the model read, ``method`` the model version, ``note``
  its limits and its 95 % interval);
* every completed final assessment also gives a falls-screening Observation
  coded LOINC 73830-2 "Fall risk assessment" (in the CMS139 "Falls
  Screening" value set), so the visit counts toward CMS139. A test stopped
  before it was completed gives none (see :mod:`records.quality`);
* the patient's preferred language is ``Patient.communication``
  (:func:`communication_for`, :func:`language_of`).

Resource ids are UUIDs derived from the MRN (patients) and the record ids
(the rest), so the same records always give the same resources, and a
patient exported, imported into another database and exported again is
the same resource. Every export and import is audited.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.riskassessment import RiskAssessment

from assessment import InputError
from assessment.gatekeeper import brief

from .accounts import _require_admin
from .assessments import _current_final_query, history
from .audit import write_audit
from .db import Database
from .exchange import ImportRejected, ImportSummary, RowProblem, _audit_rejected, _plan, import_patient_rows
from .patients import get_patient
from .quality import at_risk
from .schema import AssessmentRow, Patient
from .validation import LANGUAGES, validate_actor
from .views import AssessmentView, PatientView

#: FHIR release the resources follow (validated by an R4 validator in the tests).
FHIR_VERSION = "4.0.1"
#: Setting: the deployment's canonical base URL for StepBack's code systems and identifiers.
FHIR_BASE_ENV = "STEPBACK_FHIR_BASE"
#: Placeholder base (``.example`` is reserved, RFC 2606); a deployment sets its own.
DEFAULT_FHIR_BASE = "https://stepback.example/fhir"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
BCP47 = "urn:ietf:bcp:47"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
#: Namespace of the deterministic resource UUIDs (uuid5).
_NAMESPACE = uuid.UUID("6f1d1c3e-8c1b-4f0e-9a57-3a8b0e3d5b10")

# source: clinical-evidence.md §5, "Codes for exchange" (LOINC, SNOMED CT, VSAC/CMS139).
LOINC_TUG = ("89423-8", "Time to rise from chair, walk 10 feet and back, and return to sitting [TUG]")
LOINC_CHAIR_STAND = ("66247-8", "Sit to stand frequency in 30 seconds")
LOINC_FALL_RISK_ASSESSMENT = ("73830-2", "Fall risk assessment")
SNOMED_AT_RISK_FOR_FALLS = ("129839007", "At risk for falls")
SNOMED_FALL_RISK_ASSESSMENT = ("414191008", "Fall risk assessment")

#: Preferred languages StepBack has patient catalogs for (BCP 47 tags).
_LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "zh-Hans": "Chinese (Simplified)"}
SUPPORTED_LANGUAGES = {code: _LANGUAGE_NAMES[code] for code in LANGUAGES}  # the patient record's languages
#: Regional tags read as a supported language (Simplified Chinese is the official script in CN and SG).
_LANGUAGE_ALIASES = {"zh-cn": "zh-Hans", "zh-sg": "zh-Hans"}
#: Resource types of a Bulk Data export, one NDJSON file each.
BULK_TYPES = ("Patient", "Observation", "RiskAssessment")
#: The model's time frame: a fall within the next 12 months (README, ``probability``).
PREDICTION_MONTHS = 12
#: What the probability rests on, said with every RiskAssessment (README; clinical-evidence.md §2).
MODEL_LIMITS = ("The 3MBW discriminates fallers only modestly (AUC 0.65-0.75, clinical-evidence.md §2); "
                "the model is built from published summary statistics and has not been validated prospectively.")


# ---------------------------------------------------------------- settings


def fhir_base(value: str | None = None) -> str:
    """The canonical base URL of this deployment's code systems and identifiers.

    Parameters
    ----------
    value : str, optional
        The base to check; default ``$STEPBACK_FHIR_BASE``, else
        :data:`DEFAULT_FHIR_BASE` (a placeholder: a deployment sets a URL it owns).

    Returns
    -------
    str
        The URL without a trailing slash.

    Raises
    ------
    InputError
        ``STEPBACK_FHIR_BASE`` when it is not an ``https://`` URL with a host
        and no query, fragment, user or spaces (at most 200 characters).
    """
    raw = value if value is not None else (os.environ.get(FHIR_BASE_ENV) or DEFAULT_FHIR_BASE)
    text = raw.strip().rstrip("/") if isinstance(raw, str) else ""
    allowed = "allowed: an https:// URL the deployment owns, e.g. https://fhir.example-clinic.org/stepback"
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment
            or "@" in parts.netloc or len(text) > 200 or not text.isascii() or re.search(r"\s", text)):
        raise InputError(FHIR_BASE_ENV, f"{brief(raw)!r} is not a canonical base URL; {allowed}")
    return text


def is_placeholder_base(base: str) -> bool:
    """True while the deployment has not set its own ``STEPBACK_FHIR_BASE``."""
    return base == DEFAULT_FHIR_BASE


def code_system(base: str) -> str:
    """The local code system of StepBack's observations (3MBW, STEADI items, model)."""
    return f"{base}/CodeSystem/stepback"


def mrn_system(base: str) -> str:
    """The identifier system of the clinic's medical record numbers."""
    return f"{base}/NamingSystem/mrn"


def population_extension(base: str) -> str:
    """The extension carrying the patient's StepBack population (reference cohort)."""
    return f"{base}/StructureDefinition/population"


# ---------------------------------------------------------------- language


def communication_for(language: str | None) -> list[dict[str, Any]] | None:
    """``Patient.communication`` for a preferred language code.

    Parameters
    ----------
    language : str or None
        ``en``, ``es``, ``zh-Hans``; None (unknown) gives None.

    Returns
    -------
    list of dict or None
        One preferred communication coded in ``urn:ietf:bcp:47``.

    Raises
    ------
    InputError
        ``language`` when the code is not one of :data:`SUPPORTED_LANGUAGES`.
    """
    if language is None:
        return None
    if language not in SUPPORTED_LANGUAGES:
        raise InputError("language", f"{brief(language)!r} is not supported; allowed: {', '.join(SUPPORTED_LANGUAGES)}")
    display = SUPPORTED_LANGUAGES[language]
    return [{"language": {"coding": [{"system": BCP47, "code": language, "display": display}], "text": display},
             "preferred": True}]


def _supported_tag(tag: str) -> str | None:
    """The supported language a BCP 47 tag names (itself or a regional variant), else None."""
    folded = tag.strip().casefold()
    if folded in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[folded]
    for code in SUPPORTED_LANGUAGES:
        if folded == code.casefold() or folded.startswith(code.casefold() + "-"):
            return code
    return None


def language_of(resource: Mapping[str, Any]) -> str | None:
    """The preferred language code of a FHIR Patient resource, or None when it has none.

    The preferred ``communication`` (else the only one) is read; its
    ``urn:ietf:bcp:47`` code must be a supported language: exactly, or a
    regional variant (``en-US``, ``es-MX``, ``zh-Hans-CN``; ``zh-CN`` and
    ``zh-SG`` read as ``zh-Hans``).

    Raises
    ------
    InputError
        ``communication`` when the language is not supported, not coded in
        BCP 47, or several languages are marked preferred.
    """
    entries = resource.get("communication") or []
    if not isinstance(entries, list):
        raise InputError("communication", "must be a list; allowed: Patient.communication entries")
    preferred = [e for e in entries if isinstance(e, Mapping) and e.get("preferred") is True]
    if len(preferred) > 1:
        raise InputError("communication", "several languages are marked preferred; allowed: one preferred language")
    chosen = preferred or (entries if len(entries) == 1 else [])
    if not chosen:
        if entries:
            raise InputError("communication", "several languages and none marked preferred; allowed: one preferred language")
        return None
    concept = chosen[0].get("language") if isinstance(chosen[0], Mapping) else None
    codes = [c.get("code") for c in (concept or {}).get("coding") or [] if isinstance(c, Mapping) and c.get("system") == BCP47]
    allowed = f"allowed: {', '.join(SUPPORTED_LANGUAGES)} (coded in {BCP47}, regional variants accepted)"
    if not codes or not isinstance(codes[0], str):
        raise InputError("communication", f"the preferred language has no {BCP47} code; {allowed}")
    code = _supported_tag(codes[0])
    if code is None:
        raise InputError("communication", f"language {brief(codes[0])!r} is not supported; {allowed}")
    return code


# ------------------------------------------------------------------ export

#: ``ref(resource_type, id)``: a reference as a Bundle (``urn:uuid:``) or an NDJSON file (``Type/id``) writes it.
RefFn = Callable[[str, str], str]


def _bundle_ref(kind: str, rid: str) -> str:
    return f"urn:uuid:{rid}"


def _relative_ref(kind: str, rid: str) -> str:
    return f"{kind}/{rid}"


def _id(*parts: Any) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def patient_id(mrn: str) -> str:
    """The resource id of the patient with this MRN (the same in every database)."""
    return _id("patient", mrn)


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _checked(model: Any, resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as JSON data, after its fhir.resources model has validated it."""
    return model.model_validate(resource).model_dump(mode="json", exclude_none=True)


def patient_resource(patient: PatientView, base: str) -> dict[str, Any]:
    """The FHIR Patient of a stored patient (MRN, name, gender, birth date, population, language).

    The preferred language (``patient.language``) becomes ``Patient.communication``.
    """
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id(patient.mrn),
        "extension": [{"url": population_extension(base), "valueCode": patient.population}],
        "identifier": [{
            "use": "usual",
            "type": _concept(IDENTIFIER_TYPE, "MR", "Medical record number"),
            "system": mrn_system(base),
            "value": patient.mrn,
        }],
        "name": [{"use": "official", "given": [patient.given_name], "family": patient.family_name}],
        "gender": patient.sex or "unknown",
        "birthDate": patient.birth_date.isoformat(),
    }
    communication = communication_for(patient.language)
    if communication:
        resource["communication"] = communication
    return _checked(FhirPatient, resource)


@dataclass
class _Context:
    base: str
    ref: RefFn
    subject: dict[str, str]


def _observation(ctx: _Context, a: AssessmentView, name: str, code: dict[str, Any], **fields: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "id": _id("assessment", a.id, name),
        "status": "amended" if a.amended else "final",
        "category": [_concept(OBSERVATION_CATEGORY, "exam", "Exam")],
        "code": code,
        "subject": ctx.subject,
        "effectiveDateTime": a.assessed_on.isoformat(),
        **{k: v for k, v in fields.items() if v is not None},
    }
    return _checked(Observation, resource)


def _walk_observation(ctx: _Context, a: AssessmentView) -> dict[str, Any]:
    system = code_system(ctx.base)
    components = [
        {
            "code": _concept(system, "3mbw-trial-time", f"3MBW timed trial {t.number}"),
            "valueQuantity": _quantity(t.seconds, "s", "s"),
            **({} if t.valid else {"interpretation": [{"text": f"invalid: {t.invalid_reason}"}]}),
        }
        for t in a.trials
    ]
    if a.speed_m_per_s is not None:
        components.append({"code": _concept(system, "3mbw-speed", "3MBW walking speed"),
                           "valueQuantity": _quantity(a.speed_m_per_s, "m/s", "m/s")})
    fields: dict[str, Any] = {"component": components or None}
    if a.mean_seconds is not None:
        fields["valueQuantity"] = _quantity(a.mean_seconds, "s", "s")
    else:
        fields["dataAbsentReason"] = _concept(DATA_ABSENT, "not-performed", "Not Performed")
    if a.band is not None:
        fields["interpretation"] = [{"text": a.band}]
    notes = [{"text": f"stopped: {a.stop_reason}"}] if a.stop_reason is not None else []
    notes.append({"text": f"population: {a.population}; start: {a.start}; assistive device: {a.assistive_device}"})
    fields["note"] = notes
    code = _concept(system, "3mbw-mean-time", "3-meter backward walk test, mean time of valid trials")
    return _observation(ctx, a, "3mbw", code, **fields)


def _steadi_observations(ctx: _Context, a: AssessmentView) -> list[dict[str, Any]]:
    steadi = a.steadi or {}
    system = code_system(ctx.base)
    items = (
        ("tug", "tug_seconds", _concept(LOINC, *LOINC_TUG), "s", "s"),
        ("chair-stand", "chair_stand_count", _concept(LOINC, *LOINC_CHAIR_STAND), "stands in 30 s", "{#}/(30.s)"),
        ("tandem", "tandem_seconds",
         _concept(system, "steadi-tandem-stance-time", "STEADI 4-stage balance: tandem stance hold time"), "s", "s"),
        ("stay-independent", "stay_independent_score",
         _concept(system, "steadi-stay-independent-score", "STEADI Stay Independent brochure total"), "points", "{score}"),
    )
    return [
        _observation(ctx, a, name, code, valueQuantity=_quantity(steadi[key], unit, ucum))
        for name, key, code, unit, ucum in items
        if steadi.get(key) is not None
    ]


def _risk_assessment(ctx: _Context, a: AssessmentView, basis: list[dict[str, Any]]) -> dict[str, Any] | None:
    if a.probability is None:
        return None
    months = {"unit": "months", "system": UCUM, "code": "mo"}
    prediction: dict[str, Any] = {
        "outcome": {**_concept(SNOMED, *SNOMED_AT_RISK_FOR_FALLS),
                    "text": f"At least one fall within the next {PREDICTION_MONTHS} months"},
        "probabilityDecimal": a.probability,
        "whenRange": {"low": {"value": 0, **months}, "high": {"value": PREDICTION_MONTHS, **months}},
    }
    if a.risk_category is not None:
        prediction["qualitativeRisk"] = _concept(RISK_PROBABILITY, a.risk_category, a.risk_category.capitalize())
    notes = [MODEL_LIMITS]
    if a.probability_low is not None and a.probability_high is not None:
        notes.append(f"95 % interval of the probability: {a.probability_low:.3f} to {a.probability_high:.3f}.")
    if (a.score or {}).get("risk_note"):
        notes.append(str(a.score["risk_note"]))
    version = a.model_version or "unknown version"
    resource = {
        "resourceType": "RiskAssessment",
        "id": _id("assessment", a.id, "risk"),
        "status": "amended" if a.amended else "final",
        "code": _concept(SNOMED, *SNOMED_FALL_RISK_ASSESSMENT),
        "method": {"coding": [{"system": code_system(ctx.base), "code": "stepback-fall-risk-model",
                               "display": "StepBack fall-risk model"}],
                   "text": f"StepBack fall-risk model {version}"},
        "subject": ctx.subject,
        "occurrenceDateTime": a.assessed_on.isoformat(),
        "basis": [{"reference": ctx.ref("Observation", o["id"])} for o in basis],
        "prediction": [prediction],
        "note": [{"text": n} for n in notes],
    }
    return _checked(RiskAssessment, resource)


def _screening_observation(ctx: _Context, a: AssessmentView, members: list[dict[str, Any]]) -> dict[str, Any] | None:
    """LOINC 73830-2 for a completed final assessment (None for a stopped test): counts toward CMS139."""
    if a.stop_reason is not None:
        return None
    if at_risk(a.risk_category):
        value = _concept(SNOMED, *SNOMED_AT_RISK_FOR_FALLS)
    elif a.risk_category is not None:
        value = {"text": f"Not at increased risk of falls by this screen (model category {a.risk_category})"}
    else:
        value = {"text": "Fall risk not estimated by the model; see the 3MBW result"}
    return _observation(
        ctx, a, "falls-screening", _concept(LOINC, *LOINC_FALL_RISK_ASSESSMENT),
        valueCodeableConcept=value,
        hasMember=[{"reference": ctx.ref("Observation", o["id"])} for o in members],
    )


def assessment_resources(a: AssessmentView, subject_id: str, base: str, ref: RefFn = _bundle_ref) -> list[dict[str, Any]]:
    """Every resource one final assessment gives: the 3MBW and STEADI
    Observations, the RiskAssessment (when the model estimated one) and the
    falls-screening Observation (when the test was completed)."""
    ctx = _Context(base, ref, {"reference": ref("Patient", subject_id)})
    observations = [_walk_observation(ctx, a), *_steadi_observations(ctx, a)]
    resources = list(observations)
    for extra in (_risk_assessment(ctx, a, observations), _screening_observation(ctx, a, observations)):
        if extra is not None:
            resources.append(extra)
    return resources


def fhir_bundle(db: Database, mrn: str, *, actor: str) -> dict[str, Any]:
    """A FHIR R4 Bundle (type ``collection``) of the patient and their current final assessments.

    Parameters
    ----------
    db : Database
    mrn : str
    actor : str
        Username; a ``patient.export_fhir`` audit row is written.

    Returns
    -------
    dict
        The Bundle as JSON-ready data; ``fullUrl`` and references are
        ``urn:uuid:`` of the resource ids.

    Raises
    ------
    NotFound
        When no patient has this MRN.
    InputError
        When ``STEPBACK_FHIR_BASE`` is not a valid base URL.
    """
    actor = validate_actor(actor)
    base = fhir_base()
    patient = get_patient(db, mrn, actor=actor)
    assessments = history(db, patient.mrn, actor=actor)
    resources = [patient_resource(patient, base)]
    for a in assessments:
        resources += assessment_resources(a, resources[0]["id"], base)
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": entries})
    counts = _count_types(resources)
    with db.session(actor) as session:
        write_audit(session, actor, "patient.export_fhir", "patient", patient.id,
                    {"assessments": len(assessments), "resources": counts, "fhir": FHIR_VERSION})
    return bundle.model_dump(mode="json", exclude_none=True)


def _count_types(resources: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in resources:
        counts[r["resourceType"]] = counts.get(r["resourceType"], 0) + 1
    return counts


def _write_atomically(out_path: Path, write: Callable[[Any], None]) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".stepback-fhir-", suffix=out_path.suffix, dir=out_path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            write(stream)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_fhir(db: Database, mrn: str, out_path: str | os.PathLike, *, actor: str) -> int:
    """Write :func:`fhir_bundle` to a JSON file (replaced atomically).

    Returns
    -------
    int
        The number of resources in the bundle.
    """
    bundle = fhir_bundle(db, mrn, actor=actor)
    _write_atomically(Path(out_path), lambda s: json.dump(bundle, s, ensure_ascii=False, indent=2))
    return len(bundle["entry"])


# ------------------------------------------------------------- bulk export


def bulk_resources(db: Database, *, actor: str) -> dict[str, list[dict[str, Any]]]:
    """The whole clinic as FHIR resources by type (FHIR Bulk Data layout), for an administrator.

    Every patient and every current final assessment (drafts and superseded
    versions are left out); references are relative (``Patient/<id>``).

    Parameters
    ----------
    db : Database
    actor : str
        An enabled administrator (or ``system``, the local command line);
        one ``exchange.export_fhir_bulk`` audit row is written.

    Returns
    -------
    dict
        Resource type (:data:`BULK_TYPES`) → resources, in MRN then date order.

    Raises
    ------
    NotAllowed
        When ``actor`` is not an administrator.
    """
    actor = validate_actor(actor)
    base = fhir_base()
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in BULK_TYPES}
    with db.session(actor) as session:
        _require_admin(session, actor, "export the whole clinic")
        patients = session.scalars(sa.select(Patient).order_by(Patient.mrn)).all()
        rows = session.scalars(_current_final_query().order_by(
            AssessmentRow.patient_id, AssessmentRow.assessed_on, AssessmentRow.lineage_id)).all()
        by_patient: dict[int, list[AssessmentRow]] = {}
        for row in rows:
            by_patient.setdefault(row.patient_id, []).append(row)
        for p in patients:
            resource = patient_resource(PatientView.of(p), base)
            out["Patient"].append(resource)
            for row in by_patient.get(p.id, []):
                for r in assessment_resources(AssessmentView.of(row, superseded=False), resource["id"], base, _relative_ref):
                    out[r["resourceType"]].append(r)
        write_audit(session, actor, "exchange.export_fhir_bulk", "patient", None,
                    {"resources": {k: len(v) for k, v in out.items()}, "fhir": FHIR_VERSION})
    return out


def export_bulk(db: Database, out_dir: str | os.PathLike, *, actor: str) -> dict[str, Path]:
    """Write :func:`bulk_resources` as ``<Type>.ndjson`` files (one resource a line) in ``out_dir``.

    Each file is replaced atomically. Returns resource type → file written.
    """
    resources = bulk_resources(db, actor=actor)
    folder = Path(out_dir)
    written: dict[str, Path] = {}
    for kind, items in resources.items():
        path = folder / f"{kind}.ndjson"
        _write_atomically(path, lambda s, items=items: s.writelines(iter_ndjson(items)))
        written[kind] = path
    return written


# ------------------------------------------------------------------ import


@dataclass(frozen=True)
class _Parsed:
    """One Patient resource of the file: where it is, and its cells or its problem."""

    line: int
    cells: dict[str, str] | None
    extra: dict[str, Any]
    problem: RowProblem | None


def _read_resources(path: str | os.PathLike) -> tuple[list[tuple[int, Any]], str]:
    """(position, resource) pairs and the unit positions count: Bundle entries or NDJSON lines."""
    def reject(reason: str) -> ImportRejected:
        return ImportRejected([RowProblem(1, "file", reason)], "fhir")

    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise reject(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise reject("not UTF-8 text; allowed: a FHIR JSON Bundle or NDJSON file") from None
    except OSError as err:
        raise reject(f"cannot read the file: {err.strerror or type(err).__name__}") from None
    if not text.strip():
        raise reject("the file is empty; allowed: a FHIR Bundle or NDJSON of Patient resources")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        if whole.get("resourceType") == "Bundle":
            entries = whole.get("entry") or []
            if not isinstance(entries, list):
                raise reject("Bundle.entry is not a list")
            return [(i, e.get("resource") if isinstance(e, dict) else None) for i, e in enumerate(entries, start=1)], "entry"
        return [(1, whole)], "line"
    pairs: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            pairs.append((number, json.loads(line)))
        except json.JSONDecodeError as err:
            raise ImportRejected([RowProblem(number, "json", f"not JSON ({err.msg}); allowed: one FHIR resource per line")],
                                 "fhir") from None
    return pairs, "line"


def _mrn(resource: Mapping[str, Any], base: str) -> str:
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, Mapping)]
    ours = {i.get("value") for i in identifiers if i.get("system") == mrn_system(base)}
    mr = {i.get("value") for i in identifiers
          if any(c.get("system") == IDENTIFIER_TYPE and c.get("code") == "MR"
                 for c in ((i.get("type") or {}).get("coding") or []) if isinstance(c, Mapping))}
    found = ours or mr
    allowed = f"allowed: one identifier with system {mrn_system(base)} or of type MR ({IDENTIFIER_TYPE})"
    if len(found) != 1:
        raise InputError("identifier", ("no medical record number; " if not found else "several different MRNs; ") + allowed)
    return str(found.pop()) if found != {None} else ""


def _name(resource: Mapping[str, Any]) -> tuple[str, str]:
    names = [n for n in resource.get("name") or [] if isinstance(n, Mapping)]
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(g for g in name.get("given") or [] if isinstance(g, str))
    family = name.get("family") if isinstance(name.get("family"), str) else ""
    return given, family


def _patient_cells(resource: Mapping[str, Any], base: str) -> tuple[dict[str, str], dict[str, Any]]:
    """CSV-style cells and the extra stored fields of a Patient resource (raises InputError)."""
    try:
        FhirPatient.model_validate(resource)
    except Exception as err:  # pydantic's ValidationError: the first problem, in one line
        errors = err.errors() if hasattr(err, "errors") else []
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors and errors[0].get("loc") else "resource"
        message = errors[0]["msg"] if errors else str(err).splitlines()[0]
        raise InputError(where, f"not a valid FHIR Patient: {message[:160]}") from None
    gender = resource.get("gender")
    if gender not in (None, "female", "male", "unknown"):
        raise InputError("gender", f"{brief(gender)!r} cannot be stored; allowed: female, male, unknown or none")
    birth = resource.get("birthDate")
    if not isinstance(birth, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth):
        raise InputError("birthDate", f"{brief(birth)!r}: allowed: a full date YYYY-MM-DD")
    population = next((e.get("valueCode") for e in resource.get("extension") or []
                       if isinstance(e, Mapping) and e.get("url") == population_extension(base)), None)
    given, family = _name(resource)
    cells = {"mrn": _mrn(resource, base), "given_name": given, "family_name": family, "birth_date": birth,
             "sex": gender if gender in ("female", "male") else "", "population": population or "",
             "language": language_of(resource) or ""}
    return cells, {}


def _parse(pairs: list[tuple[int, Any]], unit: str, base: str) -> tuple[list[_Parsed], int]:
    parsed: list[_Parsed] = []
    others = 0
    for line, resource in pairs:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind != "Patient":
            if unit == "entry" and isinstance(kind, str):
                others += 1  # an EHR Bundle may hold more than patients: only they are imported
                continue
            problem = RowProblem(line, "resourceType", f"{brief(kind)!r}; allowed: Patient", unit)
            parsed.append(_Parsed(line, None, {}, problem))
            continue
        try:
            cells, extra = _patient_cells(resource, base)
        except InputError as err:
            parsed.append(_Parsed(line, None, {}, RowProblem(line, err.field, err.message, unit)))
            continue
        parsed.append(_Parsed(line, cells, extra, None))
    return parsed, others


def import_fhir(db: Database, path: str | os.PathLike, *, actor: str) -> ImportSummary:
    """Import patients from an EHR's FHIR export: all patients or none.

    Parameters
    ----------
    db : Database
    path : path
        A FHIR JSON Bundle (its Patient entries are imported, other resources
        are skipped), one Patient resource, or NDJSON of Patient resources
        (a Bulk Data ``Patient.ndjson``).
    actor : str
        Username; audited as ``patient.import_fhir`` per patient added and
        one ``exchange.import_fhir`` (or ``exchange.import_rejected``).

    Returns
    -------
    ImportSummary
        ``rows`` counts the Patient resources; nothing is assessed, so the
        assessment counts are 0.

    Notes
    -----
    Each Patient becomes the fields the CSV import reads and goes through
    the same checks and the same all-or-nothing write
    (:func:`records.exchange.import_patient_rows`): the MRN is the
    identifier in :func:`mrn_system` (else the one of type ``MR``); the
    official name (given names joined by spaces); ``gender`` female, male
    or unknown; a full ``birthDate``; the population from the StepBack
    extension, else the stored patient's, else ``community``; the preferred
    language from ``communication`` (stored once the patient record has a
    language). A patient already stored with the same details is not added
    again; different details are a row problem.

    Raises
    ------
    ImportRejected
        Listing every bad resource (``entry N`` of a Bundle, ``line N`` of
        NDJSON); nothing was written.
    """
    actor = validate_actor(actor)
    base = fhir_base()
    pairs, unit = _read_resources(path)
    parsed, others = _parse(pairs, unit, base)
    problems = [p.problem for p in parsed if p.problem is not None]
    good = [p for p in parsed if p.problem is None]
    if not parsed:
        problems = [RowProblem(1, "file", "no Patient resource; allowed: a FHIR Bundle or NDJSON of Patient resources")]
    missing = {p.cells["mrn"] for p in good if not p.cells["population"]}
    with db.session(actor) as session:
        stored = dict(session.execute(sa.select(Patient.mrn, Patient.population).where(Patient.mrn.in_(missing))).all()) \
            if missing else {}
        rows = []
        for p in good:
            cells = dict(p.cells)
            cells["population"] = cells["population"] or stored.get(cells["mrn"], "")
            rows.append((p.line, cells, p.extra))
        if problems:  # report the other resources' problems too (the same checks, reads only)
            problems = sorted(problems + _plan(session, rows, unit).problems, key=lambda p: p.line)
    if problems:
        _audit_rejected(db, actor, len(parsed), problems)
        raise ImportRejected(problems, "fhir")
    summary = import_patient_rows(db, rows, actor=actor, source="fhir", unit=unit)
    if others:
        with db.session(actor) as session:
            write_audit(session, actor, "exchange.import_fhir_skipped", "patient", None, {"other_resources": others})
    return summary


def iter_ndjson(resources: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Resources as NDJSON lines (compact JSON, one per line, each ending in a newline)."""
    for r in resources:
        yield json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
