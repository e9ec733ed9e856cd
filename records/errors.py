"""Errors raised by the records services.

Both are :class:`assessment.InputError` subclasses, so a caller (CLI, app)
catches one type and shows ``field: message`` to the user.
"""

from __future__ import annotations

from assessment.errors import InputError


class NotFound(InputError):
    """The record named by ``field`` does not exist (e.g. an unknown MRN)."""


class Conflict(InputError):
    """The change clashes with what is stored (duplicate MRN, final assessment ...)."""


__all__ = ["Conflict", "InputError", "NotFound"]
