"""Clinic scope: the one access rule for patient data, applied to every session.

A clinician with a clinic sees and writes only the patients of that clinic;
an administrator, a clinician with no clinic (a single-clinic install) and
the command line (``system``) see every patient.

The rule lives here and nowhere else. :meth:`records.db.Database.session`
takes the acting username, looks up its clinic once (one indexed lookup on
``clinicians.username``) and stores it in ``session.info``. Two session
events then enforce it for everything the services do in that transaction:

- every ORM ``SELECT`` (including ``session.get``, joins, subqueries and
  ``select(Patient.id)``) gets ``with_loader_criteria`` for patients and
  for every table that hangs off a patient (assessments, lineages, falls),
  so a row of another clinic is simply not found: the same
  :class:`~records.errors.NotFound` as an id that does not exist;
- before a flush, a new or changed patient must belong to the acting
  clinic, and a new assessment, lineage or fall must belong to a patient of
  it; otherwise :class:`OutOfScope` and the transaction rolls back.

A uniqueness check that must see every clinic (a medical record number is
unique across the install) runs with ``execution_options(all_clinics=True)``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from assessment.errors import InputError

from .schema import AssessmentLineage, AssessmentRow, Clinician, FallEvent, Patient
from .validation import SYSTEM_ACTOR

#: ``session.info`` key holding the acting clinic (absent: every clinic).
SCOPE_KEY = "stepback_clinic"
#: Execution option that lifts the scope for one statement (uniqueness checks).
ALL_CLINICS = "all_clinics"


class OutOfScope(InputError):
    """A write would touch a patient of a clinic the acting user may not see."""


def clinic_of_actor(session: Session, actor: Any) -> str | None:
    """The clinic ``actor`` is limited to, or None for every clinic.

    Parameters
    ----------
    session : Session
    actor : str
        A username, or ``system``. A username with no account (the command
        line's own names, tests) is not limited.
    """
    if not isinstance(actor, str) or actor == SYSTEM_ACTOR:
        return None
    row = session.execute(
        sa.select(Clinician.role, Clinician.clinic).where(Clinician.username == actor)
    ).one_or_none()
    if row is None or row.role == "admin":
        return None
    return row.clinic


def apply_scope(session: Session, actor: Any) -> str | None:
    """Limit ``session`` to the clinic of ``actor``; return that clinic (or None)."""
    clinic = clinic_of_actor(session, actor)
    if clinic is None:
        session.info.pop(SCOPE_KEY, None)
    else:
        session.info[SCOPE_KEY] = clinic
    return clinic


def session_clinic(session: Session) -> str | None:
    """The clinic this session is limited to, or None."""
    return session.info.get(SCOPE_KEY)


def _patients_of(clinic: str):
    return sa.select(Patient.id).where(Patient.clinic == clinic).scalar_subquery()


@event.listens_for(Session, "do_orm_execute")
def _limit_reads(state: ORMExecuteState) -> None:
    clinic = state.session.info.get(SCOPE_KEY)
    if clinic is None or not state.is_select or state.execution_options.get(ALL_CLINICS):
        return
    in_clinic = _patients_of(clinic)
    state.statement = state.statement.options(
        with_loader_criteria(Patient, Patient.clinic == clinic, include_aliases=True),
        with_loader_criteria(AssessmentRow, AssessmentRow.patient_id.in_(in_clinic), include_aliases=True),
        with_loader_criteria(AssessmentLineage, AssessmentLineage.patient_id.in_(in_clinic), include_aliases=True),
        with_loader_criteria(FallEvent, FallEvent.patient_id.in_(in_clinic), include_aliases=True),
    )


@event.listens_for(Session, "before_flush")
def _limit_writes(session: Session, flush_context, instances) -> None:
    clinic = session.info.get(SCOPE_KEY)
    if clinic is None:
        return
    changed = list(session.new) + list(session.dirty) + list(session.deleted)
    patient_ids: set[int] = set()
    for obj in changed:
        if isinstance(obj, Patient):
            if obj.clinic != clinic:
                raise OutOfScope("clinic", f"allowed: only patients of your clinic ({clinic})")
        elif isinstance(obj, AssessmentRow | AssessmentLineage | FallEvent):
            if obj.patient_id is not None:
                patient_ids.add(obj.patient_id)
            elif getattr(obj, "patient", None) is not None and obj.patient.clinic != clinic:
                raise OutOfScope("clinic", f"allowed: only patients of your clinic ({clinic})")
    if patient_ids:
        with session.no_autoflush:
            seen = set(session.scalars(
                sa.select(Patient.id).where(Patient.id.in_(patient_ids), Patient.clinic == clinic)
                .execution_options(**{ALL_CLINICS: True})
            ))
        if seen != patient_ids:
            raise OutOfScope("clinic", f"allowed: only patients of your clinic ({clinic})")
