"""The records services: one function per user action, one transaction each.

Every function takes the :class:`~records.db.Database` first and keyword
arguments after; ``actor`` is the acting clinician's username. Each returns
frozen views (:mod:`records.views`), never ORM objects, and every call that
changes or reads patient data writes an audit row in its own transaction.
Bad input raises :class:`assessment.InputError` (or its subclasses
:class:`~records.errors.NotFound` and :class:`~records.errors.Conflict`)
and writes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from .assessments import (
    CORRECTION_REASONS,
    amend_assessment,
    assessment_versions,
    correct_trial_time,
    discard_draft,
    due_for_reassessment,
    final_assessments,
    finalize_assessment,
    get_assessment,
    history,
    open_drafts,
    patient_summaries,
    record_assessment,
    record_report_printed,
    record_steadi,
    record_trial,
    remove_trial,
    resume_assessment,
    start_assessment,
    stop_assessment,
    update_trial_observations,
)
from .accounts import (
    add_user,
    authenticate,
    disable_user,
    enable_user,
    has_admin,
    list_users,
    session_expired,
    set_password,
)
from .audit import list_audit
from .backup import backup, restore
from .camera import CAMERA_NOTES, choose_scored_time, record_camera_time
from .db import Database
from .falls import labelled_outcomes, list_falls, record_fall
from .model_store import (
    activate_model_version,
    active_model_version,
    get_model_version,
    list_model_versions,
    save_model_version,
)
from .clinic_settings import KEEP as KEEP_LOGO
from .clinic_settings import LOGO_MAX_BYTES, ClinicSettingsView, check_clinic_settings, get_clinic_settings, set_clinic_settings
from .patients import (
    add_clinician,
    add_patient,
    clinic_scope,
    ensure_clinician,
    get_patient,
    list_patients,
    update_patient,
)
from .schema import Base


def import_csv(db: Database, path, *, actor: str, risk_fn=None):
    """Import patients and past assessments from a CSV file, all rows or none.

    See :func:`records.exchange.import_csv` (imported on first use: it needs
    pandas); ``risk_fn`` is the active model that scores every imported assessment.
    """
    from .exchange import import_csv as run

    return run(db, path, actor=actor, risk_fn=risk_fn)


def export_csv(db: Database, out_path, *, actor: str):
    """Export patients and current final assessments to CSV (:func:`records.exchange.export_csv`)."""
    from .exchange import export_csv as run

    return run(db, out_path, actor=actor)


def export_fhir(db: Database, mrn: str, out_path, *, actor: str) -> int:
    """Write a patient's FHIR R4(B) Bundle to a JSON file (:func:`records.fhir.export_fhir`)."""
    from .fhir import export_fhir as run

    return run(db, mrn, out_path, actor=actor)


def count_rows(db: Database) -> dict[str, int]:
    """Number of rows in every table, by table name (for tests and diagnostics)."""
    with db.session(read_only=True) as session:
        return {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


__all__ = [
    "add_user", "authenticate", "backup", "disable_user", "enable_user", "export_csv", "export_fhir",
    "has_admin", "import_csv", "list_users", "restore", "session_expired", "set_password",
    "activate_model_version", "active_model_version", "add_clinician", "add_patient",
    "amend_assessment", "assessment_versions", "count_rows", "ensure_clinician",
    "final_assessments", "finalize_assessment", "get_assessment", "get_model_version", "get_patient", "history",
    "labelled_outcomes", "list_audit", "list_falls", "list_model_versions", "list_patients",
    "open_drafts", "record_assessment", "record_report_printed", "record_fall", "record_steadi", "record_trial",
    "save_model_version", "start_assessment", "stop_assessment", "update_patient",
    "clinic_scope", "due_for_reassessment", "patient_summaries", "update_trial_observations",
    "CAMERA_NOTES", "choose_scored_time", "record_camera_time",
    "CORRECTION_REASONS", "correct_trial_time", "discard_draft", "remove_trial", "resume_assessment",
    "KEEP_LOGO", "LOGO_MAX_BYTES", "ClinicSettingsView", "check_clinic_settings", "get_clinic_settings", "set_clinic_settings",
]
