"""Clinic: who is due for (re)assessment, the risk mix, batch printing of reports,
and the falls-screening quality report (CMS139, plan of care) for the clinic.

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
from records.quality import falls_screening, read_visits
from reports.quality import build_quality_pdf

from . import flow
from .common import file_button, md_escape, show_error, words
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


def _reports_zip(rows: list[dict]) -> bytes | None:
    """Both reports of each row's latest assessment in one ZIP (None, said on the page, when there are none)."""
    ids = [r["assessment_id"] for r in rows if r["assessment_id"] is not None]
    if not ids:
        st.info("No finalized assessment among these patients.")
        return None
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
    return buffer.getvalue()


def not_screened_rows(report) -> list[dict]:
    """One row per patient of the denominator not yet screened (shown with st.dataframe: plain text)."""
    return [{"MRN": u.mrn, "Name": u.name, "Born": u.birth_date, "Age": u.age, "Last visit": u.last_visit}
            for u in report.not_screened]


def _quality_section(db, scope: str | None) -> None:
    st.subheader("Falls screening quality (CMS139)")
    st.caption("Patients 65 or older on the first day with a visit in the period (a StepBack assessment, or a row "
               "of the EHR visit list); screened: a completed assessment in the period. Plan of care (MIPS #155): "
               "patients screened at risk whose report with the program was printed.")
    today = date.today()
    c1, c2 = st.columns(2)
    start = c1.date_input("From", value=date(today.year, 1, 1), key="quality_from")
    end = c2.date_input("To", value=today, key="quality_to")
    visits_file = st.file_uploader("EHR visit list (optional CSV, columns mrn,date)", type=["csv"], key="quality_visits")

    def compute():
        try:
            visits = read_visits(data=visits_file.getvalue()) if visits_file is not None else []
            return falls_screening(db, period_from=start, period_to=end, visits=visits, clinic=scope, actor=actor())
        except InputError as exc:
            show_error(exc)
            return None

    def quality_pdf() -> bytes | None:
        report = compute()
        return build_quality_pdf(report) if report is not None else None

    b1, b2 = st.columns(2)
    with b1:
        shown = st.button("Compute the quality report", key="quality_run", icon=":material/fact_check:")
    with b2:  # computed and built on the click, never at a /media URL (it names patients not yet screened)
        file_button("Download the quality report (PDF)", quality_pdf, file_name=f"stepback-cms139-{start}-{end}.pdf",
                    mime="application/pdf", key="quality_pdf")
    if not shown:
        return
    report = compute()
    if report is None:
        return
    q1, q2, q3, q4 = st.columns(4)
    q1.metric("Denominator", report.denominator, help="Patients 65 or older with a visit in the period.")
    q2.metric("Screened", report.numerator)
    q3.metric("Screening rate", "—" if report.rate is None else f"{report.rate:.0%}")
    q4.metric("Plan of care", "—" if report.plan_rate is None else f"{report.plan_rate:.0%}",
              help=f"{report.plan_numerator} of {report.plan_denominator} patients screened at risk.")
    rows = not_screened_rows(report)
    if rows:
        st.write(f"Not yet screened: {len(rows)}")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="quality_not_screened")
    else:
        st.write("Every patient in the denominator was screened.")
    if report.plan_missing:
        st.text("Screened at risk without a printed program: " + ", ".join(report.plan_missing))
    if report.unknown_visit_mrns:
        st.caption(f"{len(report.unknown_visit_mrns)} MRN(s) of the visit list are not patients here; not counted.")


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
    def build_zip() -> bytes | None:
        try:
            rows = due if scope_choice.startswith("patients due") else matching_rows(db, search, scope)
        except InputError as exc:
            show_error(exc)
            return None
        return _reports_zip(rows)

    # built on the click and handed over this session's WebSocket: never at a /media URL
    file_button("Build and download the reports (ZIP)", build_zip, file_name=f"stepback-reports-{date.today()}.zip",
                mime="application/zip", key="batch_print", icon=":material/print:", primary=True)
    _quality_section(db, scope)
