"""The deployment's clinic settings (name, phone, address, logo): one row, printed on both reports."""

from __future__ import annotations

import io
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
#: Largest logo accepted, bytes (it is printed about 2 cm high; a larger file only slows every report).
LOGO_MAX_BYTES = 512 * 1024
#: Largest logo side, pixels.
LOGO_MAX_SIDE = 4000
#: "Leave the logo as it is" (the default of :func:`set_clinic_settings`).
KEEP = object()


@dataclass(frozen=True)
class ClinicSettingsView:
    """The clinic printed on the reports."""

    name: str
    phone: str
    address: str | None
    logo: bytes | None
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, row: ClinicSettings) -> ClinicSettingsView:
        return cls(row.name, row.phone, row.address, row.logo, utc(row.updated_at), row.updated_by)


def validate_logo(data: Any) -> bytes | None:
    """A logo as stored: PNG or JPEG bytes that decode, or None for no logo.

    Parameters
    ----------
    data : bytes or None

    Returns
    -------
    bytes or None

    Raises
    ------
    InputError
        ``logo``: not PNG/JPEG, does not decode, larger than 512 KB or 4000 px.
    """
    if data is None or data == b"":
        return None
    if not isinstance(data, bytes | bytearray):
        raise InputError("logo", "allowed: a PNG or JPEG image file")
    data = bytes(data)
    if len(data) > LOGO_MAX_BYTES:
        raise InputError("logo", f"the image is {len(data) // 1024} KB; allowed: a PNG or JPEG of up to "
                                 f"{LOGO_MAX_BYTES // 1024} KB")
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise InputError("logo", "allowed: a PNG or JPEG image file")
    from PIL import Image, UnidentifiedImageError  # reportlab's own image reader

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError("logo", "the image file is damaged; allowed: a PNG or JPEG image file") from exc
    if max(width, height) > LOGO_MAX_SIDE or min(width, height) < 1:
        raise InputError("logo", f"the image is {width}×{height} px; allowed: up to {LOGO_MAX_SIDE} px a side")
    return data


def check_clinic_settings(*, name: Any, phone: Any, address: Any = None, logo: Any = None):
    """The settings as they would be stored, checked without writing: ``(name, phone, address, logo)``.

    Raises
    ------
    InputError
        Naming the field at fault.
    """
    clean_name = validate_clinic(name, "name")
    if clean_name is None:
        raise InputError("name", "a clinic name is required; allowed: text of 1 to 200 characters")
    return clean_name, validate_phone(phone), validate_address(address), validate_logo(logo)


def get_clinic_settings(db: Database) -> ClinicSettingsView | None:
    """The clinic settings, or None before ``clinic set`` was run.

    Parameters
    ----------
    db : Database

    Returns
    -------
    ClinicSettingsView or None
    """
    with db.session(read_only=True) as session:
        row = session.get(ClinicSettings, _ROW_ID)
        return None if row is None else ClinicSettingsView.of(row)


def set_clinic_settings(db: Database, *, name: Any, phone: Any, address: Any = None, logo: Any = KEEP,
                        actor: str = "system") -> ClinicSettingsView:
    """Store the clinic's name and phone (and address, logo), replacing what was there.

    Parameters
    ----------
    db : Database
    name : str
        1–200 characters.
    phone : str
        3–40 of digits, spaces and ``+ ( ) . / -``.
    address : str, optional
        Up to 300 characters.
    logo : bytes or None, optional
        PNG or JPEG bytes; None removes the logo; left out, the stored logo is kept.
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
    clean_name, clean_phone, clean_address, clean_logo = check_clinic_settings(
        name=name, phone=phone, address=address, logo=None if logo is KEEP else logo)
    actor = validate_actor(actor)
    with db.session() as session:
        row = session.get(ClinicSettings, _ROW_ID)
        stamp = now()
        if row is None:
            row = ClinicSettings(id=_ROW_ID)
            session.add(row)
        row.name, row.phone, row.address = clean_name, clean_phone, clean_address
        if logo is not KEEP:
            row.logo = clean_logo
        row.updated_at, row.updated_by = stamp, actor
        session.flush()
        write_audit(session, actor, "clinic.settings", "clinic_settings", _ROW_ID,
                    {"address": clean_address is not None, "logo": row.logo is not None})
        return ClinicSettingsView.of(row)
