"""Reading the audit trail for administrators: filters and a CSV export.

:func:`records.audit.list_audit` filters by entity and action only; the
audit page also filters by user and date range. The trail is append-only:
this module only reads it, and the export itself adds one
``audit.export_csv`` row (the filter and the row count, never a cell value).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from assessment.errors import InputError

from .accounts import _require_admin
from .audit import write_audit
from .db import Database
from .schema import AuditRow
from .validation import validate_actor
from .views import AuditView

#: Most rows one query or export returns (bounds memory per request).
AUDIT_LIMIT_MAX = 10_000
#: Default number of rows shown.
AUDIT_LIMIT_DEFAULT = 500
#: Columns of the CSV export, in order.
AUDIT_CSV_COLUMNS = ("id", "at_utc", "actor", "action", "entity", "entity_id", "detail")


@dataclass(frozen=True)
class AuditFilter:
    """Which audit rows to read; ``None`` means "any".

    ``since`` and ``until`` are UTC calendar days, both included.
    """

    actor: str | None = None
    action: str | None = None
    entity: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = AUDIT_LIMIT_DEFAULT

    def checked(self) -> AuditFilter:
        """Return this filter after checking every field.

        Raises
        ------
        InputError
            Naming the field: a text filter longer than 64 characters, a
            non-date bound, ``since`` after ``until``, or a limit outside
            1 to :data:`AUDIT_LIMIT_MAX`.
        """
        for name in ("actor", "action", "entity"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 64):
                raise InputError(name, "allowed: text of 1 to 64 characters, or none for any")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                raise InputError(name, "allowed: a calendar date, or none for no bound")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InputError("since", f"{self.since} is after {self.until}; allowed: a start on or before the end")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not 1 <= self.limit <= AUDIT_LIMIT_MAX:
            raise InputError("limit", f"allowed: a whole number from 1 to {AUDIT_LIMIT_MAX}")
        return self

    def as_detail(self) -> dict[str, Any]:
        """The filter as JSON-ready data (for the export's own audit row)."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v is not None}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _query(flt: AuditFilter) -> sa.Select:
    query = sa.select(AuditRow).order_by(AuditRow.id.desc()).limit(flt.limit)
    if flt.actor is not None:
        query = query.where(AuditRow.actor == flt.actor)
    if flt.action is not None:
        query = query.where(AuditRow.action == flt.action)
    if flt.entity is not None:
        query = query.where(AuditRow.entity == flt.entity)
    if flt.since is not None:
        query = query.where(AuditRow.at >= _day_start(flt.since))
    if flt.until is not None:
        query = query.where(AuditRow.at < _day_start(flt.until + timedelta(days=1)))
    return query


def query_audit(db: Database, flt: AuditFilter, *, actor: str) -> list[AuditView]:
    """Audit rows matching ``flt``, newest first.

    Parameters
    ----------
    db : Database
    flt : AuditFilter
    actor : str
        An enabled administrator (or ``system``); reading is not itself audited.

    Raises
    ------
    NotAllowed
        When ``actor`` is not an administrator.
    InputError
        When the filter is bad (see :meth:`AuditFilter.checked`).
    """
    flt = flt.checked()
    actor = validate_actor(actor)
    with db.session(read_only=True) as session:
        _require_admin(session, actor, "read the audit trail")
        return [AuditView.of(row) for row in session.scalars(_query(flt))]


def audit_choices(db: Database, *, actor: str) -> dict[str, list[str]]:
    """The distinct actors, actions and entities in the trail, for filter pickers.

    Returns
    -------
    dict
        ``{"actor": [...], "action": [...], "entity": [...]}``, each sorted.
    """
    actor = validate_actor(actor)
    with db.session(read_only=True) as session:
        _require_admin(session, actor, "read the audit trail")
        return {
            name: list(session.scalars(sa.select(column).distinct().order_by(column)))
            for name, column in (("actor", AuditRow.actor), ("action", AuditRow.action), ("entity", AuditRow.entity))
        }


def _csv_cell(value: str) -> str:
    from .exchange import neutralise  # spreadsheet formula injection: one rule for every export

    return neutralise(value)


def audit_csv(rows: list[AuditView]) -> bytes:
    """Audit rows as UTF-8 CSV (with a byte-order mark) in :data:`AUDIT_CSV_COLUMNS` order.

    Text cells that a spreadsheet would read as a formula are quote-prefixed
    (:func:`records.exchange.neutralise`); ``detail`` is compact JSON.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_CSV_COLUMNS)
    for r in rows:
        detail = "" if r.detail is None else json.dumps(r.detail, sort_keys=True, separators=(",", ":"))
        writer.writerow([
            r.id, r.at.astimezone(UTC).isoformat(timespec="seconds"),
            *(_csv_cell(v or "") for v in (r.actor, r.action, r.entity, r.entity_id)),
            _csv_cell(detail),
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_audit_csv(db: Database, flt: AuditFilter, *, actor: str) -> bytes:
    """The rows matching ``flt`` as CSV, and one ``audit.export_csv`` audit row.

    Parameters
    ----------
    db : Database
    flt : AuditFilter
    actor : str
        An enabled administrator (or ``system``).

    Returns
    -------
    bytes
        :func:`audit_csv` of the matching rows (read in the same transaction
        that writes the export's own row, which is therefore not in the file).

    Raises
    ------
    NotAllowed, InputError
    """
    flt = flt.checked()
    actor = validate_actor(actor)
    with db.session() as session:
        _require_admin(session, actor, "export the audit trail")
        rows = [AuditView.of(row) for row in session.scalars(_query(flt))]
        write_audit(session, actor, "audit.export_csv", "audit_log", None, {"rows": len(rows), "filter": flt.as_detail()})
    return audit_csv(rows)
