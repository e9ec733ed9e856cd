"""Services for clinicians and patients (one transaction per call)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from assessment.errors import InputError

from .audit import now, write_audit
from .db import Database
from .errors import Conflict, NotFound
from .schema import Clinician, Patient
from .validation import (
    name_key,
    search_key,
    validate_mrn,
    validate_name,
    validate_patient_fields,
    validate_role,
    validate_username,
)
from .views import ClinicianView, PatientView

#: Largest page of patients one search returns.
LIST_LIMIT_MAX = 1000


def add_clinician(db: Database, *, username: str, display_name: str, role: str = "clinician") -> ClinicianView:
    """Add a clinician.

    Parameters
    ----------
    db : Database
    username : str
        1–64 of letters, digits, ``_ . @ -``; unique.
    display_name : str
        The name shown on reports, 1–200 characters.
    role : str
        ``clinician`` or ``admin``.

    Raises
    ------
    Conflict
        When the username is taken.
    """
    username = validate_username(username)
    display_name = validate_name(display_name, "display_name")
    role = validate_role(role)
    with db.session() as session:
        if session.scalar(sa.select(Clinician.id).where(Clinician.username == username)) is not None:
            raise Conflict("username", f"{username} already exists")
        row = Clinician(username=username, display_name=display_name, role=role, created_at=now())
        session.add(row)
        session.flush()
        write_audit(session, username, "clinician.create", "clinician", row.id, {"role": role})
        return ClinicianView.of(row)


def ensure_clinician(db: Database, username: str, display_name: str | None = None) -> ClinicianView:
    """The clinician with this username, created (role ``clinician``) when missing.

    Parameters
    ----------
    db : Database
    username : str
    display_name : str, optional
        Used only when creating; defaults to the username.
    """
    username = validate_username(username)
    with db.session() as session:
        row = session.scalar(sa.select(Clinician).where(Clinician.username == username))
        if row is not None:
            return ClinicianView.of(row)
    try:
        return add_clinician(db, username=username, display_name=display_name or username)
    except Conflict:  # created by someone else in between
        with db.session() as session:
            return ClinicianView.of(session.scalars(sa.select(Clinician).where(Clinician.username == username)).one())


def patient_row(session: Session, mrn: Any, *, field: str = "mrn") -> Patient:
    """The patient with this MRN, or :class:`NotFound`."""
    mrn = validate_mrn(mrn, field)
    row = session.scalar(sa.select(Patient).where(Patient.mrn == mrn))
    if row is None:
        raise NotFound(field, f"no patient with MRN {mrn}")
    return row


def add_patient(
    db: Database,
    *,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date | str,
    sex: str | None,
    population: str = "community",
    actor: str = "system",
) -> PatientView:
    """Register a patient.

    Parameters
    ----------
    db : Database
    mrn : str
        Medical record number, 1–64 of letters, digits, ``- _ . /``; unique.
    given_name, family_name : str
        Any script, 1–200 characters each, no control characters.
    birth_date : date or str
        YYYY-MM-DD; the age today must be 18–120.
    sex : str or None
        ``female``, ``male`` or None/``unknown``.
    population : str
        One of ``assessment.POPULATION_IDS``.
    actor : str
        Username of the clinician.

    Raises
    ------
    InputError
        Naming the field at fault.
    Conflict
        When the MRN exists.
    """
    fields = validate_patient_fields(
        {
            "mrn": mrn,
            "given_name": given_name,
            "family_name": family_name,
            "birth_date": birth_date,
            "sex": sex,
            "population": population,
        }
    )
    with db.session() as session:
        if session.scalar(sa.select(Patient.id).where(Patient.mrn == fields["mrn"])) is not None:
            raise Conflict("mrn", f"{fields['mrn']} already exists")
        stamp = now()
        row = Patient(
            **fields,
            mrn_key=fields["mrn"].casefold(),
            name_key=name_key(fields["given_name"], fields["family_name"]),
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(row)
        session.flush()
        write_audit(session, actor, "patient.create", "patient", row.id, {"population": row.population})
        return PatientView.of(row)


def update_patient(db: Database, mrn: str, /, *, actor: str = "system", **changes: Any) -> PatientView:
    """Change a patient's details (including the MRN itself).

    Parameters
    ----------
    db : Database
    mrn : str
        The patient's current MRN (positional, so ``mrn=`` among the
        changes is the new MRN).
    actor : str
    **changes
        Any of ``mrn``, ``given_name``, ``family_name``, ``birth_date``,
        ``sex``, ``population``, validated as in :func:`add_patient`.

    Raises
    ------
    NotFound, Conflict, InputError
    """
    if not changes:
        raise InputError("changes", "nothing to change; allowed: mrn, given_name, family_name, birth_date, sex, population")
    fields = validate_patient_fields(changes)
    with db.session() as session:
        row = patient_row(session, mrn)
        new_mrn = fields.get("mrn")
        if new_mrn is not None and new_mrn != row.mrn:
            if session.scalar(sa.select(Patient.id).where(Patient.mrn == new_mrn)) is not None:
                raise Conflict("mrn", f"{new_mrn} already exists")
        for key, value in fields.items():
            setattr(row, key, value)
        row.mrn_key = row.mrn.casefold()
        row.name_key = name_key(row.given_name, row.family_name)
        row.updated_at = now()
        session.flush()
        write_audit(session, actor, "patient.update", "patient", row.id, {"changed": sorted(fields)})
        return PatientView.of(row)


def get_patient(db: Database, mrn: str, *, actor: str = "system") -> PatientView:
    """The patient with this MRN.

    Raises
    ------
    NotFound
        ``NotFound("mrn", ...)`` when no such patient exists.
    """
    with db.session() as session:
        row = patient_row(session, mrn)
        write_audit(session, actor, "patient.view", "patient", row.id)
        return PatientView.of(row)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_patients(
    db: Database, *, search: str | None = None, limit: int = 100, actor: str = "system"
) -> list[PatientView]:
    """Patients in name order, optionally matching a search.

    Parameters
    ----------
    db : Database
    search : str, optional
        Matches an MRN prefix or a substring of "given family" name, case-
        insensitively in any script (both columns are indexed, case-folded).
    limit : int
        1 to 1000.
    actor : str
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise InputError("limit", f"allowed: a whole number from 1 to {LIST_LIMIT_MAX}")
    query = sa.select(Patient).order_by(Patient.name_key, Patient.mrn).limit(limit)
    term = search_key(search) if isinstance(search, str) else ""
    if term:
        pattern = _like_escape(term)
        query = query.where(
            sa.or_(
                Patient.mrn_key.like(f"{pattern}%", escape="\\"),
                Patient.name_key.like(f"%{pattern}%", escape="\\"),
            )
        )
    with db.session() as session:
        rows = list(session.scalars(query))
        write_audit(session, actor, "patient.search", "patient", None, {"results": len(rows), "searched": bool(term)})
        return [PatientView.of(r) for r in rows]
