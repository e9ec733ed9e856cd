"""The audit trail: one row per action on a record, in the action's transaction.

``detail`` holds ids, counts and codes, never patient names or free text a
clinician typed (which may contain names).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .db import PENDING_AUDIT, READ_ONLY, Database
from .schema import AuditRow
from .validation import validate_actor
from .views import AuditView


def now() -> datetime:
    """The current time, UTC-aware (stored as UTC on every backend)."""
    return datetime.now(UTC)


def write_audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: Any = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the current transaction.

    In a read-only session (``db.session(read_only=True)``) the row is kept
    aside and written right after the read, in a transaction of its own.

    Parameters
    ----------
    session : Session
        The action's session; the row commits or rolls back with the action.
    actor : str
        Username of the clinician (or ``system``).
    action : str
        Dotted verb such as ``patient.create`` or ``assessment.amend``.
    entity, entity_id
        The table-level name and id of the record acted on.
    detail : dict, optional
        Ids, counts, codes; never names.
    """
    row = AuditRow(
        at=now(),
        actor=validate_actor(actor),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        detail=detail,
    )
    if session.info.get(READ_ONLY):
        session.info.setdefault(PENDING_AUDIT, []).append(row)  # written once the read has succeeded
    else:
        session.add(row)


def list_audit(
    db: Database, *, entity: str | None = None, entity_id: Any = None, action: str | None = None, limit: int = 200
) -> list[AuditView]:
    """Audit rows, newest first, optionally for one entity or action.

    Parameters
    ----------
    db : Database
    entity, entity_id : optional
        Restrict to one kind of record, and one record of it.
    action : str, optional
        Restrict to one action (``patient.view`` ...).
    limit : int
        At most this many rows.
    """
    query = sa.select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditRow.entity == entity)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == str(entity_id))
    if action is not None:
        query = query.where(AuditRow.action == action)
    with db.session(read_only=True) as session:
        return [AuditView.of(row) for row in session.scalars(query)]
