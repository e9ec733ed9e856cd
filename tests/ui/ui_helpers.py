"""Helpers for driving the app through AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 60


def signed_in(page: str | None = None) -> AppTest:
    """A fresh browser session, signed in as jdoe, on ``page`` (a ui/pages file)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["clinician"] = "jdoe"
    at.session_state["clinician_name"] = "Jo Doe"
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def submit(at: AppTest, form: str, label: str) -> AppTest:
    at.button(key=f"FormSubmitter:{form}-{label}").click().run()
    assert not at.exception, at.exception
    return at
