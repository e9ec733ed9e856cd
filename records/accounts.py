"""Clinician accounts: argon2 passwords, roles, lockout, disabling, session timeout.

There is no default password and no default account: on first run the app
asks for the first administrator (:func:`has_admin` is False until one
exists). Every sign-in attempt, successful or not, writes an audit row with
the username and the outcome, never the password.

A clinician row created before accounts existed (``add_clinician``,
``ensure_clinician``) has no password hash and cannot sign in until
:func:`add_user` or :func:`set_password` gives it one; its history stays.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from zxcvbn import zxcvbn
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from assessment.errors import InputError

from .audit import now as utc_now
from .audit import write_audit
from .db import Database
from .errors import Conflict, NotFound
from .schema import Clinician, SignInThrottle
from .validation import SYSTEM_ACTOR, validate_clinic, validate_name, validate_role, validate_username
from .views import ClinicianView, utc

#: Shortest password accepted, characters (product policy, issue 6).
PASSWORD_MIN_LENGTH = 12
#: Longest password accepted, characters (bounds the hashing work per attempt).
PASSWORD_MAX_LENGTH = 1024
#: Failed sign-ins in a row, from one source, that lock the username there.
MAX_FAILED_SIGN_INS = 5
#: How long a clinician's username stays locked at that source, minutes.
LOCKOUT_MINUTES = 15
#: An administrator is never locked out: after the limit each further failure
#: from a source doubles the wait there, from this many seconds ...
ADMIN_BACKOFF_FIRST_SECONDS = 2
#: ... up to this many.
ADMIN_BACKOFF_MAX_SECONDS = 300
#: Lowest zxcvbn score (0–4) a new password must reach (3: "safely unguessable").
MIN_PASSWORD_SCORE = 3
#: Source recorded when the caller does not know the client's address.
UNKNOWN_SOURCE = "unknown"
#: Environment variable: minutes of inactivity after which a signed-in session ends.
SESSION_TIMEOUT_ENV = "STEPBACK_SESSION_TIMEOUT_MINUTES"
#: Default session timeout, minutes.
DEFAULT_SESSION_TIMEOUT_MINUTES = 15
#: Allowed session timeouts, minutes (one minute to one day).
SESSION_TIMEOUT_RANGE = (1, 24 * 60)
#: Clinic names: 1–200 characters.

PASSWORD_POLICY = (
    f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters, not the username, "
    "hard to guess (no common password, word list, keyboard run or date; several unrelated words work well)"
)
#: The one message for every refused sign-in: wrong password, unknown user,
#: locked or disabled account (so the page never tells which usernames exist).
SIGN_IN_REFUSED = ("the username or password is not correct, or this account cannot sign in now; "
                    "try again in a few minutes or ask an administrator")


class SignInError(InputError):
    """A sign-in was refused; ``message`` is safe to show on the login page."""


class AccountLocked(SignInError):
    """Too many failed sign-ins; ``locked_until`` says when the lock ends (UTC)."""

    def __init__(self, field: str, message: str, locked_until: datetime) -> None:
        super().__init__(field, message)
        self.locked_until = locked_until


class AccountDisabled(SignInError):
    """An administrator disabled the account."""


class NotAllowed(InputError):
    """The acting user may not do this (only administrators manage accounts)."""


@dataclass(frozen=True)
class AccountView:
    """A clinician account as an administrator sees it (never the hash)."""

    username: str
    display_name: str
    role: str
    clinic: str | None
    has_password: bool
    failed_attempts: int
    locked_until: datetime | None
    disabled_at: datetime | None
    created_at: datetime

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @classmethod
    def of(cls, row: Clinician) -> AccountView:
        return cls(
            row.username, row.display_name, row.role, row.clinic, row.password_hash is not None,
            row.failed_attempts, utc(row.locked_until), utc(row.disabled_at), utc(row.created_at),
        )


# ------------------------------------------------------------------ helpers


#: argon2id cost: OWASP Password Storage Cheat Sheet's minimum for Argon2id (19 MiB, 2 iterations, 1 lane).
#: argon2-cffi's default (64 MiB, 3 iterations, 4 lanes) costs 0.28 s of CPU per check, so on a 2-core
#: clinic server 20 clinicians signing in at once waited up to 20 s (issue 15); this costs 0.04 s. Hashes
#: made with the old parameters still verify and are re-hashed at the next sign-in (check_needs_rehash).
ARGON2_PARAMETERS = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2id with :data:`ARGON2_PARAMETERS`."""
    return PasswordHasher(**ARGON2_PARAMETERS)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown usernames, so timing does not tell them apart."""
    return _hasher().hash("stepback-no-such-user-placeholder")


def validate_password(password: Any, username: str | None = None) -> str:
    """Check a new password against the policy; return it unchanged.

    Parameters
    ----------
    password : str
    username : str, optional
        The password may not equal it (ignoring case).

    Raises
    ------
    InputError
        ``InputError("password", ...)`` stating the policy.
    """
    if not isinstance(password, str):
        raise InputError("password", f"a password is required; allowed: {PASSWORD_POLICY}")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InputError("password", f"{len(password)} characters is too short; allowed: {PASSWORD_POLICY}")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InputError("password", f"{len(password)} characters is too long; allowed: {PASSWORD_POLICY}")
    if username is not None and password.strip().casefold() == username.casefold():
        raise InputError("password", f"must not be the username; allowed: {PASSWORD_POLICY}")
    if len(set(password)) == 1:
        raise InputError("password", f"is one character repeated; allowed: {PASSWORD_POLICY}")
    hints = [username] if username else []
    if zxcvbn(password[:100], user_inputs=hints)["score"] < MIN_PASSWORD_SCORE:
        raise InputError("password", f"is too easy to guess; allowed: {PASSWORD_POLICY}")
    return password


def _now(value: datetime | None) -> datetime:
    if value is None:
        return utc_now()
    if not isinstance(value, datetime):
        raise InputError("now", "allowed: a datetime")
    return utc(value)


def _row(session: Session, username: str, *, lock: bool = False) -> Clinician | None:
    query = sa.select(Clinician).where(Clinician.username == username)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def _active_admins(session: Session) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(Clinician).where(
            Clinician.role == "admin",
            Clinician.disabled_at.is_(None),
            Clinician.password_hash.is_not(None),
        )
    )


def _require_admin(session: Session, actor: str, action: str) -> None:
    """Only an enabled admin (or the local command line) manages accounts."""
    if actor == SYSTEM_ACTOR:
        return
    row = _row(session, actor)
    if row is None or row.role != "admin" or row.disabled_at is not None or row.password_hash is None:
        raise NotAllowed("actor", f"{actor} may not {action}; allowed: an administrator")


# ----------------------------------------------------------------- services


def has_admin(db: Database) -> bool:
    """True when an enabled administrator with a password exists.

    The first run of the app asks for the first administrator while this is
    False.
    """
    with db.session(read_only=True) as session:
        return _active_admins(session) > 0


def add_user(
    db: Database,
    *,
    username: str,
    password: str,
    role: str = "clinician",
    display_name: str | None = None,
    clinic: str | None = None,
    actor: str,
) -> ClinicianView:
    """Create a clinician account with an argon2 password hash.

    Parameters
    ----------
    db : Database
    username : str
        1–64 of letters, digits, ``_ . @ -``; unique. A clinician row that
        predates accounts (no password) is given this password and role.
    password : str
        :data:`PASSWORD_POLICY` (at least :data:`PASSWORD_MIN_LENGTH`
        characters). Only its hash is stored.
    role : str
        ``clinician`` or ``admin``. While no administrator exists, the
        account created must be an ``admin`` (the first run).
    display_name : str, optional
        Name on reports; default the username.
    clinic : str, optional
        Up to 200 characters.
    actor : str
        An enabled administrator, or ``system`` (the local command line),
        or anyone while no administrator exists yet.

    Raises
    ------
    InputError
        ``password`` against the policy, or another field at fault.
    Conflict
        When an account with this username (and a password) exists.
    NotAllowed
        When ``actor`` is not an administrator.
    """
    username = validate_username(username)
    password = validate_password(password, username)
    role = validate_role(role)
    given_name = None if display_name is None else validate_name(display_name, "display_name")
    clinic = validate_clinic(clinic)
    password_hash = _hasher().hash(password)
    with db.session() as session:
        if _active_admins(session) == 0:
            if role != "admin":
                raise InputError("role", "no administrator exists yet; allowed: admin (the first account)")
        else:
            _require_admin(session, actor, "add accounts")
        row = _row(session, username, lock=True)
        legacy = row is not None
        if row is not None and row.password_hash is not None:
            raise Conflict("username", f"{username} already exists")
        if row is None:
            row = Clinician(username=username, display_name=given_name or username, role=role, created_at=utc_now())
            session.add(row)
        else:
            row.role = role
            row.display_name = given_name or row.display_name
        row.password_hash = password_hash
        row.failed_attempts = 0
        row.locked_until = None
        row.clinic = clinic
        session.flush()
        write_audit(session, actor, "user.create", "clinician", row.id, {"role": role, "existing_row": legacy})
        return ClinicianView.of(row)


def set_password(db: Database, username: str, *, password: str, actor: str) -> None:
    """Set a new password (and clear any lock).

    Parameters
    ----------
    db : Database
    username : str
    password : str
        :data:`PASSWORD_POLICY`.
    actor : str
        The user themself, an administrator, or ``system``.

    Raises
    ------
    NotFound, NotAllowed, InputError
    """
    username = validate_username(username)
    password = validate_password(password, username)
    password_hash = _hasher().hash(password)
    with db.session() as session:
        row = _row(session, username, lock=True)
        if row is None:
            raise NotFound("username", f"no account {username}")
        if actor != username:
            _require_admin(session, actor, "set another user's password")
        row.password_hash = password_hash
        _clear_throttle(session, row)
        write_audit(session, actor, "user.set_password", "clinician", row.id)


def _username_key(text: str) -> str:
    """SHA-256 (hex) of the case-folded name typed: the throttle never holds the text itself."""
    return hashlib.sha256(text.casefold().encode("utf-8", "surrogatepass")).hexdigest()


def _source(source: Any) -> str:
    if not isinstance(source, str) or not source.strip():
        return UNKNOWN_SOURCE
    return source.strip()[:64]


def _throttle_row(session: Session, key: str, source: str, when: datetime) -> SignInThrottle:
    row = session.get(SignInThrottle, (key, source), with_for_update=True)
    if row is None:
        row = SignInThrottle(username_key=key, source=source, failures=0, locked_until=None, updated_at=when)
        session.add(row)
    return row


def _lock_after_failure(row: SignInThrottle, admin: bool, when: datetime) -> None:
    """Count a failure; lock (a clinician) or back off (an administrator) at the limit."""
    row.failures = (row.failures or 0) + 1
    row.updated_at = when
    over = row.failures - MAX_FAILED_SIGN_INS
    if over < 0:
        return
    if admin:
        wait = min(ADMIN_BACKOFF_FIRST_SECONDS * 2 ** min(over, 20), ADMIN_BACKOFF_MAX_SECONDS)
        row.locked_until = when + timedelta(seconds=wait)
    else:
        row.locked_until = when + timedelta(minutes=LOCKOUT_MINUTES)
        row.failures = 0  # after the lock, a new run of failures is needed


def authenticate(
    db: Database, username: str, password: str, *, source: str | None = None, now: datetime | None = None
) -> ClinicianView:
    """Sign in: check the password and the account's state.

    Failures are counted per username *and* source (the client's address):
    after :data:`MAX_FAILED_SIGN_INS` in a row from one source, a clinician's
    username is locked there for :data:`LOCKOUT_MINUTES` minutes, while an
    administrator only has to wait, from :data:`ADMIN_BACKOFF_FIRST_SECONDS`
    doubling to :data:`ADMIN_BACKOFF_MAX_SECONDS` seconds, so nobody can
    lock the administrator out. Other sources are not affected. While
    locked even the right password is refused. A success clears the count at
    that source. Every attempt writes an audit row (``user.sign_in`` or
    ``user.sign_in_failed`` with a reason code), committed even when the
    sign-in is refused; an unknown name is audited as ``system`` (the text
    typed may be a password), with no name.

    Parameters
    ----------
    db : Database
    username, password : str
    source : str, optional
        The client's address (the app passes the browser's); default
        :data:`UNKNOWN_SOURCE`.
    now : datetime, optional
        The time of the attempt (tests inject it); default the current UTC time.

    Returns
    -------
    ClinicianView
        The signed-in clinician.

    Raises
    ------
    SignInError
        One message (:data:`SIGN_IN_REFUSED`) for an unknown username, a
        wrong password, no password set, a locked or a disabled account;
        :class:`AccountLocked` and :class:`AccountDisabled` are its
        subclasses, for callers that log, never to show the difference.
    """
    when = _now(now)
    place = _source(source)
    try:
        name = validate_username(username)
    except InputError:
        name = None
    text = password if isinstance(password, str) and len(password) <= PASSWORD_MAX_LENGTH else None
    typed = username if isinstance(username, str) else ""
    key = _username_key(typed[:PASSWORD_MAX_LENGTH])
    error: SignInError | None = None
    with db.session() as session:
        row = _row(session, name, lock=True) if name is not None else None
        throttle = _throttle_row(session, key, place, when)
        locked = throttle.locked_until is not None and utc(throttle.locked_until) > when
        known = row is not None and row.password_hash is not None
        if locked:
            reason = "locked"
            error = AccountLocked("password", SIGN_IN_REFUSED, utc(throttle.locked_until))
        elif not known:
            if text is not None:
                _verify(_dummy_hash(), text)  # same work as a real check
            reason = "unknown_user" if row is None else "no_password"
            _lock_after_failure(throttle, False, when)
            error = SignInError("password", SIGN_IN_REFUSED)
        elif text is None or not _verify(row.password_hash, text):
            reason = "wrong_password"
            _lock_after_failure(throttle, row.role == "admin", when)
            if throttle.locked_until is not None and utc(throttle.locked_until) > when:
                reason = "wrong_password_locked"
                error = AccountLocked("password", SIGN_IN_REFUSED, utc(throttle.locked_until))
            else:
                error = SignInError("password", SIGN_IN_REFUSED)
        elif row.disabled_at is not None:
            reason = "disabled"
            error = AccountDisabled("password", SIGN_IN_REFUSED)
        else:
            reason = "ok"
            throttle.failures = 0
            throttle.locked_until = None
            throttle.updated_at = when
            if _hasher().check_needs_rehash(row.password_hash):
                row.password_hash = _hasher().hash(text)
        actor = row.username if row is not None else SYSTEM_ACTOR
        detail: dict[str, Any] = {"reason": reason, "source": place}
        if reason.startswith("wrong_password"):
            detail["failed_attempts"] = throttle.failures
        action = "user.sign_in" if error is None else "user.sign_in_failed"
        write_audit(session, actor, action, "clinician", row.id if row is not None else None, detail)
        view = ClinicianView.of(row) if error is None else None
    if error is not None:  # raised after the commit, so the count and the audit row are kept
        raise error
    return view


def unlock_user(db: Database, username: str, *, actor: str) -> int:
    """Clear every sign-in lock and failure count of a username, at every source.

    Parameters
    ----------
    db : Database
    username : str
    actor : str
        An enabled administrator, or ``system`` (``stepback user unlock``).

    Returns
    -------
    int
        How many sources had a count or a lock.

    Raises
    ------
    NotFound, NotAllowed
    """
    username = validate_username(username)
    with db.session() as session:
        _require_admin(session, actor, "unlock accounts")
        row = _row(session, username, lock=True)
        if row is None:
            raise NotFound("username", f"no account {username}")
        cleared = _clear_throttle(session, row)
        write_audit(session, actor, "user.unlock", "clinician", row.id, {"sources": cleared})
        return cleared


def _clear_throttle(session: Session, row: Clinician) -> int:
    row.failed_attempts = 0
    row.locked_until = None
    result = session.execute(sa.delete(SignInThrottle).where(SignInThrottle.username_key == _username_key(row.username)))
    return result.rowcount or 0


@dataclass(frozen=True)
class LiveAccount:
    """What an open page re-checks on every rerun (see :func:`live_account`)."""

    generation: int
    role: str
    display_name: str


def live_account(db: Database, username: str) -> LiveAccount | None:
    """The user's session generation, role and name; None when the account cannot sign in.

    An open page stores the generation it signed in with and compares it on
    every rerun (one lookup by the unique username); a different value or
    None ends that session. Read-only: no audit row.
    """
    with db.session(read_only=True) as session:  # busy-safe like every action (bounded retry, then DatabaseBusy)
        row = session.execute(
            sa.select(Clinician.session_generation, Clinician.role, Clinician.display_name,
                      Clinician.disabled_at, Clinician.password_hash)
            .where(Clinician.username == username)
        ).one_or_none()
    if row is None or row.disabled_at is not None or row.password_hash is None:
        return None
    return LiveAccount(row.session_generation or 0, row.role, row.display_name)


def end_sessions(db: Database, username: str, *, actor: str) -> None:
    """Sign the user out of every open page (all tabs, all browsers).

    Parameters
    ----------
    db : Database
    username : str
    actor : str
        The user themself, an administrator, or ``system``.
    """
    username = validate_username(username)
    with db.session() as session:
        row = _row(session, username, lock=True)
        if row is None:
            raise NotFound("username", f"no account {username}")
        if actor != username:
            _require_admin(session, actor, "sign another user out")
        row.session_generation = (row.session_generation or 0) + 1
        write_audit(session, actor, "user.sign_out_everywhere", "clinician", row.id)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except VerifyMismatchError:
        return False
    except (VerificationError, InvalidHashError):
        return False


def disable_user(db: Database, username: str, *, actor: str, now: datetime | None = None) -> AccountView:
    """Disable an account: it can no longer sign in; its row and history stay.

    Parameters
    ----------
    db : Database
    username : str
    actor : str
        An enabled administrator, or ``system``.
    now : datetime, optional

    Raises
    ------
    NotFound, NotAllowed
    Conflict
        When it is already disabled, or is the last enabled administrator.
    """
    username = validate_username(username)
    when = _now(now)
    with db.session() as session:
        _require_admin(session, actor, "disable accounts")
        row = _row(session, username, lock=True)
        if row is None:
            raise NotFound("username", f"no account {username}")
        if row.disabled_at is not None:
            raise Conflict("username", f"{username} is already disabled")
        if row.role == "admin" and row.password_hash is not None and _active_admins(session) <= 1:
            raise Conflict("username", f"{username} is the last administrator; add another first")
        row.disabled_at = when
        row.session_generation = (row.session_generation or 0) + 1  # its open pages sign out
        write_audit(session, actor, "user.disable", "clinician", row.id, {"role": row.role})
        return AccountView.of(row)


def enable_user(db: Database, username: str, *, actor: str) -> AccountView:
    """Re-enable a disabled account (and clear any lock).

    Raises
    ------
    NotFound, NotAllowed
    Conflict
        When it is not disabled.
    """
    username = validate_username(username)
    with db.session() as session:
        _require_admin(session, actor, "enable accounts")
        row = _row(session, username, lock=True)
        if row is None:
            raise NotFound("username", f"no account {username}")
        if row.disabled_at is None:
            raise Conflict("username", f"{username} is not disabled")
        row.disabled_at = None
        _clear_throttle(session, row)
        write_audit(session, actor, "user.enable", "clinician", row.id)
        return AccountView.of(row)


def list_users(db: Database, *, now: datetime | None = None) -> list[AccountView]:
    """Every account (enabled and disabled), by username.

    ``locked_until`` is the latest sign-in lock still running at any source
    (see :func:`authenticate`), and ``failed_attempts`` the highest count.
    """
    when = _now(now)
    with db.session(read_only=True) as session:
        throttles: dict[str, tuple[int, datetime | None]] = {}
        for t in session.scalars(sa.select(SignInThrottle)):
            until = utc(t.locked_until) if t.locked_until is not None and utc(t.locked_until) > when else None
            failures, latest = throttles.get(t.username_key, (0, None))
            throttles[t.username_key] = (max(failures, t.failures), max(filter(None, (latest, until)), default=None))
        views = []
        for r in session.scalars(sa.select(Clinician).order_by(Clinician.username)):
            view = AccountView.of(r)
            failures, until = throttles.get(_username_key(r.username), (0, None))
            views.append(dataclasses.replace(view, failed_attempts=max(view.failed_attempts, failures),
                                             locked_until=until or view.locked_until))
        return views


# ------------------------------------------------------------------ sessions


def session_timeout_minutes(environ: Mapping[str, str] | None = None) -> int:
    """The session timeout: ``$STEPBACK_SESSION_TIMEOUT_MINUTES``, else 15.

    Parameters
    ----------
    environ : Mapping, optional
        Default ``os.environ``.

    Raises
    ------
    InputError
        When the variable is set but not a whole number from 1 to 1440.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(SESSION_TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_SESSION_TIMEOUT_MINUTES
    lo, hi = SESSION_TIMEOUT_RANGE
    text = raw.strip()
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise InputError(SESSION_TIMEOUT_ENV, f"{text[:20]!r} is not allowed; allowed: a whole number of minutes from {lo} to {hi}")
    return int(text)


def session_expired(last_seen: datetime | None, now: datetime, timeout_minutes: int | None = None) -> bool:
    """True when a signed-in session has been idle for the timeout or longer.

    Pure: no database, no clock.

    Parameters
    ----------
    last_seen : datetime or None
        The session's last activity; None (never seen) counts as expired.
    now : datetime
        The current time. Naive datetimes are taken as UTC.
    timeout_minutes : int, optional
        Default :func:`session_timeout_minutes` (the environment, else 15).
    """
    if last_seen is None:
        return True
    minutes = session_timeout_minutes() if timeout_minutes is None else timeout_minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise InputError("timeout_minutes", "allowed: a whole number of minutes, 1 or more")
    return utc(now) - utc(last_seen) >= timedelta(minutes=minutes)
