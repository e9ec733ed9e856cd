"""Accounts: argon2 passwords, policy, sign-in, lockout, disabling, audit of every attempt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from assessment import InputError
from records import Conflict, NotFound
from records import services as svc
from records.accounts import (
    LOCKOUT_MINUTES,
    MAX_FAILED_SIGN_INS,
    PASSWORD_MIN_LENGTH,
    SIGN_IN_REFUSED,
    AccountDisabled,
    AccountLocked,
    NotAllowed,
    SignInError,
    add_user,
    authenticate,
    disable_user,
    enable_user,
    has_admin,
    list_users,
    set_password,
)
from records.schema import Clinician

ADMIN_PASSWORD = "correct horse battery"
CLINICIAN_PASSWORD = "backward walk 3m!"
#: A fixed "now" so lockout tests do not depend on the clock.
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(db):
    return add_user(db, username="root.admin", password=ADMIN_PASSWORD, role="admin", display_name="Dr Admin", actor="system")


@pytest.fixture
def clinician(db, admin):
    return add_user(db, username="alice", password=CLINICIAN_PASSWORD, display_name="Alice Ng", clinic="North",
                    actor="root.admin")


def _attempts(db, action: str) -> list:
    return svc.list_audit(db, action=action, limit=1000)


# ------------------------------------------------------------ creating accounts


def test_a_new_database_has_no_admin_and_no_default_account(db):
    assert has_admin(db) is False
    assert list_users(db) == []
    for username, password in (("admin", "admin"), ("admin", "password"), ("root", "")):
        with pytest.raises(SignInError):
            authenticate(db, username, password)


def test_the_first_account_must_be_an_admin(db):
    with pytest.raises(InputError) as caught:
        add_user(db, username="alice", password=CLINICIAN_PASSWORD, actor="system")
    assert caught.value.field == "role" and "admin" in caught.value.message
    add_user(db, username="boss", password=ADMIN_PASSWORD, role="admin", actor="boss")
    assert has_admin(db) is True


def test_only_the_hash_is_stored(db, clinician):
    with db.session() as session:
        stored = session.scalar(sa.select(Clinician.password_hash).where(Clinician.username == "alice"))
    assert stored.startswith("$argon2id$") and CLINICIAN_PASSWORD not in stored
    (account,) = [u for u in list_users(db) if u.username == "alice"]
    assert (account.role, account.clinic, account.has_password, account.display_name) == ("clinician", "North", True, "Alice Ng")


def test_a_hash_with_the_old_default_cost_still_signs_in_and_is_rehashed(db, clinician):
    """Accounts made before the OWASP-minimum parameters keep working; the next sign-in stores the new cost."""
    from argon2 import PasswordHasher

    old = PasswordHasher().hash(CLINICIAN_PASSWORD)  # argon2-cffi's default: m=65536, t=3, p=4
    assert "m=65536,t=3,p=4" in old
    with db.session() as session:
        session.execute(sa.update(Clinician).where(Clinician.username == "alice").values(password_hash=old))
    authenticate(db, "alice", CLINICIAN_PASSWORD)
    with db.session() as session:
        stored = session.scalar(sa.select(Clinician.password_hash).where(Clinician.username == "alice"))
    assert stored != old and "m=19456,t=2,p=1" in stored
    authenticate(db, "alice", CLINICIAN_PASSWORD)  # and the new hash verifies


@pytest.mark.parametrize(
    ("password", "needle"),
    [
        ("short pass1", f"{PASSWORD_MIN_LENGTH} to"),  # 11 characters
        ("", "too short"),
        ("a" * 20, "one character repeated"),
        ("New.User.Name", "not be the username"),
        ("x" * 1025, "too long"),
        (None, "required"),
        (123456789012, "required"),
    ],
)
def test_password_policy(db, admin, password, needle):
    with pytest.raises(InputError) as caught:
        add_user(db, username="new.user.name", password=password, actor="root.admin")
    assert caught.value.field == "password"
    assert needle in caught.value.message
    assert "12" in caught.value.message  # the policy is stated
    assert "new.user.name" not in {u.username for u in list_users(db)}


def test_a_twelve_character_password_is_enough(db, admin):
    add_user(db, username="bob", password="tulip-7-Kayak", actor="root.admin")
    assert authenticate(db, "bob", "tulip-7-Kayak").username == "bob"


def test_only_an_admin_adds_accounts_once_one_exists(db, clinician):
    with pytest.raises(NotAllowed) as caught:
        add_user(db, username="mallory", password="mallory's password", role="admin", actor="alice")
    assert caught.value.field == "actor"
    with pytest.raises(NotAllowed):
        add_user(db, username="mallory", password="mallory's password", actor="nobody")
    add_user(db, username="bob", password="bob's long password", actor="root.admin")


def test_a_username_is_unique(db, clinician):
    with pytest.raises(Conflict) as caught:
        add_user(db, username="alice", password="another password", actor="root.admin")
    assert caught.value.field == "username"


def test_a_clinician_from_before_accounts_gets_a_password_and_keeps_history(db, admin):
    svc.ensure_clinician(db, "carol", "Carol Old")
    svc.add_patient(db, mrn="M1", given_name="Ada", family_name="L", birth_date="1950-03-04", sex="female", actor="carol")
    with pytest.raises(SignInError):  # no password yet
        authenticate(db, "carol", "anything at all")
    assert _attempts(db, "user.sign_in_failed")[0].detail == {"reason": "no_password", "source": "unknown"}
    add_user(db, username="carol", password="carol's new password", actor="root.admin")
    view = authenticate(db, "carol", "carol's new password")
    assert view.display_name == "Carol Old"
    assert _attempts(db, "user.create")[0].detail == {"role": "clinician", "existing_row": True}
    assert svc.list_audit(db, action="patient.create")[0].actor == "carol"


# ------------------------------------------------------------ signing in


def test_sign_in_returns_the_clinician_and_is_audited_without_the_password(db, clinician):
    view = authenticate(db, "alice", CLINICIAN_PASSWORD, now=T0)
    assert (view.username, view.role, view.display_name) == ("alice", "clinician", "Alice Ng")
    (row,) = _attempts(db, "user.sign_in")
    assert row.actor == "alice" and row.entity == "clinician" and row.entity_id == str(view.id)
    assert row.detail == {"reason": "ok", "source": "unknown"}
    everything = json.dumps([(a.actor, a.detail) for a in svc.list_audit(db, limit=1000)])
    assert CLINICIAN_PASSWORD not in everything and ADMIN_PASSWORD not in everything


@pytest.mark.parametrize(
    ("username", "password", "reason", "actor"),
    [
        ("alice", "wrong password!", "wrong_password", "alice"),
        ("alice", "", "wrong_password", "alice"),
        ("nobody", CLINICIAN_PASSWORD, "unknown_user", "system"),  # an unknown name is never an actor
        ("not a username!", CLINICIAN_PASSWORD, "unknown_user", "system"),
        ("alice", None, "wrong_password", "alice"),
    ],
)
def test_a_failed_sign_in_is_refused_with_one_message_and_audited(db, clinician, username, password, reason, actor):
    with pytest.raises(SignInError) as caught:
        authenticate(db, username, password, now=T0)
    assert caught.value.message == SIGN_IN_REFUSED
    (row,) = _attempts(db, "user.sign_in_failed")
    assert row.actor == actor and row.detail["reason"] == reason
    assert CLINICIAN_PASSWORD not in json.dumps(row.detail)
    assert _attempts(db, "user.sign_in") == []


def test_five_failures_lock_the_account_until_the_lock_period_ends(db, clinician):
    for i in range(1, MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInError) as caught:
            authenticate(db, "alice", f"wrong guess {i:04d}", now=T0 + timedelta(seconds=i))
        assert not isinstance(caught.value, AccountLocked)
    with pytest.raises(AccountLocked) as caught:
        authenticate(db, "alice", "wrong guess 0005", now=T0 + timedelta(seconds=5))
    locked_until = caught.value.locked_until
    assert locked_until == T0 + timedelta(seconds=5, minutes=LOCKOUT_MINUTES)

    # Locked: even the right password is refused, until the period ends.
    for later in (timedelta(minutes=1), timedelta(minutes=LOCKOUT_MINUTES, seconds=4)):
        with pytest.raises(AccountLocked):
            authenticate(db, "alice", CLINICIAN_PASSWORD, now=T0 + later)
    assert authenticate(db, "alice", CLINICIAN_PASSWORD, now=locked_until).username == "alice"

    reasons = [a.detail["reason"] for a in reversed(_attempts(db, "user.sign_in_failed"))]
    assert reasons == ["wrong_password"] * 4 + ["wrong_password_locked", "locked", "locked"]
    assert len(_attempts(db, "user.sign_in")) == 1
    (account,) = [u for u in list_users(db) if u.username == "alice"]
    assert (account.failed_attempts, account.locked_until) == (0, None)


def test_after_the_lock_a_new_run_of_failures_is_needed(db, clinician):
    for i in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInError):
            authenticate(db, "alice", "wrong password!!", now=T0)
    after = T0 + timedelta(minutes=LOCKOUT_MINUTES)
    with pytest.raises(SignInError) as caught:
        authenticate(db, "alice", "wrong password!!", now=after)
    assert not isinstance(caught.value, AccountLocked)  # one failure after the lock is not a new lock


def test_a_success_clears_the_failure_count(db, clinician):
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(SignInError):
            authenticate(db, "alice", "wrong password!!", now=T0)
    authenticate(db, "alice", CLINICIAN_PASSWORD, now=T0)
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(SignInError) as caught:
            authenticate(db, "alice", "wrong password!!", now=T0)
        assert not isinstance(caught.value, AccountLocked)
    assert authenticate(db, "alice", CLINICIAN_PASSWORD, now=T0).username == "alice"


def test_a_lock_on_one_account_leaves_others_alone(db, clinician):
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInError):
            authenticate(db, "alice", "wrong password!!", now=T0)
    assert authenticate(db, "root.admin", ADMIN_PASSWORD, now=T0).role == "admin"


# ------------------------------------------------------------ disabling


def test_a_disabled_user_cannot_sign_in_and_their_history_stays(db, clinician):
    svc.add_patient(db, mrn="M1", given_name="Ada", family_name="L", birth_date="1950-03-04", sex="female", actor="alice")
    view = disable_user(db, "alice", actor="root.admin", now=T0)
    assert view.disabled and view.disabled_at == T0
    with pytest.raises(AccountDisabled) as caught:
        authenticate(db, "alice", CLINICIAN_PASSWORD, now=T0 + timedelta(minutes=1))
    assert caught.value.message == SIGN_IN_REFUSED  # the page does not say "disabled"
    assert _attempts(db, "user.sign_in_failed")[0].detail == {"reason": "disabled", "source": "unknown"}
    assert "alice" in {u.username for u in list_users(db)}
    assert svc.list_audit(db, action="patient.create")[0].actor == "alice"
    (row,) = _attempts(db, "user.disable")
    assert row.actor == "root.admin"

    enable_user(db, "alice", actor="root.admin")
    assert authenticate(db, "alice", CLINICIAN_PASSWORD).username == "alice"


def test_only_an_admin_disables_and_never_the_last_admin(db, clinician):
    with pytest.raises(NotAllowed):
        disable_user(db, "root.admin", actor="alice")
    with pytest.raises(Conflict) as caught:
        disable_user(db, "root.admin", actor="root.admin")
    assert "last administrator" in caught.value.message
    with pytest.raises(NotFound):
        disable_user(db, "ghost", actor="root.admin")
    disable_user(db, "alice", actor="root.admin")
    with pytest.raises(Conflict):
        disable_user(db, "alice", actor="root.admin")
    add_user(db, username="second", password="second admin pw", role="admin", actor="root.admin")
    disable_user(db, "root.admin", actor="second")  # allowed: another admin remains
    with pytest.raises(NotAllowed):  # a disabled admin is no admin
        add_user(db, username="third", password="third user pw!", actor="root.admin")


# ------------------------------------------------------------ passwords


def test_set_password_by_self_or_admin_clears_a_lock(db, clinician):
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInError):
            authenticate(db, "alice", "wrong password!!", now=T0)
    set_password(db, "alice", password="a fresh password", actor="root.admin")
    assert authenticate(db, "alice", "a fresh password", now=T0).username == "alice"
    set_password(db, "alice", password="her own choice!", actor="alice")
    with pytest.raises(SignInError):
        authenticate(db, "alice", "a fresh password", now=T0)
    assert authenticate(db, "alice", "her own choice!", now=T0).username == "alice"
    add_user(db, username="bob", password="bob's long password", actor="root.admin")
    with pytest.raises(NotAllowed):
        set_password(db, "alice", password="bob chose this", actor="bob")
    with pytest.raises(InputError) as caught:
        set_password(db, "alice", password="short", actor="alice")
    assert caught.value.field == "password"


def test_system_is_reserved_and_cannot_become_an_account(db):
    import pytest

    from assessment.errors import InputError
    from records import accounts

    for name in ("system", "SYSTEM"):
        with pytest.raises(InputError) as err:
            accounts.add_user(db, username=name, password="a long enough password", role="admin", actor="system")
        assert err.value.field == "username" and "reserved" in err.value.message
