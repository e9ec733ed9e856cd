"""Shared, read-only resources for the pages, cached at the edge (here, in ``ui``).

``st.cache_resource`` holds only the :class:`records.db.Database` (its engine)
and the read-only fitted model; never a session, a patient or an assessment.
"""

from __future__ import annotations

import streamlit as st

from records.db import Database, open_database, resolve_url

#: Session-state key of the signed-in clinician's username (UI state only).
CLINICIAN_KEY = "clinician"


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
    """Username of the clinician signed in to this browser session."""
    return st.session_state.get(CLINICIAN_KEY) or "system"
