"""Lazy, cached loading of the reference tables in ``assessment/data``.

Every table carries a ``source`` column naming its row in
``shared/clinical-evidence.md``. Tables are read on first use, never at
import time, through :mod:`importlib.resources` so they work from a wheel.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources


@functools.cache
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Return the rows of ``assessment/data/<name>.csv`` as dicts of strings."""
    text = resources.files("assessment.data").joinpath(f"{name}.csv").read_text("utf-8")
    return tuple(csv.DictReader(io.StringIO(text)))


def opt_float(value: str | None) -> float | None:
    """Parse an optional number cell ('' means not published)."""
    if value is None or value.strip() == "":
        return None
    return float(value)


def yes(value: str | None) -> bool:
    """Parse a yes/no cell."""
    return (value or "").strip().lower() == "yes"
