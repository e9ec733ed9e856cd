"""History: every assessment of a patient as a trend (cut-offs and the MDC band
drawn) and a table, amendments shown, and falls reported at follow-up."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from assessment import populations
from assessment.errors import InputError
from records import services

from .common import RESULT_ID, cached_chart, md_escape, patient_header, percentile_text, show_error, words
from .resources import actor, database, fall_risk_model


def mdc95_of(hist) -> tuple[float | None, str | None]:
    """The MDC95 (seconds) and its kind for the band around the latest time.

    The population's published or derived MDC95 (``assessment.populations``)
    whenever it has one, so the band shows from the first assessment; else
    the one stored with a scored change.
    """
    last = hist[-1]
    population = populations().get(last.population)
    if population is not None and population.mdc95_seconds:
        return population.mdc95_seconds, population.mdc95_kind
    if last.mdc95:
        return last.mdc95, (last.score or {}).get("mdc95_kind")
    return None, None


def trend_inputs(hist) -> tuple[tuple, tuple, tuple | None]:
    """What the trend chart draws, as hashable tuples: (visits, cut-offs, MDC95 band or None).

    Visits are (ISO date, mean seconds, label); cut-offs (seconds, text) are the
    latest assessment's; the band is the latest time ± the MDC95 (:func:`mdc95_of`).
    """
    rows = tuple((h.assessed_on.isoformat(), h.mean_seconds, f"v{h.version}" + (" (amended)" if h.amended else ""))
                 for h in hist if h.mean_seconds is not None)
    score = hist[-1].score or {}
    cutoffs = tuple((c["seconds"], f"{c['side']} {c['seconds']:g} s: {c['purpose']}") for c in score.get("cutoffs") or [])
    mdc95, _kind = mdc95_of(hist)
    latest = next((h for h in reversed(hist) if h.mean_seconds is not None), None)
    band = (latest.mean_seconds - mdc95, latest.mean_seconds + mdc95) if mdc95 and latest is not None else None
    return rows, cutoffs, band


def trend_chart(rows: tuple, cutoffs: tuple, band: tuple | None) -> alt.Chart:
    """Mean time per visit, with the population's cut-offs and an MDC95 band
    around the latest time (a later time outside the band is a real change).

    The arguments are :func:`trend_inputs`' (hashable, so the page caches the spec).
    """
    frame = pd.DataFrame([{"date": d, "seconds": sec, "label": label} for d, sec, label in rows])
    layers = [
        alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=90)).encode(
            x=alt.X("date:T", title="Assessment date"),
            y=alt.Y("seconds:Q", title="3MBW time, s (lower is better)", scale=alt.Scale(zero=True)),
            tooltip=["date:T", alt.Tooltip("seconds:Q", format=".2f"), "label:N"],
        )
    ]
    if cutoffs:
        frame = pd.DataFrame([{"seconds": sec, "cut-off": text} for sec, text in cutoffs])
        layers.append(alt.Chart(frame).mark_rule(strokeDash=[6, 4], color="#b00020").encode(
            y="seconds:Q", tooltip=["cut-off:N"]))
    if band is not None:
        frame = pd.DataFrame({"low": [band[0]], "high": [band[1]]})
        layers.insert(0, alt.Chart(frame).mark_rect(opacity=0.15, color="#1f77b4").encode(
            y="low:Q", y2="high:Q", tooltip=[alt.Tooltip("low:Q", format=".2f"), alt.Tooltip("high:Q", format=".2f")]))
    return alt.layer(*layers).properties(height=320)


def _fall_form(mrn: str) -> None:
    with st.form("record_fall", clear_on_submit=False):
        c1, c2 = st.columns(2)
        occurred = c1.date_input("Date of the fall", value=None, max_value=date.today(), key="fall_date")
        injury = c2.radio("Injured?", ["No", "Yes"], horizontal=True, key="fall_injury")
        notes = st.text_area("Notes", key="fall_notes", max_chars=1000)
        if st.form_submit_button("Record fall", type="primary"):
            try:
                services.record_fall(database(), mrn, occurred_on=occurred, injury=injury == "Yes",
                                     notes=notes or None, actor=actor())
            except InputError as exc:
                show_error(exc)
                return
            st.success("Fall recorded.")


FLASH = "history_flash"
PRIOR_FALLS = {None: "Not recorded", 0: "None", 1: "One", 2: "Two or more"}
WALKING_AID = {None: "Not recorded", False: "No", True: "Yes"}


def _amend_form(hist) -> None:
    """Amend a final assessment: a new version, scored again; the old one is kept (see its versions)."""
    with st.expander("Amend an assessment (a new version; the old one is kept)", icon=":material/edit:"):
        options = {h.id: h for h in reversed(hist)}
        chosen = options[st.selectbox(
            "Assessment", list(options), key="amend_pick",
            format_func=lambda i: f"{options[i].assessed_on.isoformat()} — "
                                  f"{'no time' if options[i].mean_seconds is None else f'{options[i].mean_seconds:.2f} s'}"
                                  f" (ID {i}, version {options[i].version})")]
        with st.form(f"amend_{chosen.id}"):
            trials = st.text_input(
                "Timed walks, seconds (comma-separated; replaces all walks)",
                value=", ".join(f"{t.seconds:g}" for t in chosen.trials), key=f"amend_trials_{chosen.id}")
            c1, c2, c3 = st.columns(3)
            when = c1.date_input("Assessment date", value=chosen.assessed_on, max_value=date.today(),
                                 key=f"amend_date_{chosen.id}")
            falls = c2.selectbox("Falls in the past 12 months", list(PRIOR_FALLS), format_func=PRIOR_FALLS.get,
                                 index=list(PRIOR_FALLS).index(chosen.prior_falls), key=f"amend_falls_{chosen.id}")
            aid = c3.selectbox("Uses a walking aid", list(WALKING_AID), format_func=WALKING_AID.get,
                               index=list(WALKING_AID).index(chosen.walking_aid), key=f"amend_aid_{chosen.id}")
            reason = st.text_input("Why is it amended? (required)", max_chars=500, key=f"amend_reason_{chosen.id}")
            if not st.form_submit_button("Save the amendment", type="primary"):
                return
        changes = {}
        typed = [p.strip() for p in trials.split(",") if p.strip()]
        if typed != [f"{t.seconds:g}" for t in chosen.trials]:
            changes["trials"] = typed
        if when != chosen.assessed_on:
            changes["assessed_on"] = when
        if falls != chosen.prior_falls:
            changes["prior_falls"] = falls
        if aid != chosen.walking_aid:
            changes["walking_aid"] = aid
        if not changes:
            st.error("Nothing was changed: correct a walk, the date, the falls or the walking aid first.")
            return
        from models import risk_function  # the model's imports are heavy: only when amending

        model = fall_risk_model()
        risk_fn = risk_function(model) if model is not None else None
        try:
            new = services.amend_assessment(database(), chosen.id, changes, reason=reason, risk_fn=risk_fn,
                                            actor=actor())
        except InputError as exc:
            show_error(exc)
            return
        st.session_state[FLASH] = f"Saved as version {new.version} (assessment {new.id}); version {chosen.version} is kept."
        st.rerun()


def render() -> None:
    """The History page."""
    st.title("History")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))
    patient = patient_header("history")
    if patient is None:
        return
    mrn = patient.mrn
    db = database()
    try:
        hist = services.history(db, mrn, actor=actor())
        falls = services.list_falls(db, mrn, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    if not hist:
        st.info("No finalized assessment yet.")
    else:
        if any(h.mean_seconds is not None for h in hist):
            cached_chart(trend_chart, *trend_inputs(hist))
            mdc95, kind = mdc95_of(hist)
            if mdc95:
                st.caption(f"Shaded: the latest time ± MDC95 ({mdc95:.2f} s, {kind or 'published'}): a later time "
                           "outside it is a real change. Dashed: the population's cut-offs.")
            else:
                st.caption("No MDC95 is published for this population, so no band is drawn. "
                           "Dashed: the population's cut-offs.")
        table = [{"ID": h.id, "Date": h.assessed_on, "Time (s)": None if h.mean_seconds is None else round(h.mean_seconds, 2),
                  "Band": words(h.band), "Percentile": None if h.percentile is None else percentile_text(h.percentile),
                  "Fall risk": words(h.risk_category), "Change": words(h.change),
                  "Stopped": words(h.stop_reason) if h.stop_reason else "",
                  "Version": h.version, "Amendment": h.amendment_reason or ""} for h in hist]
        # A static table wraps its text on a narrow tablet instead of cutting columns off (cells read
        # Markdown: the amendment reason is escaped); an assessment is chosen in the box below it.
        st.table([{**row, "Amendment": md_escape(row["Amendment"]) if row["Amendment"] else "",
                   "Percentile": md_escape(row["Percentile"] or "—"), "Time (s)": "—" if row["Time (s)"] is None else f"{row['Time (s)']:.2f}"}
                  for row in table], hide_index=True)
        by_id = {h.id: h for h in hist}
        picked = st.selectbox("Open an assessment", list(by_id), index=None, key="history_assessment",
                              placeholder="Choose an assessment (ID)",
                              format_func=lambda i: f"{by_id[i].assessed_on.isoformat()} — ID {i}, version {by_id[i].version}")
        if picked is not None:
            chosen = by_id[picked]
            if chosen.amended:
                with st.expander(f"Versions of assessment {chosen.id}", expanded=True):
                    for v in services.assessment_versions(db, chosen.id, actor=actor()):
                        st.write(f"v{v.version} — {v.created_at:%Y-%m-%d %H:%M} by {md_escape(v.created_by)}: "
                                 f"{'' if v.mean_seconds is None else f'{v.mean_seconds:.2f} s'}"
                                 f"{' — ' + md_escape(v.amendment_reason) if v.amendment_reason else ''}"
                                 f"{' (superseded)' if v.superseded else ''}")
            if st.button("Open this result", key="history_open"):
                st.session_state[RESULT_ID] = chosen.id
                st.switch_page("ui/pages/result.py")

    if hist:
        _amend_form(hist)
    st.subheader("Falls reported at follow-up")
    if falls:
        st.dataframe([{"Date": f.occurred_on, "Injury": f.injury, "Notes": f.notes or "", "Reported by": f.reported_by}
                      for f in falls], hide_index=True, width="stretch")
    else:
        st.write("None recorded.")
    _fall_form(mrn)
