"""The one error type the clinical core raises for bad input."""

from __future__ import annotations


class InputError(ValueError):
    """Raw input that cannot become a valid assessment.

    Parameters
    ----------
    field : str
        The input field at fault, named as the user typed it (``age``,
        ``trial_2``, ``steadi.tug_seconds`` ...).
    message : str
        What is wrong and what is allowed, in one line.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
