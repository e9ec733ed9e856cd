"""Shared, read-only resources for the pages, cached at the edge (here, in ``ui``).

``st.cache_resource`` holds only the :class:`records.db.Database` (its engine)
and the read-only fitted model; never a session, a patient or an assessment.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time

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


#: Modules the pages import, imported by :func:`preload` so the first visitor does not wait for them.
PAGE_MODULES = ("models", "reports", "ui.flow", "ui.patients", "ui.wizard", "ui.result", "ui.history",
                "ui.clinic", "ui.model_page", "ui.exchange_page", "ui.admin", "ui.audit_page")

_preload_lock = threading.Lock()
_preload_started = False


def preload() -> float:
    """Load, once per process, what every page needs: tables, database, model, page modules.

    Reads the reference tables (``assessment/data``), opens (and migrates)
    the database, loads the active fall-risk model into the
    ``st.cache_resource`` caches the pages use, and imports the page
    modules (importing the model's scikit-learn stack alone takes seconds);
    then freezes what it loaded out of the garbage collector's walks
    (``gc.freeze``).
    ``stepback serve`` calls it before an app process listens; plain
    ``streamlit run app.py`` runs it in a background thread
    (:func:`start_preload`) while the first visitor signs in.

    Returns
    -------
    float
        Seconds it took.
    """
    global _preload_started
    t0 = time.perf_counter()
    with _preload_lock:
        _preload_started = True
    from assessment.populations import populations, reference_cohorts
    from assessment.program import band_names
    from assessment.steadi import stay_independent_items

    populations()
    reference_cohorts()
    band_names()
    stay_independent_items()
    for name in PAGE_MODULES:
        importlib.import_module(name)
    database()
    fall_risk_model()
    import altair as alt

    # Altair builds its schema validator on the first chart (Result and History draw one).
    alt.Chart(alt.Data(values=[{"x": 1.0}])).mark_point().encode(x="x:Q").to_dict()
    # Python's full collections walk every object; the ~300,000 loaded above
    # (0.15 s a walk) live as long as the process, so they move to the
    # collector's permanent generation, which it does not walk. (Streamlit's
    # collection after every rerun is off: .streamlit/config.toml.)
    gc.collect()
    gc.freeze()
    return time.perf_counter() - t0


def _preload_quietly() -> None:
    try:
        preload()
    except Exception:  # noqa: BLE001 - a page loads what it needs itself and reports its own error
        logging.getLogger("stepback").exception("preloading the model and tables failed")


def start_preload() -> None:
    """Run :func:`preload` in a background thread, once per process (a no-op after that)."""
    global _preload_started
    with _preload_lock:
        if _preload_started:
            return
        _preload_started = True
    threading.Thread(target=_preload_quietly, name="stepback-preload", daemon=True).start()


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
