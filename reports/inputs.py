"""Report inputs from stored records.

The CLI and the app both turn a stored patient, assessment and history
into the plain keyword arguments of :func:`reports.build_patient_report` /
:func:`reports.build_clinician_report`. This module does that once. It
reads the records views by attribute (duck typing) and never imports
``records``, keeping imports one way (ui/cli → records, reports).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assessment.program import program_for

_PATIENT_FIELDS = ("mrn", "given_name", "family_name", "birth_date", "sex", "population")
_TRIAL_FIELDS = ("seconds", "timing_source", "valid", "invalid_reason", "loss_of_balance", "hands_on_assistance", "steps",
                 "camera_seconds", "camera_note", "stopwatch_seconds")
_RISK_FIELDS = ("probability", "probability_low", "probability_high", "risk_category", "model_version")


def risk_of(assessment) -> dict[str, Any] | None:
    """The stored model result of an assessment view, or None if it was not scored by a model."""
    score = assessment.score or {}
    if assessment.probability is None:
        return None
    risk = {k: getattr(assessment, k) for k in _RISK_FIELDS}
    risk["thresholds"] = score.get("risk_thresholds")
    risk["note"] = score.get("risk_note")
    return risk


def clinic_inputs(settings, clinic: str | None = None) -> dict[str, Any]:
    """The clinic keyword arguments of :func:`report_inputs` from the stored clinic settings.

    Parameters
    ----------
    settings : ClinicSettingsView or None
        ``records.get_clinic_settings``; None before a clinic was set.
    clinic : str, optional
        A clinic name given for this print run (``report --clinic``), used instead of the stored name.
    """
    return {"clinic": clinic or (settings.name if settings else None),
            "clinic_phone": settings.phone if settings else None,
            "clinic_address": settings.address if settings else None,
            "clinic_logo": settings.logo if settings else None}


def report_inputs(patient, assessment, history: Sequence = (), *, clinician: str | None = None,
                  clinic: str | None = None, clinic_phone: str | None = None,
                  clinic_address: str | None = None, clinic_logo: bytes | None = None,
                  language: str | None = None) -> dict[str, Any]:
    """Keyword arguments for the report builders.

    Parameters
    ----------
    patient : PatientView
    assessment : AssessmentView
        A final assessment, with its trials.
    history : sequence of AssessmentView
        The patient's assessments (current versions) for the trend chart.
    clinician : str, optional
        Display name of the clinician; defaults to the recording username.
    clinic : str, optional
        Clinic name printed on the reports.
    clinic_phone : str, optional
        Clinic phone printed in the handout's "stop and call".
    clinic_address : str, optional
        Clinic address, printed under its name at the top of both reports.
    clinic_logo : bytes, optional
        The clinic's logo (PNG/JPEG, checked by records), printed beside its name.
    language : str, optional
        Handout language; default the patient's preferred language, else English.
    """
    return {
        "patient": {k: getattr(patient, k) for k in _PATIENT_FIELDS},
        "assessment": {
            "id": assessment.id,
            "version": assessment.version,
            "amended": assessment.version > 1,
            "assessed_on": assessment.assessed_on,
            "clinician": clinician or assessment.created_by,
            "start": assessment.start,
            "footwear": assessment.footwear,
            "assistive_device": assessment.assistive_device,
            "stop_reason": assessment.stop_reason,
            "practice_walk_done": assessment.practice_walk_done,
            "safety_screen": assessment.safety_screen,
            "prior_falls": assessment.prior_falls,
            "walking_aid": assessment.walking_aid,
            "age": assessment.age,
            "sex": assessment.sex,
            "trials": [{k: getattr(t, k) for k in _TRIAL_FIELDS} for t in assessment.trials],
            "score": assessment.score or {},
        },
        "risk": risk_of(assessment),
        "program": program_for(assessment),
        "history": [
            {"assessed_on": h.assessed_on, "mean_seconds": h.mean_seconds, "version": h.version,
             "amended": h.version > 1}
            for h in history if h.mean_seconds is not None
        ],
        "clinic": clinic,
        "clinic_phone": clinic_phone,
        "clinic_address": clinic_address,
        "clinic_logo": clinic_logo,
        "language": language or getattr(patient, "language", None) or "en",
    }
