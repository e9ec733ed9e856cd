"""Patients: search by name or MRN, add and edit, each patient's latest risk,
last assessment date and whether a reassessment is due."""

from __future__ import annotations

from datetime import date

import streamlit as st

from assessment import POPULATION_IDS, populations
from assessment.errors import InputError
from records import services

from .common import RESULT_ID, SELECTED_MRN, clinic_scope, md_escape, patient_label, select_patient, selected_patient, show_error, words
from .resources import actor, database

#: Rows shown per search (their summaries come from one bulk query).
PAGE_SIZE = 20
SEXES = ["female", "male"]
#: Handout languages offered (the store validates them: records.validation.LANGUAGES).
LANGUAGE_LABELS = {"en": "English", "es": "Spanish (español)", "zh-Hans": "Chinese, Simplified (简体中文)"}
#: One-shot confirmation shown after a rerun (UI state).
FLASH = "patients_flash"


def risk_text(summary) -> str:
    """The latest risk in words: the model's category, else the 3MBW band."""
    if not summary.assessed:
        return "not assessed"
    if summary.risk_category:
        return words(summary.risk_category)
    return f"{words(summary.band)} (band)" if summary.band else "—"


def summary_columns(summary) -> dict:
    """Table columns for a :class:`records.views.PatientSummary`."""
    seconds = summary.last_mean_seconds
    return {"Last assessment": summary.last_assessed_on, "Time (s)": None if seconds is None else round(seconds, 2),
            "Risk": risk_text(summary), "Reassess on": summary.reassess_on, "Due": summary.is_due()}


def _add_form(scope: str | None) -> None:
    pops = populations()
    with st.form("add_patient", clear_on_submit=False):
        c1, c2, c3 = st.columns(3)
        mrn = c1.text_input("MRN", key="add_mrn")
        given = c2.text_input("Given name", key="add_given")
        family = c3.text_input("Family name", key="add_family")
        c4, c5, c6 = st.columns(3)
        birth = c4.date_input("Birth date", value=None, min_value=date(1900, 1, 1), max_value=date.today(), key="add_birth")
        sex = c5.selectbox("Sex", SEXES, index=None, key="add_sex")
        population = c6.selectbox("Population", POPULATION_IDS, format_func=lambda p: pops[p].label, key="add_pop")
        # A clinician of a clinic adds patients to it; an admin (or a single-clinic install) may name any.
        clinic = st.text_input("Clinic (leave blank on a single-clinic install)", value=scope or "",
                               disabled=scope is not None, key="add_clinic", max_chars=200)
        language = st.selectbox("Handout language", list(LANGUAGE_LABELS), index=None, key="add_language",
                                format_func=LANGUAGE_LABELS.get, placeholder="Not recorded (English)")
        if st.form_submit_button("Add patient", type="primary"):
            try:
                p = services.add_patient(database(), mrn=mrn, given_name=given, family_name=family,
                                         birth_date=birth, sex=sex, population=population,
                                         clinic=scope if scope is not None else clinic, language=language,
                                         actor=actor())
            except InputError as exc:
                show_error(exc)
                return
            select_patient(p.mrn)
            st.session_state[FLASH] = f"Added {md_escape(p.full_name)} (MRN {md_escape(p.mrn)})."
            for key in ("add_mrn", "add_given", "add_family", "add_birth", "add_sex", "add_clinic", "add_language"):
                st.session_state.pop(key, None)
            st.rerun()


def _edit_form(mrn: str, scope: str | None) -> None:
    db = database()
    pops = populations()
    try:
        p = services.get_patient(db, mrn, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    if scope is not None and p.clinic != scope:
        st.warning(f"MRN {md_escape(mrn)} is not a patient of {md_escape(scope)}.")
        return
    with st.form(f"edit_{mrn}"):
        c1, c2 = st.columns(2)
        given = c1.text_input("Given name", value=p.given_name)
        family = c2.text_input("Family name", value=p.family_name)
        c3, c4, c5 = st.columns(3)
        birth = c3.date_input("Birth date", value=p.birth_date, min_value=date(1900, 1, 1), max_value=date.today())
        sex = c4.selectbox("Sex", SEXES, index=SEXES.index(p.sex) if p.sex in SEXES else None)
        population = c5.selectbox("Population", POPULATION_IDS, index=list(POPULATION_IDS).index(p.population),
                                  format_func=lambda x: pops[x].label)
        clinic = st.text_input("Clinic", value=p.clinic or "", disabled=scope is not None, max_chars=200)
        languages = list(LANGUAGE_LABELS)
        language = st.selectbox("Handout language", languages, format_func=LANGUAGE_LABELS.get,
                                index=languages.index(p.language) if p.language in languages else None,
                                placeholder="Not recorded (English)")
        if st.form_submit_button("Save changes"):
            fields = {"given_name": given, "family_name": family, "birth_date": birth, "sex": sex,
                      "population": population, "language": language}
            if scope is None:
                fields["clinic"] = clinic.strip() or None
            changes = {k: v for k, v in fields.items() if v != getattr(p, k)}
            if not changes:
                st.info("Nothing changed.")
                return
            try:
                services.update_patient(db, mrn, actor=actor(), **changes)
            except InputError as exc:
                show_error(exc)
                return
            st.success("Saved.")


def _cell(column: str, value) -> str:
    """One summary cell as text (one type per column: a date or a number beside a "—" is text too)."""
    if column == "Due":
        return "yes" if value else "no"
    if value is None:
        return "—"
    if column == "Time (s)":
        return f"{value:.2f}"
    return value.isoformat() if isinstance(value, date) else md_escape(value)


def render() -> None:
    """The Patients page."""
    st.title("Patients")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check:")
    db = database()
    try:
        scope = clinic_scope()
    except InputError as exc:
        show_error(exc)
        return
    if scope is not None:
        st.caption(f"Patients of {md_escape(scope)}.")
    term = st.text_input("Search by name or MRN", key="patients_search", placeholder="Type a name or the start of an MRN")
    try:
        found = services.list_patients(db, search=term or None, limit=PAGE_SIZE, clinic=scope, actor=actor())
        summaries = services.patient_summaries(db, [p.mrn for p in found], clinic=scope, actor=actor())
    except InputError as exc:
        show_error(exc)
        found, summaries = [], {}
    if found:
        # A static table (st.table cells read Markdown: patient text is escaped) wraps its text on a
        # narrow tablet instead of cutting columns off; the patient is chosen in the box below it.
        rows = [{"MRN": md_escape(p.mrn), "Name": md_escape(f"{p.family_name}, {p.given_name}"),
                 "Born": p.birth_date.isoformat(), "Population": words(p.population),
                 **{k: _cell(k, v) for k, v in summary_columns(summaries[p.mrn]).items()}} for p in found]
        st.table(rows, hide_index=True)
        st.caption(f"Showing up to {PAGE_SIZE} matches, in name order. Type more of the name to narrow.")
        by_mrn = {p.mrn: p for p in found}
        current = st.session_state.get(SELECTED_MRN)
        # The selection changes only on the clinician's own pick (a callback), never from a stale box value.
        st.selectbox("Open a patient", list(by_mrn), key="patients_pick", placeholder="Choose a patient",
                     index=list(by_mrn).index(current) if current in by_mrn else None,
                     format_func=lambda m: patient_label(by_mrn[m]),
                     on_change=lambda: select_patient(st.session_state.get("patients_pick") or current))
    else:
        st.info("No patient matches." if term else "No patients yet: add the first one below.")
    selected = selected_patient()
    if selected is not None:
        mrn = selected.mrn
        st.subheader(f"Selected: {md_escape(selected.family_name)}, {md_escape(selected.given_name)}")
        st.caption(f"MRN {md_escape(mrn)} · born {selected.birth_date.isoformat()} · {words(selected.population)}"
                   + ("" if any(p.mrn == mrn for p in found) else " · not in the list above (search)"))
        c1, c2, c3, c4 = st.columns(4)
        if c1.button("New assessment", type="primary", icon=":material/directions_walk:", key="go_new"):
            st.switch_page("ui/pages/new_assessment.py")
        if c2.button("History", icon=":material/timeline:", key="go_history"):
            st.switch_page("ui/pages/history.py")
        if c3.button("Latest result", icon=":material/assignment:", key="go_result"):
            st.session_state.pop(RESULT_ID, None)
            st.switch_page("ui/pages/result.py")
        c4.button("Clear selection", icon=":material/close:", key="clear_selection", on_click=select_patient, args=(None,))
        with st.expander("Edit patient details"):
            _edit_form(mrn, scope)
    with st.expander("Add a patient", expanded=not found and not term):
        _add_form(scope)
