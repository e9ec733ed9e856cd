"""Sign-in through AppTest on a real SQLite file: first run, passwords, lockout,
disabled accounts, sign-out and the idle timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from records import accounts, services
from records.audit import list_audit

from ui_helpers import APP, PASSWORD, TIMEOUT, click, shown, sign_in, signed_in, submit

GENERIC = accounts.SIGN_IN_REFUSED


def fresh() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def page_names(at: AppTest) -> set[str]:
    """Titles of the pages st.navigation registered in the last run."""
    return {info["page_name"] for info in at._registered_pages.values()}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_first_run_creates_the_first_administrator(db_url):
    from records.db import open_database

    at = fresh()
    assert [t.value for t in at.title] == ["Welcome to StepBack"]
    assert "signin_password" not in [w.key for w in at.text_input]  # no sign-in form, no default password
    at.text_input(key="first_username").input("head.nurse")
    at.text_input(key="first_display").input("Head Nurse")
    at.text_input(key="first_password").input("a long admin password")
    at.text_input(key="first_password2").input("a long admin password, typo")
    submit(at, "first_admin", "Create the administrator")
    assert any("differ" in e for e in errors(at))
    db = open_database(db_url)
    try:
        assert accounts.has_admin(db) is False
        for key, value in (("first_username", "head.nurse"), ("first_display", "Head Nurse"),
                           ("first_password", "a long admin password"), ("first_password2", "a long admin password")):
            at.text_input(key=key).input(value)
        submit(at, "first_admin", "Create the administrator")
        # no clinic yet: refused naming the field, and neither the administrator nor a clinic is stored
        assert any(e.startswith("Clinic name:") for e in errors(at)), errors(at)
        assert accounts.has_admin(db) is False and services.get_clinic_settings(db) is None
        for key, value in (("first_username", "head.nurse"), ("first_display", "Head Nurse"),
                           ("first_password", "a long admin password"), ("first_password2", "a long admin password"),
                           ("first_clinic_name", "Riverside Falls Clinic"), ("first_clinic_phone", "+1 555 0100")):
            at.text_input(key=key).input(value)
        at.text_area(key="first_clinic_address").input("1 River Road, Springfield")
        submit(at, "first_admin", "Create the administrator")
        assert accounts.has_admin(db) is True
        clinic = services.get_clinic_settings(db)
        assert (clinic.name, clinic.phone, clinic.address, clinic.logo, clinic.updated_by) == (
            "Riverside Falls Clinic", "+1 555 0100", "1 River Road, Springfield", None, "head.nurse")
        [user] = accounts.list_users(db)
        assert (user.username, user.role, user.display_name) == ("head.nurse", "admin", "Head Nurse")
        assert at.session_state["clinician"] == "head.nurse"
        assert at.session_state["clinician_role"] == "admin"
        assert [t.value for t in at.title] == ["Patients"]
        assert {"Admin", "Audit"} <= page_names(at)
        # the next browser sees the sign-in form, not the first-run form
        assert [t.value for t in fresh().title] == ["StepBack"]
    finally:
        db.dispose()


def test_first_run_refuses_a_short_password(db_url):
    at = fresh()
    at.text_input(key="first_username").input("admin1")
    at.text_input(key="first_password").input("short")
    at.text_input(key="first_password2").input("short")
    at.text_input(key="first_clinic_name").input("Riverside Falls Clinic")
    at.text_input(key="first_clinic_phone").input("+1 555 0100")
    submit(at, "first_admin", "Create the administrator")
    assert any("password" in e and "too short" in e for e in errors(at)), errors(at)
    assert "clinician" not in at.session_state


def test_sign_in_success_keeps_only_the_user_in_session_state(db):
    at = signed_in()
    assert [t.value for t in at.title] == ["Patients"]
    state = {k: at.session_state[k] for k in ("clinician", "clinician_name", "clinician_role")}
    assert state == {"clinician": "jdoe", "clinician_name": "Jo Doe", "clinician_role": "clinician"}
    assert at.session_state["last_activity"] is not None
    assert at.text_input(key="patients_search") is not None
    # the password field was cleared on submit: it is not kept anywhere in the session
    assert PASSWORD not in repr(at.session_state) and "jdoe" in repr(at.session_state)
    assert list_audit(db, action="user.sign_in")[0].actor == "jdoe"


@pytest.mark.parametrize("username", ["jdoe", "nobody"])
def test_wrong_password_and_unknown_user_get_one_message(db, username):
    at = sign_in(fresh(), username, "not the right password")
    assert errors(at) == [f"Sign-in refused: {GENERIC}."]
    assert "clinician" not in at.session_state
    assert [t.value for t in at.title] == ["StepBack"]


def test_lockout_after_five_failures(db):
    at = fresh()
    for attempt in range(1, accounts.MAX_FAILED_SIGN_INS):
        sign_in(at, "jdoe", f"wrong password {attempt}")
        assert errors(at) == [f"Sign-in refused: {GENERIC}."]
    sign_in(at, "jdoe", "wrong password 5")
    assert errors(at) == [f"Sign-in refused: {GENERIC}."]  # a lock is not announced (it would confirm the name)
    # now even the right password is refused while the lock lasts, with the same message
    sign_in(at, "jdoe", PASSWORD)
    assert errors(at) == [f"Sign-in refused: {GENERIC}."]
    assert list_audit(db, action="user.sign_in_failed")[0].detail["reason"] == "locked"
    assert "clinician" not in at.session_state


def test_disabled_user_is_refused(db):
    accounts.disable_user(db, "jdoe", actor="boss")
    at = sign_in(fresh(), "jdoe", PASSWORD)
    assert errors(at) == [f"Sign-in refused: {GENERIC}."]  # the same message: "disabled" would confirm the name
    assert "clinician" not in at.session_state


def test_disabling_signs_out_an_open_session(db):
    at = signed_in()
    accounts.disable_user(db, "jdoe", actor="boss")
    at.run()
    assert "clinician" not in at.session_state
    assert any("no longer active" in w.value for w in at.warning)


def test_sign_out_button(db):
    at = signed_in()
    click(at, "sign_out")
    assert "clinician" not in at.session_state
    assert [t.value for t in at.title] == ["StepBack"]
    assert any("signed out" in w.value for w in at.warning)


def test_idle_timeout_signs_out_with_a_message(db, monkeypatch):
    at = signed_in()
    at.session_state["selected_mrn"] = "MRN001"
    # still active just inside the timeout
    at.session_state["last_activity"] = at.session_state["last_activity"] - timedelta(minutes=14)
    at.run()
    assert at.session_state["clinician"] == "jdoe"
    at.session_state["last_activity"] = at.session_state["last_activity"] - timedelta(minutes=16)
    at.run()
    assert not at.exception
    assert "clinician" not in at.session_state
    assert "selected_mrn" not in at.session_state  # nothing of the old session is kept
    assert [t.value for t in at.title] == ["StepBack"]
    assert any("signed out after 15 minutes without activity" in w.value for w in at.warning)


def test_timeout_minutes_come_from_the_environment(db, monkeypatch):
    monkeypatch.setenv(accounts.SESSION_TIMEOUT_ENV, "2")
    at = signed_in()
    at.session_state["last_activity"] = at.session_state["last_activity"] - timedelta(minutes=3)
    at.run()
    assert "clinician" not in at.session_state
    assert any("signed out after 2 minutes" in w.value for w in at.warning)


def test_bad_timeout_setting_is_named(db, monkeypatch):
    monkeypatch.setenv(accounts.SESSION_TIMEOUT_ENV, "forever")
    at = signed_in()
    at.run()
    assert any(accounts.SESSION_TIMEOUT_ENV in shown(e) for e in errors(at)), errors(at)


def test_session_state_without_sign_in_is_not_trusted(db):
    """A username planted in session state without a sign-in (no activity time) is signed out."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["clinician"] = "boss"
    at.session_state["clinician_role"] = "admin"
    at.run()
    assert "clinician" not in at.session_state
    assert [t.value for t in at.title] == ["StepBack"]


def test_non_admin_never_sees_admin_pages(db):
    at = signed_in()
    names = page_names(at)
    assert {"Patients", "Data"} <= names
    assert not names & {"Admin", "Audit"}
    with pytest.raises(ValueError):
        at.switch_page("ui/pages/admin.py")
    admin = signed_in(user="boss")
    assert {"Admin", "Audit"} <= page_names(admin)


@pytest.mark.parametrize("module", ["ui.admin", "ui.audit_page"])
def test_direct_call_of_an_admin_page_is_refused(db, module):
    def page(module_name):
        import importlib

        importlib.import_module(module_name).render()

    at = AppTest.from_function(page, args=(module,), default_timeout=TIMEOUT)
    at.session_state["clinician"] = "jdoe"
    at.session_state["clinician_role"] = "clinician"
    at.run()
    assert not at.exception, at.exception
    assert any("Only an administrator" in e for e in errors(at))
    assert not at.title and not at.dataframe
    # with no signed-in user at all the page stops too (never acts as "system")
    bare = AppTest.from_function(page, args=(module,), default_timeout=TIMEOUT).run()
    assert any("Only an administrator" in e or "Sign in first" in e for e in errors(bare))
    assert not bare.dataframe
