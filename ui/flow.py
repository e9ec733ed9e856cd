"""Glue between a finished draft and the services: risk estimate, program, reports.

Pages call these so a page stays "read widgets, call one service, render".
Nothing here holds state; every input is read back from the database. The
clinical mappings live in one place each: the model hook in
:func:`models.risk_function`, the program in
:func:`assessment.program.program_for`, the report inputs in
:mod:`reports.inputs`.
"""

from __future__ import annotations

from assessment.program import SAFETY_SCREEN_KEYS, program_for
from records import services
from records.db import Database
from records.views import AssessmentView
from reports.inputs import clinic_inputs, report_inputs, risk_of

__all__ = ["IN_TEST_KEY", "PRE_TEST_KEYS", "build_reports", "finalize", "print_report", "program_for", "report_models",
           "risk_of"]

#: Safety-screen item answered from what happened in the test, not asked before it.
IN_TEST_KEY = "needed_help_or_lost_balance_in_test"
#: The safety-screen items asked before the test (assessment.program keys).
PRE_TEST_KEYS: tuple[str, ...] = tuple(k for k in SAFETY_SCREEN_KEYS if k != IN_TEST_KEY)


def finalize(db: Database, draft_id: int, model, *, actor: str) -> AssessmentView:
    """Score the draft, add the model's estimate and close it, in one records transaction."""
    from models import risk_function

    risk_fn = risk_function(model) if model is not None else None
    return services.finalize_assessment(db, draft_id, risk_fn=risk_fn, actor=actor)


def report_models(db: Database, assessment_id: int, *, actor: str, clinician: str, clinic: str | None = None):
    """(patient_model, clinician_model) of one final assessment: data only, nothing rendered or audited.

    The handout is in the patient's preferred language; the clinic's name, phone,
    address and logo come from the clinic settings (``clinic`` replaces the name).
    """
    import reports

    view = services.get_assessment(db, assessment_id, actor=actor)
    patient = services.get_patient(db, view.mrn, actor=actor)
    settings = services.get_clinic_settings(db)
    inputs = report_inputs(patient, view, services.history(db, view.mrn, actor=actor), clinician=clinician,
                           **clinic_inputs(settings, clinic))
    return reports.build_patient_report(**inputs), reports.build_clinician_report(**inputs)


def print_report(db: Database, assessment_id: int, model, *, actor: str) -> bytes:
    """Render one report to PDF and audit that it was printed (once per call: a click, not a rerun)."""
    import reports

    pdf = reports.render_pdf(model)
    services.record_report_printed(db, assessment_id, (model.kind,), actor=actor)
    return pdf


def build_reports(db: Database, assessment_id: int, *, actor: str, clinician: str, clinic: str | None = None):
    """(patient_pdf, clinician_pdf, patient_model, clinician_model) for one final assessment (batch printing)."""
    patient_model, clinician_model = report_models(db, assessment_id, actor=actor, clinician=clinician, clinic=clinic)
    pdfs = [print_report(db, assessment_id, m, actor=actor) for m in (patient_model, clinician_model)]
    return (*pdfs, patient_model, clinician_model)
