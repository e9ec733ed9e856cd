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
from .scope import ALL_CLINICS, session_clinic
from .validation import (
    SYSTEM_ACTOR,
    validate_clinic,
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
#: The fields a patient has (update_patient may change any of them).
PATIENT_FIELDS = ("mrn", "given_name", "family_name", "birth_date", "sex", "population", "clinic", "language")


def clinic_scope(db: Database, username: str) -> str | None:
    """The clinic whose patients ``username`` sees, or None for every patient.

    An administrator, a clinician with no clinic (a single-clinic install)
    and the command line (``system``) see every patient; any other clinician
    sees the patients of their clinic.

    Parameters
    ----------
    db : Database
    username : str
        The signed-in clinician.

    Returns
    -------
    str or None
        Pass it as ``clinic=`` to :func:`list_patients` and the summaries.

    Raises
    ------
    NotFound
        When no clinician has this username.
    """
    if username == SYSTEM_ACTOR:
        return None
    username = validate_username(username)
    with db.session(read_only=True) as session:
        row = session.execute(
            sa.select(Clinician.role, Clinician.clinic).where(Clinician.username == username)
        ).one_or_none()
    if row is None:
        raise NotFound("username", f"no clinician {username}")
    return None if row.role == "admin" else row.clinic


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


def _mrn_taken(session: Session, mrn: str) -> bool:
    """True when a patient of any clinic has this MRN (unique across the install)."""
    query = sa.select(Patient.id).where(Patient.mrn == mrn).execution_options(**{ALL_CLINICS: True})
    return session.scalar(query) is not None


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
    clinic: str | None = None,
    language: str | None = None,
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
    clinic : str, optional
        The clinic the patient belongs to, 1–200 characters; None on a
        single-clinic install.
    language : str, optional
        Preferred handout language: ``en``, ``es`` or ``zh-Hans``; None when
        not recorded.
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
            "language": language,
        }
    )
    fields["clinic"] = validate_clinic(clinic)
    with db.session(actor) as session:
        if _mrn_taken(session, fields["mrn"]):
            raise Conflict("mrn", f"{fields['mrn']} already exists")
        if fields["clinic"] is None:
            fields["clinic"] = session_clinic(session)  # a clinic's clinician adds to their clinic
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
        write_audit(session, actor, "patient.create", "patient", row.id,
                    {"population": row.population, "clinic": row.clinic is not None})
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
        ``sex``, ``population``, ``clinic`` (None clears it), ``language``
        (None clears it), validated as
        in :func:`add_patient`.

    Raises
    ------
    NotFound, Conflict, InputError
    """
    allowed = "mrn, given_name, family_name, birth_date, sex, population, clinic, language"
    if not changes:
        raise InputError("changes", f"nothing to change; allowed: {allowed}")
    for key in changes:
        if key not in PATIENT_FIELDS:
            raise InputError(key, f"unknown patient field; allowed: {allowed}")
    fields = validate_patient_fields({k: v for k, v in changes.items() if k != "clinic"})
    if "clinic" in changes:
        fields["clinic"] = validate_clinic(changes["clinic"])
    with db.session(actor) as session:
        row = patient_row(session, mrn)
        new_mrn = fields.get("mrn")
        if new_mrn is not None and new_mrn != row.mrn:
            if _mrn_taken(session, new_mrn):
                raise Conflict("mrn", f"{new_mrn} already exists")
        population_changed = "population" in fields and fields["population"] != row.population
        for key, value in fields.items():
            setattr(row, key, value)
        row.mrn_key = row.mrn.casefold()
        row.name_key = name_key(row.given_name, row.family_name)
        row.updated_at = now()
        session.flush()
        write_audit(session, actor, "patient.update", "patient", row.id, {"changed": sorted(fields)})
        if population_changed:
            from .assessments import rederive_programs  # assessments imports this module

            rederive_programs(session, row, actor)
        return PatientView.of(row)


def get_patient(db: Database, mrn: str, *, actor: str = "system") -> PatientView:
    """The patient with this MRN.

    Raises
    ------
    NotFound
        ``NotFound("mrn", ...)`` when no such patient exists.
    """
    with db.session(actor, read_only=True) as session:
        row = patient_row(session, mrn)
        write_audit(session, actor, "patient.view", "patient", row.id)
        return PatientView.of(row)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_patients(
    db: Database, *, search: str | None = None, limit: int = 100, clinic: str | None = None, actor: str = "system"
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
    clinic : str, optional
        Only the patients of this clinic (see :func:`clinic_scope`); None:
        every patient.
    actor : str
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise InputError("limit", f"allowed: a whole number from 1 to {LIST_LIMIT_MAX}")
    clinic = validate_clinic(clinic)
    query = sa.select(Patient).order_by(Patient.name_key, Patient.mrn).limit(limit)
    if clinic is not None:
        query = query.where(Patient.clinic == clinic)
    term = search_key(search) if isinstance(search, str) else ""
    if term:
        pattern = _like_escape(term)
        query = query.where(
            sa.or_(
                Patient.mrn_key.like(f"{pattern}%", escape="\\"),
                Patient.name_key.like(f"%{pattern}%", escape="\\"),
            )
        )
    with db.session(actor, read_only=True) as session:
        rows = list(session.scalars(query))
        write_audit(session, actor, "patient.search", "patient", None, {"results": len(rows), "searched": bool(term), "clinic": clinic is not None})
        return [PatientView.of(r) for r in rows]
