"""Result: time, speed, band, percentile picture, risk in plain words, change
against the MDC95, the safe starting program and both reports (preview and
download)."""

from __future__ import annotations

import base64

import altair as alt
import pandas as pd
import streamlit as st

from assessment.errors import InputError
from assessment.protocol import STOP_REASON_TEXT, StopReason
from records import services
from reports.i18n import review_warning

from . import flow
from .common import (RESULT_ID, SELECTED_MRN, cached_chart, file_button, md_escape, patient_header, percentile_text,
                     seconds_text, select_patient, show_error, words)
from .resources import actor, database

#: The overall risk level of the program decision, in the clinician's voice (the handout says it to the patient).
RISK_LEVEL_TEXT = {
    "high": "The results point to a higher chance of falling (see why this program, below).",
    "moderate": "Some results point to a raised chance of falling (see why this program, below).",
    "low": "The walking time is in the range linked with a lower chance of falling, and no other signal raises it.",
    "unknown": "No published guide for this test in this population: the time alone says little about falls here.",
}

CHANGE_TEXT = {
    "improved": "Real improvement (faster by at least the MDC95)",
    "worse": "Real decline (slower by at least the MDC95)",
    "no_real_change": "Within measurement error (change smaller than the MDC95)",
}


def _pick_assessment():
    """The assessment on screen and its patient: ``(view, patient)`` or None.

    One selection decides: a link ``?assessment=ID`` (or an opened result)
    selects that assessment's patient; otherwise the selected patient's
    latest assessment is shown. An opened result of another patient than
    the selected one is never shown under that selection.
    """
    db = database()
    qp = st.query_params.get("assessment")
    if qp is not None:
        del st.query_params["assessment"]  # applied once: the header may change the selection afterwards
        if not qp.isdigit():
            st.error("The link names no assessment (an assessment ID is digits only).", icon=":material/error:")
            return None
        try:  # records checks the clinic scope: another clinic's assessment is "not found"
            linked = services.get_assessment(db, int(qp), actor=actor())
        except InputError as exc:
            show_error(exc)
            return None
        select_patient(linked.mrn)
        st.session_state[RESULT_ID] = linked.id
    aid = st.session_state.get(RESULT_ID)
    if aid is not None and not st.session_state.get(SELECTED_MRN):
        try:
            select_patient(services.get_assessment(db, aid, actor=actor()).mrn)
        except InputError:
            pass
        st.session_state[RESULT_ID] = aid
    patient = patient_header("result")
    if patient is None:
        return None
    try:
        view = services.get_assessment(db, aid, actor=actor()) if aid is not None else None
    except InputError:
        view = None
    if view is None or view.mrn != patient.mrn:
        st.session_state.pop(RESULT_ID, None)
        try:
            hist = services.history(db, patient.mrn, actor=actor())
        except InputError as exc:
            show_error(exc)
            return None
        if not hist:
            st.info("This patient has no finalized assessment yet.")
            return None
        view = hist[-1]
    return view, patient


def percentile_picture(percentile: float) -> alt.Chart:
    """A 0–100 strip (fastest to slowest quarter of the cohort) with the patient's place."""
    parts = ["fastest quarter", "second quarter", "third quarter", "slowest quarter"]
    strip = pd.DataFrame({"start": [0, 25, 50, 75], "end": [25, 50, 75, 100], "part": parts})
    base = alt.Chart(strip).mark_rect(height=28).encode(
        x=alt.X("start:Q", scale=alt.Scale(domain=[0, 100]), title=None),
        x2="end:Q",
        color=alt.Color("part:N", legend=None,
                        scale=alt.Scale(domain=parts, range=["#cfe8d2", "#e9f0c9", "#f7dfc2", "#f3c6c0"])),
        tooltip=["part"],
    )
    left = percentile < 50
    marker = alt.Chart(pd.DataFrame({"p": [percentile], "label": [f"This patient: {percentile_text(percentile)}"]}))
    rule = marker.mark_rule(color="#111", strokeWidth=4).encode(x="p:Q")
    text = marker.mark_text(dy=-24, dx=6 if left else -6, align="left" if left else "right", fontSize=14,
                            fontWeight="bold").encode(x="p:Q", text="label:N")
    return (base + rule + text).properties(height=90)


def _risk_block(view) -> None:
    if view.probability is None:
        st.info("No model probability for this assessment (no valid timed walk, no model for this population, "
                "or no model installed). The 3MBW band above is the guide.")
        return
    pct = round(100 * view.probability)
    low = round(100 * view.probability_low) if view.probability_low is not None else None
    high = round(100 * view.probability_high) if view.probability_high is not None else None
    rng = f" (likely between {low} and {high} in 100)" if low is not None and high is not None else ""
    st.metric("Chance of a fall (model estimate)", f"{pct} in 100", help=f"Model version {view.model_version}")
    st.write(f"Out of 100 people with results like this, about **{pct}** have a fall in the next 12 months{rng}. "
             f"Model category: **{words(view.risk_category)}** (relative to the population's pre-test odds; "
             "the program and the overall risk level weigh every signal, and the safer one decides).")
    score = view.score or {}
    inputs = score.get("risk_inputs") or {}
    if inputs:
        known = ", ".join(f"{words(k)} {v}" for k, v in (inputs.get("known") or {}).items()) or "none"
        unknown = ", ".join(words(k) for k in inputs.get("unknown") or ()) or "none"
        st.text(f"Inputs used: {known}. Not known (averaged over): {unknown}.")
    scenarios = score.get("risk_scenario_probabilities") or {}
    if scenarios.get("A") is not None and scenarios.get("B") is not None:
        st.caption(f"Under the two readings of the evidence the estimate is {round(100 * scenarios['A'])} (time "
                   f"independent of fall history) and {round(100 * scenarios['B'])} in 100 (time tracks fall "
                   "history); the range above spans both.")
    st.caption("The 3MBW separates fallers from non-fallers only modestly (AUC 0.65–0.75 across studies): "
               "treat this as one piece of the picture. See the Evidence page for every source.")


def _program_block(program) -> None:
    st.subheader("Safe starting program")
    (st.warning if program.supervised else st.success)(f"{program.tier_label}: {program.plain_label}")
    st.table(  # a static table: its text wraps on a narrow tablet instead of being cut off
        [{"Week": w.week, "Minutes": w.minutes_per_session, "Sessions/week": w.sessions_per_week,
          "Where": w.surface, "Support": w.support, "Next step": w.progress_rule} for w in program.weeks],
        hide_index=True,
    )
    st.markdown("**Why this program** (every signal and what it forced; the strictest decides)")
    for line in program.why:
        st.text("• " + line)
    with st.expander("Safety and stop rules"):
        st.markdown("**Stay safe**")
        for rule in program.safety_rules:
            st.write("• " + rule.text)
        st.markdown("**Stop and call if**")
        for rule in program.stop_rules:
            st.write("• " + rule.text)
    st.write(f"Reassess on **{program.reassess_on.isoformat()}**.")


PREVIEW = "result_preview"  # (assessment id, kind, pdf): the preview built once when asked


def _reports_block(view, patient) -> None:
    """Both reports: a PDF is built, rendered and audited only on a download or a preview, never on a rerun."""
    st.subheader("Reports")
    clinician = st.session_state.get("clinician_name") or actor()
    db = database()
    unreviewed = review_warning(getattr(patient, "language", None) or "en")
    if unreviewed:
        st.warning(unreviewed, icon=":material/translate:")

    def model_of(kind: str):
        patient_model, clinician_model = flow.report_models(db, view.id, actor=actor(), clinician=clinician)
        return patient_model if kind == "patient" else clinician_model

    def printed(kind: str):
        def make():
            try:
                model = model_of(kind)
            except InputError as exc:
                show_error(exc)
                return None
            return flow.print_report(db, view.id, model, actor=actor()), f"{model.file_stem}.pdf"
        return make

    c1, c2 = st.columns(2)
    with c1:  # never at a /media URL: see ui.common.file_button
        file_button("Download patient report (PDF)", printed("patient"), file_name="patient-report.pdf",
                    mime="application/pdf", primary=True, key="dl_patient")
    with c2:
        file_button("Download clinician report (PDF)", printed("clinician"), file_name="clinician-report.pdf",
                    mime="application/pdf", key="dl_clinician")
    which = st.segmented_control("Preview", ["Patient report", "Clinician report"], default=None, key="preview_which")
    if which:
        kind = "patient" if which == "Patient report" else "clinician"
        cached = st.session_state.get(PREVIEW)
        if not cached or cached[:2] != (view.id, kind):
            try:
                cached = (view.id, kind, flow.print_report(db, view.id, model_of(kind), actor=actor()))
            except InputError as exc:
                show_error(exc)
                return
            st.session_state[PREVIEW] = cached
        try:  # a data: URI travels as component data over this session's WebSocket; st.pdf(bytes) would
            # put the PDF at a /media URL that serves it to anyone holding the id (see ui.common.file_button)
            from streamlit_pdf import pdf_viewer

            pdf_viewer("data:application/pdf;base64," + base64.b64encode(cached[2]).decode("ascii"), height=700,
                       key="preview_pdf", alt=f"{which} preview")
        except Exception as exc:  # streamlit-pdf missing: say so rather than fail the page
            st.warning(f"PDF preview unavailable ({type(exc).__name__}); use the download buttons.")


def render() -> None:
    """The Result page."""
    st.title("Result")
    picked = _pick_assessment()
    if picked is None:
        return
    view = picked[0]
    if not view.is_final:
        st.warning("This assessment is still a draft: finish it on the New assessment page.")
        return
    score = view.score or {}
    st.subheader(f"Assessment of {view.assessed_on.isoformat()} (ID {view.id})")
    if view.amended:
        st.caption(f"Amended (version {view.version}): {md_escape(view.amendment_reason)}")
    if view.superseded:
        st.warning("A newer version of this assessment exists (see History).")
    if view.stop_reason:
        st.warning(f"Test stopped: {STOP_REASON_TEXT[StopReason(view.stop_reason)]}.", icon=":material/front_hand:")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Time (mean)", seconds_text(view.mean_seconds), help=score.get("scoring_rule"))
    c2.metric("Speed", "—" if view.speed_m_per_s is None else f"{view.speed_m_per_s:.2f} m/s")
    c3.metric("Valid timed walks", score.get("valid_trials", 0))
    c4.metric("Percentile", "—" if view.percentile is None else percentile_text(view.percentile),
              help="Share of the reference cohort at this time or faster (higher = slower).")
    if score.get("band_label"):
        st.markdown(f"**Band:** {score['band_label']}")
    for flag in score.get("flags") or []:
        st.caption("⚑ " + words(flag))
    if view.percentile is not None and score.get("reference_cohort_label"):
        cached_chart(percentile_picture, view.percentile)
        st.caption(f"Percentile against: {score['reference_cohort_label']} (0 = fastest, 100 = slowest). "
                   f"{percentile_text(view.percentile)} % of that cohort took this long or less.")
    try:
        program = flow.program_for(view)
    except InputError as exc:
        show_error(exc)
        return
    st.subheader("What it means")
    st.markdown(f"**Overall risk level (all signals):** {words(program.risk_level)}")
    st.write(RISK_LEVEL_TEXT[program.risk_level] if score.get("mean_seconds") is not None else
             "No valid timed walk: the test could not be scored; the program starts supervised.")
    st.caption("The patient handout says the same in plain words. The 3MBW is one piece of the picture; "
               "it cannot say for sure whether this patient will fall.")
    _risk_block(view)
    st.subheader("Change since last time")
    if score.get("previous_seconds") is None:
        st.write("First assessment: nothing to compare with yet.")
    else:
        delta = score["change_seconds"]
        st.metric("Change", f"{delta:+.2f} s", delta=f"{delta:+.2f} s", delta_color="inverse",
                  help=f"Previous {score['previous_seconds']:.2f} s")
        if score.get("change") in CHANGE_TEXT:
            st.write(f"**{CHANGE_TEXT[score['change']]}** — MDC95 {score['mdc95']:.2f} s ({score.get('mdc95_kind')}).")
        if score.get("change_note"):
            st.caption(score["change_note"])
    if score.get("change_from_first_seconds") is not None:
        cls = CHANGE_TEXT.get(score.get("change_from_first"), "not judged (no MDC95)")
        st.write(f"Since the first assessment ({score['first_seconds']:.2f} s): "
                 f"{score['change_from_first_seconds']:+.2f} s — {cls}.")
    _program_block(program)
    _reports_block(view, picked[1])
