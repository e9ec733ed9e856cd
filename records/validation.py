"""Validation of what the records services accept beyond the clinical gatekeeper.

Patient, clinician, fall and model-version fields, plus the two model
predictors (``prior_falls``, ``walking_aid``) that are not gatekeeper keys.
Each check raises :class:`assessment.InputError` naming the field and the
allowed values; the generic parsers come from :mod:`assessment.gatekeeper`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from assessment.errors import InputError
from assessment.gatekeeper import (
    parse_iso_date,
    AGE_MAX,
    AGE_MIN,
    is_blank,
    parse_date,
    brief,
    parse_text,
    validate_population,
    validate_sex,
)

from assessment.program import validate_safety_screen as program_safety_screen

from .views import age_on

#: MRN: 1–64 characters, ASCII letters, digits and - _ . / (product limit).
MRN_MAX = 64
_MRN_RE = re.compile(r"[A-Za-z0-9_./-]+")
#: Names: 1–200 characters after stripping (product limit).
NAME_MAX = 200
#: Usernames of clinicians.
USERNAME_MAX = 64
_USERNAME_RE = re.compile(r"[A-Za-z0-9_.@-]+")
#: Clinician roles.
ROLES = ("clinician", "admin")
#: Free text: fall notes, amendment reasons.
NOTES_MAX = 2000
REASON_MAX = 500
#: prior_falls is stored as 0, 1 or 2, where 2 means "two or more".
#: Characters refused in names: control, surrogate, private-use, unassigned, line/paragraph separators.
_BAD_NAME_CATEGORIES = {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}


def validate_mrn(value: Any, field: str = "mrn") -> str:
    """A medical record number: 1–64 of A–Z a–z 0–9 - _ . /"""
    allowed = f"1 to {MRN_MAX} characters: letters A-Z, digits, - _ . /"
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, f"an MRN is required; allowed: {allowed}")
    text = value.strip()
    if len(text) > MRN_MAX or not _MRN_RE.fullmatch(text):
        raise InputError(field, f"{text[:40]!r} is not a valid MRN; allowed: {allowed}")
    return text


def validate_name(value: Any, field: str) -> str:
    """A given or family name: any script, 1–200 characters, no control characters."""
    allowed = f"1 to {NAME_MAX} characters in any script (letters, spaces, hyphens, apostrophes), no control characters"
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, f"a name is required; allowed: {allowed}")
    text = value.strip()
    if len(text) > NAME_MAX:
        raise InputError(field, f"{len(text)} characters is too long; allowed: {allowed}")
    for char in text:
        if unicodedata.category(char) in _BAD_NAME_CATEGORIES:
            raise InputError(field, f"contains the control character U+{ord(char):04X}; allowed: {allowed}")
    if not any(unicodedata.category(c).startswith("L") for c in text):
        raise InputError(field, f"contains no letter; allowed: {allowed}")
    return text


def validate_birth_date(value: Any, field: str = "birth_date", today: date | None = None) -> date:
    """A birth date (YYYY-MM-DD) giving an age of 18–120 years today."""
    today = today or date.today()
    allowed = f"a date YYYY-MM-DD giving an age of {AGE_MIN} to {AGE_MAX} years today"
    parsed = parse_iso_date(field, value, allowed)
    if parsed > today:
        raise InputError(field, f"{parsed.isoformat()} is in the future; allowed: {allowed}")
    age = age_on(parsed, today)
    if not AGE_MIN <= age <= AGE_MAX:
        raise InputError(field, f"{parsed.isoformat()} gives an age of {age}; allowed: {allowed}")
    return parsed


def validate_sex_value(value: Any) -> str | None:
    """female / male / None, as stored."""
    sex = validate_sex(value)
    return sex.value if sex is not None else None


def validate_patient_fields(raw: Mapping[str, Any], *, today: date | None = None) -> dict[str, Any]:
    """Validate the patient fields present in ``raw``; return their stored values."""
    out: dict[str, Any] = {}
    checks = {
        "mrn": validate_mrn,
        "given_name": lambda v: validate_name(v, "given_name"),
        "family_name": lambda v: validate_name(v, "family_name"),
        "birth_date": lambda v: validate_birth_date(v, today=today),
        "sex": validate_sex_value,
        "population": validate_population,
        "language": validate_language,
    }
    for key, value in raw.items():
        if key not in checks:
            raise InputError(key, f"unknown patient field; allowed: {', '.join(checks)}")
        out[key] = checks[key](value)
    return out


def name_key(given_name: str, family_name: str) -> str:
    """The case-folded, NFC-normalised "given family" name used for search."""
    return unicodedata.normalize("NFC", f"{given_name} {family_name}").casefold()


def search_key(text: str) -> str:
    """A search term folded the same way as :func:`name_key`."""
    return unicodedata.normalize("NFC", text.strip()).casefold()


def validate_safety_screen(value: Any, field: str = "safety_screen") -> dict[str, bool] | None:
    """The pre-test safety screen (seven yes/no questions), or None when not recorded.

    One set of rules: :func:`assessment.program.validate_safety_screen`.
    """
    if value is None:
        return None
    return program_safety_screen(value)


def validate_actor(value: Any) -> str:
    """The acting clinician's username (or ``system``)."""
    if not isinstance(value, str) or not _USERNAME_RE.fullmatch(value.strip()) or len(value.strip()) > USERNAME_MAX:
        raise InputError("actor", f"allowed: a username of 1 to {USERNAME_MAX} characters (letters, digits, _ . @ -)")
    return value.strip()


#: The actor name of local command-line changes; reserved, never an account.
SYSTEM_ACTOR = "system"


def validate_username(value: Any, field: str = "username") -> str:
    """A clinician username: 1–64 of letters, digits, _ . @ -"""
    allowed = f"1 to {USERNAME_MAX} characters: letters A-Z, digits, _ . @ -"
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, f"a username is required; allowed: {allowed}")
    text = value.strip()
    if len(text) > USERNAME_MAX or not _USERNAME_RE.fullmatch(text):
        raise InputError(field, f"{text[:40]!r} is not a valid username; allowed: {allowed}")
    if text.casefold() == SYSTEM_ACTOR:
        raise InputError(field, f"{text!r} is reserved for the local command line; allowed: any other name")
    return text


def validate_role(value: Any) -> str:
    """A clinician role."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in ROLES:
        raise InputError("role", f"{brief(value)!r} is not allowed; allowed: {', '.join(ROLES)}")
    return text


def validate_reason(value: Any, field: str = "reason") -> str:
    """A free-text reason (amendments): 1–500 characters."""
    return parse_text(field, value, REASON_MAX)


def validate_notes(value: Any, field: str = "notes") -> str | None:
    """Optional free-text notes: up to 2000 characters."""
    return None if is_blank(value) else parse_text(field, value, NOTES_MAX)


def validate_event_date(field: str, value: Any, today: date | None = None) -> date:
    """A date from 1990-01-01 to today (same range as assessment dates)."""
    return parse_date(field, value, today or date.today())


def validate_label(value: Any, field: str, max_len: int = 64) -> str:
    """A short identifier such as a model version or kind."""
    allowed = f"1 to {max_len} characters: letters, digits, _ . + -"
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.+-]{1,%d}" % max_len, value.strip()):
        raise InputError(field, f"{brief(value)!r} is not allowed; allowed: {allowed}")
    return value.strip()


#: Longest clinic name (product limit).
CLINIC_MAX = 200


def validate_clinic(value: Any, field: str = "clinic") -> str | None:
    """A clinic name (1–200 characters, no control characters), or None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    allowed = f"text of 1 to {CLINIC_MAX} characters, or leave it out"
    if not isinstance(value, str) or len(value.strip()) > CLINIC_MAX:
        raise InputError(field, f"allowed: {allowed}")
    text = value.strip()
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") for c in text):
        raise InputError(field, f"contains a control character; allowed: {allowed}")
    return text


#: The patient's preferred language for the handout (BCP 47 tags); the same
#: tuple as ``reports.i18n.LANGUAGES`` (a test keeps the two equal).
LANGUAGES = ("en", "es", "zh-Hans")
#: Clinic settings limits (product limits).
PHONE_MAX = 40
ADDRESS_MAX = 300
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ()./-]{2,39}")


def validate_language(value: Any, field: str = "language") -> str | None:
    """A preferred language (one of :data:`LANGUAGES`), or None when blank (not recorded)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if text not in LANGUAGES:
        raise InputError(field, f"{text[:20]!r} is not a handout language; allowed: {', '.join(LANGUAGES)}")
    return text


def validate_phone(value: Any, field: str = "phone") -> str:
    """A phone number: 3–40 of digits, spaces and ``+ ( ) . / -``, starting with ``+`` or a digit."""
    allowed = f"3 to {PHONE_MAX} characters: digits, spaces, + ( ) . / -"
    text = value.strip() if isinstance(value, str) else ""
    if not _PHONE_RE.fullmatch(text):
        raise InputError(field, f"{text[:40]!r} is not a phone number; allowed: {allowed}")
    return text


def validate_address(value: Any, field: str = "address") -> str | None:
    """A postal address (up to 300 characters, line breaks allowed), or None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    allowed = f"text of 1 to {ADDRESS_MAX} characters, or leave it out"
    if not isinstance(value, str) or len(value.strip()) > ADDRESS_MAX:
        raise InputError(field, f"allowed: {allowed}")
    text = value.strip()
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c != "\n" for c in text):
        raise InputError(field, f"contains a control character; allowed: {allowed}")
    return text
