"""Clinic: who is due for (re)assessment, the risk mix, batch printing of reports.

"Due" comes from one records query over the clinic's patients (each
patient's latest final assessment and the reassessment date stored with
it), not from each patient's history.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pandas as pd
import streamlit as st

from assessment.errors import InputError
from records import services

from . import flow
from .common import md_escape, show_error, words
from .patients import clinic_scope, summary_columns
from .resources import actor, database

#: Due patients listed (most overdue first) and patients matched for printing.
REVIEW_LIMIT = 200


def mix_label(risk_category: str | None, band: str | None) -> str:
    """A risk-mix bar: the model's category, else the 3MBW band, else 'not assessed'."""
    if risk_category:
        return words(risk_category)
    return f"{words(band)} (band)" if band else "not assessed / no band"


def due_rows(report) -> list[dict]:
    """One row per due patient: latest result, due date, days overdue."""
    rows = []
    for patient, summary in report.patients:
        overdue = (report.on - summary.reassess_on).days if summary.reassess_on else None
        rows.append({"MRN": patient.mrn, "Name": f"{patient.family_name}, {patient.given_name}",
                     **summary_columns(summary), "Days overdue": overdue, "assessment_id": summary.assessment_id})
    return rows


def matching_rows(db, search: str | None, scope: str | None) -> list[dict]:
    """Patients matching a search (name order) with their latest result, for printing."""
    found = services.list_patients(db, search=search, limit=REVIEW_LIMIT, clinic=scope, actor=actor())
    summaries = services.patient_summaries(db, [p.mrn for p in found], clinic=scope, actor=actor())
    return [{"MRN": p.mrn, "Name": f"{p.family_name}, {p.given_name}", **summary_columns(summaries[p.mrn]),
             "assessment_id": summaries[p.mrn].assessment_id} for p in found]


def _batch_print(rows: list[dict]) -> None:
    ids = [r["assessment_id"] for r in rows if r["assessment_id"] is not None]
    if not ids:
        st.info("No finalized assessment among these patients.")
        return
    clinician = st.session_state.get("clinician_name") or actor()
    bar = st.progress(0.0, text=f"0 of {len(ids)} reports")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, aid in enumerate(ids, start=1):
            try:
                patient_pdf, clinician_pdf, pm, cm = flow.build_reports(database(), aid, actor=actor(), clinician=clinician)
            except InputError as exc:
                show_error(exc)
                continue
            zf.writestr(f"{pm.file_stem}.pdf", patient_pdf)
            zf.writestr(f"{cm.file_stem}.pdf", clinician_pdf)
            bar.progress(i / len(ids), text=f"{i} of {len(ids)} reports")
    st.download_button("Download all reports (ZIP)", buffer.getvalue(), file_name=f"stepback-reports-{date.today()}.zip",
                       mime="application/zip", type="primary", key="dl_zip")


def render() -> None:
    """The Clinic page."""
    st.title("Clinic")
    db = database()
    try:
        scope = clinic_scope()
        report = services.due_for_reassessment(db, clinic=scope, limit=REVIEW_LIMIT, actor=actor())
        drafts = services.open_drafts(db, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    if scope is not None:
        st.caption(f"Patients of {md_escape(scope)}.")
    if drafts:
        st.warning(f"{len(drafts)} unfinished assessment(s): resume them on the New assessment page.")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Patients", report.total_patients)
    c2.metric("Due for reassessment", report.due_total, help="Never assessed, or the reassessment date has come.")
    c3.metric("Never assessed", report.never_assessed)
    c4.metric("Unfinished assessments", len(drafts))
    st.subheader("Risk mix (latest assessment)")
    mix: dict[str, int] = {}
    for (category, band), count in report.risk_mix.items():
        label = mix_label(category, band)
        mix[label] = mix.get(label, 0) + count
    if mix:
        st.bar_chart(pd.DataFrame({"patients": mix}).sort_index(), horizontal=True, height=220)
    st.subheader("Due for reassessment")
    due = due_rows(report)
    if due:
        st.dataframe(pd.DataFrame(due).drop(columns=["assessment_id", "Due"]), hide_index=True, width="stretch",
                     key="due_table")
        if report.due_total > len(due):
            st.caption(f"The {len(due)} most overdue of {report.due_total} (never assessed first).")
    else:
        st.write("Nobody is due.")
    st.subheader("Batch printing")
    scope_choice = st.radio("Print the latest reports of", ["patients due (listed above)", "patients matching a search"],
                            horizontal=True, key="print_scope")
    search = None
    if scope_choice == "patients matching a search":
        search = st.text_input("Patients matching (name or MRN); blank: the first in name order",
                               key="clinic_search") or None
    if st.button("Build reports", key="batch_print", icon=":material/print:"):
        try:
            rows = due if scope_choice.startswith("patients due") else matching_rows(db, search, scope)
        except InputError as exc:
            show_error(exc)
            return
        _batch_print(rows)
