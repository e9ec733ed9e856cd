"""Shared, read-only resources for the pages, cached at the edge (here, in ``ui``).

``st.cache_resource`` holds only the :class:`records.db.Database` (its engine)
and the read-only fitted model; never a session, a patient or an assessment.
"""

from __future__ import annotations

import streamlit as st

from records.db import Database, open_database, resolve_url

#: Session-state keys of the signed-in user (UI state only; nothing clinical):
#: username, display name, role and the time of the last activity (UTC).
CLINICIAN_KEY = "clinician"
NAME_KEY = "clinician_name"
ROLE_KEY = "clinician_role"
LAST_ACTIVITY_KEY = "last_activity"
#: The only keys the sign-in keeps about the user.
#: The user's session generation when this page signed in (see records.accounts.live_account).
GENERATION_KEY = "session_generation"
SESSION_USER_KEYS = (CLINICIAN_KEY, NAME_KEY, ROLE_KEY, LAST_ACTIVITY_KEY, GENERATION_KEY)


@st.cache_resource(show_spinner=False)
def _database(url: str) -> Database:
    return open_database(url)


def database() -> Database:
    """The database named by ``$STEPBACK_DATABASE_URL`` (or the default), migrated.

    Cached per URL, so a test that points the variable at a new file gets a
    new engine.
    """
    return _database(resolve_url(None))


@st.cache_resource(show_spinner=False)
def _default_model():
    from models import load_default_model

    return load_default_model()


@st.cache_resource(show_spinner=False, max_entries=4)
def _stored_model(url: str, version: str):
    from models.persist import from_bytes
    from records import services

    stored = services.get_model_version(database(), version)
    return from_bytes(stored.artifact)


def fall_risk_model():
    """The read-only fall-risk model: the database's active version, else the shipped one.

    Returns
    -------
    FallRiskModel or None
        None only when no model can be loaded (the page then says so).
    """
    from records import services

    active = services.active_model_version(database())
    try:
        if active is not None:
            return _stored_model(resolve_url(None), active.version)
        return _default_model()
    except (ImportError, FileNotFoundError, OSError):
        return None


def actor() -> str:
    """Username of the clinician signed in to this browser session.

    Never falls back to ``system`` (the command line's privileged actor): a
    page run without a signed-in user stops here with an error.
    """
    username = st.session_state.get(CLINICIAN_KEY)
    if not username:
        st.error("Sign in first.")
        st.stop()
    return username


def is_admin() -> bool:
    """True when the signed-in user's role (refreshed from the database on every rerun) is admin."""
    return bool(st.session_state.get(CLINICIAN_KEY)) and st.session_state.get(ROLE_KEY) == "admin"
