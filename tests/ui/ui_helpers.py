"""Helpers for driving the app through AppTest."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 60
#: The password of the accounts the ``db`` fixture creates (tests/ui/conftest.py).
PASSWORD = "correct horse battery"


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    """Fill and submit the sign-in form of a running AppTest."""
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert not at.exception, at.exception
    return at


def signed_in(page: str | None = None, *, user: str = "jdoe", password: str = PASSWORD) -> AppTest:
    """A fresh browser session, signed in through the form as ``user``, on ``page`` (a ui/pages file)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    sign_in(at, user, password)
    assert at.session_state["clinician"] == user, [e.value for e in at.error]
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


def shown(markdown: str) -> str:
    """The text a markdown element shows: md_escape's backslashes and invisible word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
