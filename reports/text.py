"""Small, locale-independent formatting helpers shared by the report builders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any


def as_date(value: Any) -> date | None:
    """A ``date`` from a date or an ISO string ('' or None → None)."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def iso(value: Any) -> str:
    """ISO date text, or an em dash when missing."""
    d = as_date(value)
    return d.isoformat() if d else "—"


def seconds(value: float | None, places: int = 2) -> str:
    """'4.25 s' or an em dash."""
    return "—" if value is None else f"{value:.{places}f} s"


def num(value: float | None, places: int = 2) -> str:
    """A number with fixed decimals or an em dash."""
    return "—" if value is None else f"{value:.{places}f}"


def pct(value: float | None, places: int = 0) -> str:
    """A probability (0–1) as '23 %' or an em dash."""
    return "—" if value is None else f"{100 * value:.{places}f} %"


def yes_no(value: Any) -> str:
    """'yes' / 'no' / '—'."""
    if value is None:
        return "—"
    return "yes" if value else "no"


def full_name(patient: Mapping[str, Any]) -> str:
    """Given and family name, trimmed."""
    return " ".join(str(patient.get(k) or "").strip() for k in ("given_name", "family_name")).strip() or "—"


def words(key: str | None) -> str:
    """'needs_hands_on_help' → 'needs hands on help'."""
    return "—" if not key else str(key).replace("_", " ")
