"""The deployment's clinic settings (name, phone, address, logo path): one row, printed on the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assessment.errors import InputError

from .audit import now, write_audit
from .db import Database
from .schema import ClinicSettings
from .validation import validate_actor, validate_address, validate_clinic, validate_phone
from .views import utc

#: The one row's id.
_ROW_ID = 1
LOGO_PATH_MAX = 1000


@dataclass(frozen=True)
class ClinicSettingsView:
    """The clinic printed on the reports."""

    name: str
    phone: str
    address: str | None
    logo_path: str | None
    updated_at: datetime
    updated_by: str


def get_clinic_settings(db: Database) -> ClinicSettingsView | None:
    """The clinic settings, or None before ``clinic set`` was run.

    Parameters
    ----------
    db : Database

    Returns
    -------
    ClinicSettingsView or None
    """
    with db.session() as session:
        row = session.get(ClinicSettings, _ROW_ID)
        return None if row is None else ClinicSettingsView(row.name, row.phone, row.address, row.logo_path,
                                                           utc(row.updated_at), row.updated_by)


def set_clinic_settings(db: Database, *, name: Any, phone: Any, address: Any = None, logo_path: Any = None,
                        actor: str = "system") -> ClinicSettingsView:
    """Store the clinic's name and phone (and address, logo path), replacing what was there.

    Parameters
    ----------
    db : Database
    name : str
        1–200 characters.
    phone : str
        3–40 of digits, spaces and ``+ ( ) . / -``.
    address : str, optional
        Up to 300 characters.
    logo_path : str, optional
        Path of a logo image (stored as given, up to 1000 characters).
    actor : str
        Username of the administrator.

    Returns
    -------
    ClinicSettingsView

    Raises
    ------
    InputError
        Naming the field at fault; nothing is written.
    """
    clean_name = validate_clinic(name, "name")
    if clean_name is None:
        raise InputError("name", "a clinic name is required; allowed: text of 1 to 200 characters")
    clean_phone = validate_phone(phone)
    clean_address = validate_address(address)
    clean_logo = None if logo_path is None or not str(logo_path).strip() else str(logo_path).strip()
    if clean_logo is not None and len(clean_logo) > LOGO_PATH_MAX:
        raise InputError("logo_path", f"allowed: a path of up to {LOGO_PATH_MAX} characters")
    actor = validate_actor(actor)
    with db.session() as session:
        row = session.get(ClinicSettings, _ROW_ID)
        stamp = now()
        if row is None:
            row = ClinicSettings(id=_ROW_ID)
            session.add(row)
        row.name, row.phone, row.address, row.logo_path = clean_name, clean_phone, clean_address, clean_logo
        row.updated_at, row.updated_by = stamp, actor
        session.flush()
        write_audit(session, actor, "clinic.settings", "clinic_settings", _ROW_ID,
                    {"address": clean_address is not None, "logo": clean_logo is not None})
        return ClinicSettingsView(row.name, row.phone, row.address, row.logo_path, utc(row.updated_at), row.updated_by)
