"""Clinic: who is due for reassessment, the risk mix, batch printing of reports."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from datetime import date

import pandas as pd
import streamlit as st

from assessment.errors import InputError
from records import services
from records.patients import LIST_LIMIT_MAX

from . import flow
from .common import show_error, words
from .resources import actor, database

#: Patients reviewed per run (the records search is limited; narrow it by name/MRN).
REVIEW_LIMIT = 200


def clinic_rows(db, search: str | None, limit: int) -> list[dict]:
    """One row per patient with a finalized assessment: latest result and due date."""
    rows = []
    for p in services.list_patients(db, search=search, limit=min(limit, LIST_LIMIT_MAX), actor=actor()):
        hist = services.history(db, p.mrn, actor=actor())
        if not hist:
            rows.append({"MRN": p.mrn, "Name": f"{p.family_name}, {p.given_name}", "Last": None,
                         "Risk": "not assessed", "Reassess on": None, "Due": True, "assessment_id": None})
            continue
        last = hist[-1]
        due_on = flow.program_for(last).reassess_on
        rows.append({"MRN": p.mrn, "Name": f"{p.family_name}, {p.given_name}", "Last": last.assessed_on,
                     "Risk": words(last.risk_category or (f"{last.band} (band)" if last.band else None)),
                     "Reassess on": due_on, "Due": due_on <= date.today(), "assessment_id": last.id})
    return rows


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
    search = st.text_input("Limit to patients matching (name or MRN)", key="clinic_search")
    try:
        rows = clinic_rows(db, search or None, REVIEW_LIMIT)
        drafts = services.open_drafts(db, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    st.caption(f"Reviewing up to {REVIEW_LIMIT} patients in name order.")
    if drafts:
        st.warning(f"{len(drafts)} unfinished assessment(s): resume them on the New assessment page.")
    due = [r for r in rows if r["Due"]]
    c1, c2, c3 = st.columns(3)
    c1.metric("Patients reviewed", len(rows))
    c2.metric("Due for reassessment", len(due))
    c3.metric("Unfinished assessments", len(drafts))
    st.subheader("Risk mix (latest assessment)")
    mix = Counter(r["Risk"] for r in rows)
    if mix:
        st.bar_chart(pd.DataFrame({"patients": mix}).sort_index(), horizontal=True, height=220)
    st.subheader("Due for reassessment")
    if due:
        st.dataframe(pd.DataFrame(due).drop(columns=["assessment_id", "Due"]), hide_index=True, width="stretch")
    else:
        st.write("Nobody is due.")
    st.subheader("Batch printing")
    scope = st.radio("Print the latest reports of", ["patients due", "all patients reviewed"], horizontal=True,
                     key="print_scope")
    if st.button("Build reports", key="batch_print", icon=":material/print:"):
        _batch_print(due if scope == "patients due" else rows)
