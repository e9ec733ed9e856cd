"""Sign-in, first-run administrator, sign-out and the idle session timeout.

Session state keeps only the user's username, display name, role and the
time of their last activity (:data:`ui.resources.SESSION_USER_KEYS`), plus a
one-shot notice shown on the sign-in page. Passwords live only in the form
widgets, which are cleared when the form is submitted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from assessment.errors import InputError
from records import accounts, services

from .common import clinic_fields, md_escape, show_error
from .resources import CLINICIAN_KEY, GENERATION_KEY, LAST_ACTIVITY_KEY, NAME_KEY, ROLE_KEY, database

#: One-shot notice for the sign-in page ("signed out after 15 minutes idle").
NOTICE_KEY = "signin_notice"
#: How often an open page checks for the idle timeout without user activity, seconds.
IDLE_CHECK_SECONDS = 30


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def _remember(user) -> None:
    live = accounts.live_account(database(), user.username)
    st.session_state[CLINICIAN_KEY] = user.username
    st.session_state[NAME_KEY] = user.display_name
    st.session_state[ROLE_KEY] = user.role
    st.session_state[GENERATION_KEY] = live.generation if live is not None else -1
    st.session_state[LAST_ACTIVITY_KEY] = now()


def client_address() -> str:
    """The browser's address: the last ``X-Forwarded-For`` hop when the peer is a local proxy."""
    try:
        peer = st.context.ip_address or ""
        forwarded = st.context.headers.get("X-Forwarded-For", "")
    except Exception:  # no script context (bare AppTest runs)
        return accounts.UNKNOWN_SOURCE
    if forwarded and peer in ("127.0.0.1", "::1", ""):
        return forwarded.split(",")[-1].strip() or accounts.UNKNOWN_SOURCE
    return peer or accounts.UNKNOWN_SOURCE


def sign_out(notice: str | None = None, *, everywhere: bool = False) -> None:
    """Forget everything this browser session held, keeping only ``notice`` for the sign-in page.

    With ``everywhere``, every other open page of the user (other tabs and
    browsers) signs out too, at its next rerun or idle check.
    """
    username = st.session_state.get(CLINICIAN_KEY)
    if everywhere and username:
        accounts.end_sessions(database(), username, actor=username)
    st.session_state.clear()
    if notice:
        st.session_state[NOTICE_KEY] = notice


def reserved_username(username) -> bool:
    """True for ``system``, the command line's actor, which no account may take."""
    return isinstance(username, str) and username.strip().casefold() == accounts.SYSTEM_ACTOR


def timeout_minutes() -> int:
    """The configured idle timeout (``$STEPBACK_SESSION_TIMEOUT_MINUTES``, default 15).

    A bad value stops the app with the error naming the variable.
    """
    try:
        return accounts.session_timeout_minutes()
    except InputError as exc:
        st.error(f"**{md_escape(exc.field)}**: {md_escape(exc.message)}")
        st.stop()


def idle_expired() -> bool:
    """True when the signed-in session has been idle for the timeout or longer."""
    return accounts.session_expired(st.session_state.get(LAST_ACTIVITY_KEY), now(), timeout_minutes())


def current_user() -> str | None:
    """Check this rerun's session; return the signed-in username or None.

    Signs out (with a notice) when the session was idle too long, or when an
    administrator disabled the account or it no longer exists. Otherwise the
    role and display name are refreshed from the database and the
    last-activity time moves to now (every full rerun is a user action).
    """
    username = st.session_state.get(CLINICIAN_KEY)
    if not username:
        return None
    if reserved_username(username):
        sign_out()
        return None
    if idle_expired():
        minutes = timeout_minutes()
        sign_out(f"You were signed out after {minutes} minute{'s' if minutes != 1 else ''} without activity. "
                 "Sign in again to continue.")
        return None
    account = accounts.live_account(database(), username)
    if account is None:
        sign_out("Your account is no longer active; ask an administrator.")
        return None
    if account.generation != st.session_state.get(GENERATION_KEY):
        sign_out("You were signed out (you signed out in another tab or window). Sign in again to continue.")
        return None
    st.session_state[NAME_KEY] = account.display_name
    st.session_state[ROLE_KEY] = account.role
    st.session_state[LAST_ACTIVITY_KEY] = now()
    return username


def fragment_run() -> bool:
    """True while only fragments rerun (a tap inside an ``st.fragment``), not the whole app."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def fragment_tap() -> None:
    """Start of a fragment that a clinician's tap reruns alone: the session checks of a full rerun.

    A full rerun already ran them (:func:`current_user` in ``app.py``). In a
    fragment-only rerun the tap is user activity (the last-activity time
    moves), and a session that expired, or was signed out or disabled
    elsewhere, reruns the whole app, which shows the sign-in page.
    """
    if fragment_run() and current_user() is None:
        st.rerun(scope="app")


@st.fragment(run_every=IDLE_CHECK_SECONDS)
def idle_watch() -> None:
    """Re-check the timeout every :data:`IDLE_CHECK_SECONDS` while the page sits open.

    A fragment rerun is not user activity (it does not move the
    last-activity time); once the session has expired it reruns the whole
    app, which signs out and hides the patient data on screen.
    """
    username = st.session_state.get(CLINICIAN_KEY)
    if not username:
        return
    live = accounts.live_account(database(), username)
    if idle_expired() or live is None or live.generation != st.session_state.get(GENERATION_KEY):
        st.rerun(scope="app")


def _notice() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.warning(notice, icon=":material/logout:")


def _narrow():
    """A centred column, so the short forms do not stretch across a wide screen."""
    return st.columns([1, 2, 1])[1]


def sign_in_page() -> None:
    """The sign-in form: username and password, checked by :func:`records.accounts.authenticate`."""
    with _narrow():
        _sign_in_form()


def _sign_in_form() -> None:
    st.title("StepBack")
    st.write("Fall-risk screening with the 3-meter backward walk test. Sign in to continue.")
    _notice()
    with st.form("sign_in", clear_on_submit=True):
        username = st.text_input("Username", key="signin_username", autocomplete="username")
        password = st.text_input("Password", type="password", key="signin_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = accounts.authenticate(database(), username, password, source=client_address())
        except accounts.SignInError as exc:
            st.error(f"Sign-in refused: {md_escape(exc.message)}.", icon=":material/lock:")
            return
        _remember(user)
        st.rerun()


def first_run_page() -> None:
    """First run (no administrator yet): create the first administrator, then sign in as them."""
    with _narrow():
        _first_run_form()


def _first_run_form() -> None:
    st.title("Welcome to StepBack")
    st.write("No administrator exists yet. Create the first administrator account; "
             "they can then add the clinicians' accounts. There is no default password.")
    st.caption(f"Password: {accounts.PASSWORD_POLICY}.")
    with st.form("first_admin", clear_on_submit=True):
        username = st.text_input("Username", key="first_username", autocomplete="username")
        display = st.text_input("Your name as printed on reports", key="first_display")
        password = st.text_input("Password", type="password", key="first_password", autocomplete="new-password")
        again = st.text_input("Password again", type="password", key="first_password2", autocomplete="new-password")
        st.subheader("Your clinic, printed on both reports")
        clinic = clinic_fields("first", None)
        submitted = st.form_submit_button("Create the administrator", type="primary")
    if not submitted:
        return
    if password != again:
        st.error("Password: the two passwords differ; type the same password twice.", icon=":material/error:")
        return
    db = database()
    try:  # the clinic is checked first: either the administrator and the clinic are both stored, or neither
        services.check_clinic_settings(**clinic)
        actor = username.strip() if isinstance(username, str) and username.strip() else accounts.SYSTEM_ACTOR
        accounts.add_user(db, username=username, password=password, role="admin",
                          display_name=display or None, actor=actor)
        services.set_clinic_settings(db, **clinic, actor=username.strip())
        user = accounts.authenticate(db, username, password, source=client_address())
    except InputError as exc:
        show_error(exc)
        return
    _remember(user)
    st.rerun()
