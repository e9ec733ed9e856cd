"""Admin: the user accounts — list, add, disable/enable (history kept), new password — and the clinic.

The clinic's name, phone and address (``records.clinic_settings``) are
printed on both reports; the handout's "stop and call" gives the name and phone.

Only administrators reach this page (it is not in other users' navigation,
:func:`ui.common.require_admin` refuses a direct call, and every
:mod:`records.accounts` change checks the actor's role again). Model
versions are managed on the Model page.
"""

from __future__ import annotations

import streamlit as st

from assessment.errors import InputError
from records import accounts, services

from .common import clinic_fields, require_admin, show_error
from .resources import actor, database

ROLES = ("clinician", "admin")
#: One-shot confirmation shown after a rerun (UI state).
FLASH = "admin_flash"


def status_text(user: accounts.AccountView, now) -> str:
    """enabled / disabled since … / locked until … / no password."""
    if user.disabled:
        return f"disabled since {user.disabled_at:%Y-%m-%d %H:%M} UTC"
    if not user.has_password:
        return "no password (cannot sign in)"
    if user.locked_until is not None and user.locked_until > now:
        return f"locked until {user.locked_until:%H:%M} UTC"
    return "enabled"


def user_rows(users: list[accounts.AccountView], now) -> list[dict]:
    """One table row per account (plain values; the table shows them as text)."""
    return [{"Username": u.username, "Name": u.display_name, "Role": u.role, "Clinic": u.clinic or "",
             "Status": status_text(u, now), "Failed sign-ins": u.failed_attempts,
             "Created (UTC)": f"{u.created_at:%Y-%m-%d %H:%M}"} for u in users]


def _flash(message: str) -> None:
    st.session_state[FLASH] = message
    st.rerun()


def _add_user_form() -> None:
    with st.form("add_user", clear_on_submit=True):
        c1, c2 = st.columns(2)
        username = c1.text_input("Username", key="new_username", help="Letters, digits, _ . @ -")
        display = c2.text_input("Name as printed on reports", key="new_display")
        c3, c4 = st.columns(2)
        role = c3.selectbox("Role", ROLES, key="new_role")
        clinic = c4.text_input("Clinic (optional)", key="new_clinic")
        c5, c6 = st.columns(2)
        password = c5.text_input("Password", type="password", key="new_password", autocomplete="new-password")
        again = c6.text_input("Password again", type="password", key="new_password2", autocomplete="new-password")
        st.caption(f"Password: {accounts.PASSWORD_POLICY}. Give it to the user in person.")
        submitted = st.form_submit_button("Add user", type="primary")
    if not submitted:
        return
    if password != again:
        st.error("**password**: the two passwords differ; type the same password twice.")
        return
    try:
        user = accounts.add_user(database(), username=username, password=password, role=role,
                                 display_name=display or None, clinic=clinic or None, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    _flash(f"Added {user.username} ({user.role}).")


def _enable_disable(users: list[accounts.AccountView]) -> None:
    others = [u for u in users if u.username != actor()]
    if not others:
        st.write("No other account yet.")
        return
    by_name = {u.username: u for u in others}
    pick = st.selectbox("Account", list(by_name), key="manage_pick",
                        format_func=lambda n: f"{n} — {'disabled' if by_name[n].disabled else 'enabled'}")
    chosen = by_name[pick]
    db = database()
    try:
        if chosen.disabled:
            if st.button(f"Enable {pick}", key="enable_user", icon=":material/person_check:"):
                accounts.enable_user(db, pick, actor=actor())
                _flash(f"Enabled {pick}.")
        else:
            st.caption("A disabled account cannot sign in; its records and audit history stay.")
            if st.button(f"Disable {pick}", key="disable_user", icon=":material/person_off:"):
                accounts.disable_user(db, pick, actor=actor())
                _flash(f"Disabled {pick}.")
    except InputError as exc:
        show_error(exc)


def _password_form(users: list[accounts.AccountView]) -> None:
    with st.form("set_password", clear_on_submit=True):
        pick = st.selectbox("Account", [u.username for u in users], key="pw_pick")
        c1, c2 = st.columns(2)
        password = c1.text_input("New password", type="password", key="pw_new", autocomplete="new-password")
        again = c2.text_input("New password again", type="password", key="pw_new2", autocomplete="new-password")
        submitted = st.form_submit_button("Set password")
    if not submitted:
        return
    if password != again:
        st.error("**password**: the two passwords differ; type the same password twice.")
        return
    try:
        accounts.set_password(database(), pick, password=password, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    _flash(f"New password set for {pick}; any lock is cleared.")


def _clinic_form() -> None:
    current = services.get_clinic_settings(database())
    if current is not None and current.logo:
        st.image(current.logo, caption="The logo printed on the reports", width=160)
    with st.form("clinic_settings"):
        clinic = clinic_fields("admin", current)
        submitted = st.form_submit_button("Save clinic")
    if not submitted:
        return
    try:
        services.set_clinic_settings(database(), **clinic, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    _flash("Clinic saved: it prints at the top of both reports.")


def render() -> None:
    """The Admin page (administrators only)."""
    require_admin("the Admin page")
    st.title("Admin")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check:")
    from .signin import now

    users = accounts.list_users(database())
    st.subheader("Users")
    st.dataframe(user_rows(users, now()), hide_index=True, width="stretch")
    st.caption("Accounts are never deleted: disable one instead, so its history stays. "
               "Model versions are managed on the Model page.")
    st.page_link("ui/pages/model.py", label="Model versions", icon=":material/analytics:")
    tab_add, tab_manage, tab_password, tab_clinic = st.tabs(["Add a user", "Disable or enable", "Set a password",
                                                             "Clinic"])
    with tab_add:
        _add_user_form()
    with tab_manage:
        _enable_disable(users)
    with tab_password:
        _password_form(users)
    with tab_clinic:
        _clinic_form()
