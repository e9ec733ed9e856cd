"""Issue 14, finding 4: lockout per username and source, admin backoff, unlock,
one message for every refusal, zxcvbn password strength, no password as actor,
and sign-out everywhere (session generation)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from assessment import InputError
from cli import main
from records import services as svc
from records.accounts import (
    ADMIN_BACKOFF_FIRST_SECONDS,
    ADMIN_BACKOFF_MAX_SECONDS,
    LOCKOUT_MINUTES,
    MAX_FAILED_SIGN_INS,
    SIGN_IN_REFUSED,
    AccountLocked,
    SignInError,
    add_user,
    authenticate,
    disable_user,
    end_sessions,
    list_users,
    live_account,
    unlock_user,
)

ADMIN_PASSWORD = "correct horse battery"
CLINICIAN_PASSWORD = "backward walk 3m!"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ATTACKER, CLINIC_PC = "203.0.113.9", "10.0.0.5"


@pytest.fixture
def people(db):
    add_user(db, username="root.admin", password=ADMIN_PASSWORD, role="admin", actor="system")
    add_user(db, username="alice", password=CLINICIAN_PASSWORD, clinic="North", actor="root.admin")


def _fail(db, username, source, times, start=T0):
    for i in range(times):
        with pytest.raises(SignInError):
            authenticate(db, username, f"wrong guess {i:04d}", source=source, now=start)


@pytest.mark.parametrize("password", ["password1234", "123456789012", "alicealicealice", "qwertyuiopasdf", "Password2024!"])
def test_weak_passwords_are_refused(db, people, password):
    with pytest.raises(InputError) as caught:
        add_user(db, username="alicealice" if "alice" in password else "newuser", password=password, actor="system")
    assert caught.value.field == "password" and "too easy to guess" in caught.value.message


def test_the_username_twice_is_refused(db, people):
    with pytest.raises(InputError) as caught:
        add_user(db, username="drsmith", password="drsmithdrsmith", actor="system")
    assert "guess" in caught.value.message or "username" in caught.value.message


def test_a_lock_holds_only_the_source_it_came_from(db, people):
    _fail(db, "alice", ATTACKER, MAX_FAILED_SIGN_INS)
    with pytest.raises(AccountLocked):
        authenticate(db, "alice", CLINICIAN_PASSWORD, source=ATTACKER, now=T0 + timedelta(minutes=1))
    # The clinic's own machine still signs in: the attacker did not lock her out.
    assert authenticate(db, "alice", CLINICIAN_PASSWORD, source=CLINIC_PC, now=T0 + timedelta(minutes=1)).username == "alice"
    assert authenticate(db, "alice", CLINICIAN_PASSWORD, source=ATTACKER,
                        now=T0 + timedelta(minutes=LOCKOUT_MINUTES)).username == "alice"


def test_the_admin_is_never_locked_only_made_to_wait(db, people):
    _fail(db, "root.admin", CLINIC_PC, MAX_FAILED_SIGN_INS)
    first = T0 + timedelta(seconds=ADMIN_BACKOFF_FIRST_SECONDS)
    with pytest.raises(AccountLocked):  # inside the short wait
        authenticate(db, "root.admin", ADMIN_PASSWORD, source=CLINIC_PC, now=T0 + timedelta(seconds=1))
    assert authenticate(db, "root.admin", ADMIN_PASSWORD, source=CLINIC_PC, now=first).role == "admin"
    # Many failures: the wait doubles but never passes the cap.
    when = T0
    for _ in range(30):
        when += timedelta(seconds=ADMIN_BACKOFF_MAX_SECONDS)
        with pytest.raises(SignInError):
            authenticate(db, "root.admin", "not it at all!", source=ATTACKER, now=when)
    (admin,) = [u for u in list_users(db, now=when) if u.username == "root.admin"]
    assert admin.locked_until == when + timedelta(seconds=ADMIN_BACKOFF_MAX_SECONDS)
    assert authenticate(db, "root.admin", ADMIN_PASSWORD, source=ATTACKER,
                        now=when + timedelta(seconds=ADMIN_BACKOFF_MAX_SECONDS)).role == "admin"


def test_unlock_clears_every_source(db, people):
    _fail(db, "alice", ATTACKER, MAX_FAILED_SIGN_INS)
    _fail(db, "alice", CLINIC_PC, MAX_FAILED_SIGN_INS)
    assert unlock_user(db, "alice", actor="root.admin") == 2
    for source in (ATTACKER, CLINIC_PC):
        assert authenticate(db, "alice", CLINICIAN_PASSWORD, source=source, now=T0).username == "alice"
    assert svc.list_audit(db, action="user.unlock")[0].actor == "root.admin"


def test_cli_unlock_and_set_password(db, people, monkeypatch, capsys):
    _fail(db, "alice", ATTACKER, MAX_FAILED_SIGN_INS, start=datetime.now(UTC))
    assert main(["user", "unlock", "alice", "--db", db.url]) == 0
    assert "Unlocked alice" in capsys.readouterr().out
    assert authenticate(db, "alice", CLINICIAN_PASSWORD, source=ATTACKER).username == "alice"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("violet kettle on the moon\n"))
    assert main(["user", "set-password", "alice", "--db", db.url]) == 0
    assert authenticate(db, "alice", "violet kettle on the moon").username == "alice"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("password1234\n"))
    assert main(["user", "set-password", "alice", "--db", db.url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "password" in err and "Traceback" not in err


def test_one_message_for_wrong_unknown_locked_and_disabled(db, people):
    messages = set()
    for username, password in (("alice", "wrong wrong wrong"), ("nobody.here", "whatever it is")):
        with pytest.raises(SignInError) as caught:
            authenticate(db, username, password, source=CLINIC_PC, now=T0)
        messages.add(caught.value.message)
    _fail(db, "alice", ATTACKER, MAX_FAILED_SIGN_INS)
    with pytest.raises(AccountLocked) as caught:
        authenticate(db, "alice", CLINICIAN_PASSWORD, source=ATTACKER, now=T0)
    messages.add(caught.value.message)
    disable_user(db, "alice", actor="root.admin")
    with pytest.raises(SignInError) as caught:
        authenticate(db, "alice", CLINICIAN_PASSWORD, source=CLINIC_PC, now=T0)
    messages.add(caught.value.message)
    assert messages == {SIGN_IN_REFUSED}


def test_an_unknown_user_locks_like_a_known_one(db, people):
    """Otherwise the lock would tell which names exist."""
    _fail(db, "nobody.here", ATTACKER, MAX_FAILED_SIGN_INS)
    with pytest.raises(AccountLocked):
        authenticate(db, "nobody.here", "anything else", source=ATTACKER, now=T0)


def test_a_password_typed_as_the_username_is_never_stored_or_an_actor(db, people):
    with pytest.raises(SignInError):
        authenticate(db, CLINICIAN_PASSWORD.replace(" ", "").replace("!", ""), "x", source=CLINIC_PC, now=T0)
    with pytest.raises(SignInError):
        authenticate(db, "backward.walk.3m", "x", source=CLINIC_PC, now=T0)
    everything = json.dumps([(a.actor, a.detail) for a in svc.list_audit(db, limit=1000)])
    assert "backward" not in everything
    assert {a.actor for a in svc.list_audit(db, action="user.sign_in_failed")} == {"system"}


def test_disabling_and_sign_out_everywhere_end_every_session(db, people):
    signed_in_with = live_account(db, "alice").generation
    end_sessions(db, "alice", actor="alice")
    assert live_account(db, "alice").generation != signed_in_with  # every open tab sees the change
    disable_user(db, "alice", actor="root.admin")
    assert live_account(db, "alice") is None
    with pytest.raises(Exception):
        end_sessions(db, "root.admin", actor="alice")  # only self or an administrator
