"""Audit: the append-only trail, filtered by user, action, entity and date
range, with a CSV export of the filtered rows (administrators only).

Nothing here edits or deletes a row. The export runs when the download
button is clicked (a deferred download) and writes its own
``audit.export_csv`` row.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import streamlit as st

from assessment.errors import InputError
from records.audit_query import AUDIT_LIMIT_DEFAULT, AUDIT_LIMIT_MAX, AuditFilter, audit_choices, export_audit_csv, query_audit

from .common import file_button, require_admin, show_error
from .resources import actor, database

ANY = "(any)"
#: Days shown by default, back from today.
DEFAULT_DAYS = 30


def audit_rows(rows) -> list[dict]:
    """Plain table rows (shown as text in a dataframe, never as HTML)."""
    return [{"ID": r.id, "When (UTC)": f"{r.at:%Y-%m-%d %H:%M:%S}", "User": r.actor, "Action": r.action,
             "Entity": r.entity, "Entity ID": r.entity_id or "",
             "Detail": "" if r.detail is None else json.dumps(r.detail, sort_keys=True)} for r in rows]


def _pick(label: str, options: list[str], key: str) -> str | None:
    choice = st.selectbox(label, [ANY, *options], key=key)
    return None if choice == ANY else choice


def _filters(choices: dict[str, list[str]]) -> AuditFilter | None:
    c1, c2, c3 = st.columns(3)
    with c1:
        user = _pick("User", choices["actor"], "audit_user")
    with c2:
        action = _pick("Action", choices["action"], "audit_action")
    with c3:
        entity = _pick("Entity", choices["entity"], "audit_entity")
    c4, c5 = st.columns([2, 1])
    today = date.today()
    days = c4.date_input("Date range (UTC days, both included)", value=(today - timedelta(days=DEFAULT_DAYS), today),
                         key="audit_dates")
    limit = c5.number_input("Rows at most", min_value=1, max_value=AUDIT_LIMIT_MAX, value=AUDIT_LIMIT_DEFAULT,
                            step=100, key="audit_limit")
    since = until = None
    if isinstance(days, (tuple, list)):
        since = days[0] if len(days) > 0 else None
        until = days[1] if len(days) > 1 else since
    elif isinstance(days, date):
        since = until = days
    return AuditFilter(actor=user, action=action, entity=entity, since=since, until=until, limit=int(limit))


def render() -> None:
    """The Audit page (administrators only)."""
    require_admin("the Audit page")
    st.title("Audit trail")
    st.caption("Every sign-in, view, change and export, newest first. The trail is append-only: "
               "no one can edit or delete a row.")
    db = database()
    try:
        choices = audit_choices(db, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    flt = _filters(choices)
    try:
        rows = query_audit(db, flt, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    st.write(f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
             + (f" (the newest {flt.limit}; narrow the filters to see older ones)" if len(rows) == flt.limit else ""))
    if rows:
        st.dataframe(audit_rows(rows), hide_index=True, width="stretch")
    username = actor()
    file_button(  # built on the click, over this session's WebSocket, never at a /media URL
        "Export these rows (CSV)", lambda: export_audit_csv(db, flt, actor=username),
        file_name=f"stepback-audit-{date.today().isoformat()}.csv", mime="text/csv", key="audit_export",
        disabled=not rows,
    )
    st.caption("The export is itself recorded in the audit trail.")
