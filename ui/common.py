"""Small widgets and helpers shared by the pages (display only, no clinical logic)."""

from __future__ import annotations

import base64
import copy
import functools
import re
import secrets
from collections.abc import Callable
from datetime import date

import streamlit as st

from assessment.errors import InputError
from records import services

from .resources import actor, database, is_admin

#: Session-state keys (UI state only: which patient/assessment is on screen).
SELECTED_MRN = "selected_mrn"
RESULT_ID = "result_assessment_id"

#: Search results shown at once (the records search is indexed and limited).
SEARCH_LIMIT = 50


#: Characters with a meaning in Markdown, escaped by :func:`md_escape`.
_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:")


#: Invisible character that breaks an autolink (WORD JOINER).
_JOINER = "\u2060"
#: The starts of GFM autolinks: "scheme:/", "www." and the "@" of an e-mail address.
_AUTOLINK = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/|www\.|\S@", re.IGNORECASE)


def md_escape(text: object) -> str:
    """User text made literal for ``st.markdown``-style elements.

    Streamlit never renders HTML unless ``unsafe_allow_html`` is set (and
    StepBack never sets it with user text); this also stops a name from
    turning into a link, an image or emphasis. Use plain elements
    (``st.text``, dataframes) where possible instead.

    Backslash escapes do not stop GitHub-flavoured autolinks (``http://…``,
    ``www.…``, ``name@host``), which are found in the text after the escapes
    are resolved; an invisible WORD JOINER (U+2060) breaks each of them, so
    a bare URL in a name is shown, never linked.
    """
    text = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + _JOINER + m.group(0)[-1], str(text))
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)


def require_admin(what: str = "this page") -> None:
    """Stop the page unless the signed-in user is an administrator.

    Admin pages are not in the navigation of other users; this also refuses
    a direct call (the records services check the actor's role again).
    """
    if not is_admin():
        st.error(f"Only an administrator may open {what}.", icon=":material/block:")
        st.stop()


#: Internal field names as the clinician knows them (the first matching prefix wins).
FIELD_WORDS: tuple[tuple[str, str], ...] = (
    ("safety_screen.", "Safety screen: "),
    ("steadi.stay_independent.", "STEADI Stay Independent: "),
    ("steadi.tug_seconds", "Timed Up and Go"),
    ("steadi.chair_stand_count", "30-s chair stands"),
    ("steadi.tandem_seconds", "Tandem stance"),
    ("prior_falls", "Falls in the past 12 months"),
    ("walking_aid", "Walking aid"),
    ("assessed_on", "Assessment date"),
    ("birth_date", "Birth date"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("mrn", "MRN"),
    ("assistive_device", "Walking aid used on the test"),
    ("stop_reason", "Stop rule"),
    ("reason", "Reason"),
    ("name", "Clinic name"),
    ("phone", "Clinic phone"),
    ("address", "Clinic address"),
    ("logo", "Clinic logo"),
)


def field_words(field: str) -> str:
    """An error's field in the clinician's words: ``trial_2.valid`` → ``Walk 2 (valid)``."""
    import re

    walk = re.fullmatch(r"trials?_(\d+)(?:\.(\w+))?", field)
    if walk:
        return f"Walk {walk.group(1)}" + (f" ({words(walk.group(2))})" if walk.group(2) else "")
    for prefix, text in FIELD_WORDS:
        if field == prefix or field.startswith(prefix):
            rest = field[len(prefix):]
            if prefix == "safety_screen." and rest:
                from assessment.program import SAFETY_SCREEN_QUESTIONS

                return text + SAFETY_SCREEN_QUESTIONS.get(rest, words(rest))
            return text + (words(rest) if rest else "")
    return words(field.replace(".", " ")).capitalize() if field else "Input"


def show_error(exc: InputError) -> None:
    """Show a records/assessment error naming the field at fault, in the clinician's words."""
    st.error(f"{md_escape(field_words(exc.field))}: {md_escape(exc.message)}", icon=":material/error:")


def clinic_fields(key: str, current) -> dict:
    """The clinic's name, phone, address and logo inputs (inside a form), as keyword arguments.

    Shared by the first-run form and the Admin page. The logo is uploaded
    (PNG or JPEG; records checks it); with a stored logo and no new file the
    stored one is kept, unless "Remove the logo" is ticked.

    Parameters
    ----------
    key : str
        Prefix of the widgets' keys.
    current : ClinicSettingsView or None
        The stored settings (the inputs start from them).

    Returns
    -------
    dict
        ``name``, ``phone``, ``address``, ``logo`` for :func:`records.services.set_clinic_settings`.
    """
    name = st.text_input("Clinic name", value=current.name if current else "", max_chars=200, key=f"{key}_clinic_name")
    phone = st.text_input("Phone patients call", value=current.phone if current else "", max_chars=40,
                          key=f"{key}_clinic_phone")
    address = st.text_area("Address (optional)", value=(current.address or "") if current else "", max_chars=300,
                           key=f"{key}_clinic_address", height=80)
    upload = st.file_uploader("Logo (optional): PNG or JPEG, up to 512 KB", type=["png", "jpg", "jpeg"],
                              key=f"{key}_clinic_logo")
    remove = False
    if current is not None and current.logo:
        remove = st.checkbox("Remove the logo", key=f"{key}_clinic_logo_remove")
    if upload is not None:
        logo = upload.getvalue()
    elif remove:
        logo = None
    else:
        logo = services.KEEP_LOGO if current is not None else None
    return {"name": name, "phone": phone, "address": address, "logo": logo}


def patient_label(p) -> str:
    """`Family, Given — MRN (born YYYY-MM-DD)` for pickers."""
    return f"{p.family_name}, {p.given_name} — MRN {p.mrn} (born {p.birth_date.isoformat()})"


def clinic_scope() -> str | None:
    """The clinic whose patients the signed-in clinician sees (None: every patient).

    Read from the clinicians table on each run (an admin, or a clinician
    with no clinic, sees everyone), never trusted from session state.
    """
    return services.clinic_scope(database(), actor())


def select_patient(mrn: str | None) -> None:
    """Make ``mrn`` the one selected patient of this session (None: none).

    Every patient page reads the patient from this one selection. A change
    drops what belonged to the previous patient: the open result and the
    PDF preview (the wizard checks its own draft against the selection).
    """
    if st.session_state.get(SELECTED_MRN) != mrn:
        for key in (RESULT_ID, *PATIENT_BOUND_KEYS):
            st.session_state.pop(key, None)
    if mrn is None:
        st.session_state.pop(SELECTED_MRN, None)
    else:
        st.session_state[SELECTED_MRN] = mrn


#: Other session keys that hold one patient's data (dropped with the selection).
PATIENT_BOUND_KEYS = ("result_preview",)


def selected_patient():
    """The selected patient, read again from records (scope checked there), or None.

    A selection the signed-in clinician may no longer see (another clinic,
    a patient removed by a restore) is dropped.
    """
    mrn = st.session_state.get(SELECTED_MRN)
    if not mrn:
        return None
    try:
        patient = services.get_patient(database(), mrn, actor=actor())
    except InputError:
        patient = None
    if patient is None:
        select_patient(None)
    return patient


def patient_picker(key: str, *, label: str = "Patient") -> str | None:
    """Search box + picker over records' indexed search; sets the one selection and returns its MRN."""
    db = database()
    current = st.session_state.get(SELECTED_MRN)
    term = st.text_input(
        f"Find {label.lower()} by name or MRN", key=f"{key}_search",
        placeholder="e.g. Garcia or MRN prefix",
    )
    try:
        scope = clinic_scope()
        found = services.list_patients(db, search=term or None, limit=SEARCH_LIMIT, clinic=scope, actor=actor())
    except InputError as exc:
        show_error(exc)
        return None
    options = {p.mrn: p for p in found}
    if not options:
        st.info("No patient matches. Add one on the Patients page.")
        return None
    mrns = list(options)
    index = mrns.index(current) if current in mrns else None
    pick_key = f"{key}_pick"
    # The selection changes only on the clinician's own pick (a callback), never
    # because a stale widget value differs from a selection made on another page.
    chosen = st.selectbox(
        label, mrns, index=index, key=pick_key,
        format_func=lambda m: patient_label(options[m]), placeholder="Choose a patient",
        on_change=lambda: select_patient(st.session_state.get(pick_key) or current),
    )
    return chosen


def patient_header(key: str, *, change: bool = True):
    """The fixed patient header of a patient page: name, MRN, birth date (and age, population).

    It stays at the top of the page while the page scrolls, and shows the
    one selected patient; "Change patient" opens the search in a popover.
    With no selection it shows the search itself.

    Parameters
    ----------
    key : str
        Prefix of the widgets' keys (one per page).
    change : bool
        Offer "Change patient" (False while a step must not switch patient).

    Returns
    -------
    PatientView or None
        The selected patient; None when none is selected yet.
    """
    patient = selected_patient()
    if patient is None:
        patient_picker(key)
        return None
    st.markdown(  # static CSS, no user text: the header stays under Streamlit's top bar while the page scrolls
        "<style>div[data-testid='stLayoutWrapper']:has(> .st-key-patient_header){position:sticky;top:3.75rem;"
        "z-index:990;background:var(--st-background-color,#fff);}"
        ".st-key-patient_header{background:var(--st-background-color,#fff);border-bottom:2px solid #1f6f5c;"
        "padding:.25rem 0 .4rem 0;}.st-key-patient_header p{margin-bottom:0;}</style>",
        unsafe_allow_html=True,
    )
    with st.container(key="patient_header"):
        who, action = st.columns([3, 1], vertical_alignment="center")
        who.markdown(
            f"**{md_escape(patient.family_name)}, {md_escape(patient.given_name)}** · "
            f"MRN {md_escape(patient.mrn)} · born {patient.birth_date.isoformat()} "
            f"({patient.age()} y) · {words(patient.population)}"
        )
        if change:
            with action.popover("Change patient", icon=":material/person_search:", width="stretch"):
                patient_picker(f"{key}_change")
    return patient


def seconds_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def words(key: str | None) -> str:
    """snake_case id → readable words."""
    return "—" if key is None else str(key).replace("_", " ")


def today() -> date:
    return date.today()


def percentile_text(percentile: float) -> str:
    """Percentile for display: '<1' and '>99' at the ends, whole numbers otherwise."""
    if percentile < 1:
        return "<1"
    if percentile > 99:
        return ">99"
    return f"{percentile:.0f}"


#: Characters allowed in a file name handed to the browser.
_FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

#: The hand-over: fixed markup; the file arrives as component data (JSON over
#: the session's WebSocket) and is set with ``textContent``/``download``, never as HTML.
_SAVE_HTML = '<div class="sb-save"><a class="sb-save-link" href="#">Save</a></div>'
_SAVE_CSS = """
.sb-save-link { display: inline-block; padding: .45rem .9rem; border-radius: .5rem; background: #1f6f5c;
                color: #fff !important; text-decoration: none; font-family: sans-serif; }
"""
_SAVE_JS = """
export default function (component) {
  const { parentElement, data } = component;
  const link = parentElement.querySelector('.sb-save-link');
  if (!link || !data || link.dataset.token === data.token) { return; }
  link.dataset.token = data.token;
  const raw = atob(data.b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
  if (link.href.startsWith('blob:')) { URL.revokeObjectURL(link.href); }
  link.href = URL.createObjectURL(new Blob([bytes], { type: data.mime }));
  link.download = data.name;
  link.textContent = 'Save ' + data.name;
  link.click();
}
"""
_save_component = st.components.v2.component("stepback_file", html=_SAVE_HTML, css=_SAVE_CSS, js=_SAVE_JS)


#: Below this viewport width (CSS px) the sidebar starts collapsed: on a tablet the screen is for the page.
SIDEBAR_COLLAPSE_BELOW = 1200

#: Touch-first CSS for every page, in one place (static, no user text). 2.75rem = 44 px, the
#: WCAG 2.5.5 target size, for every control a finger taps in the main area.
_TABLET_CSS = """<style>
[data-testid="stMain"] button, [data-testid="stMain"] [data-testid="stPageLink-NavLink"],
[data-testid="stMain"] [role="tab"], [data-testid="stMain"] [data-testid="stExpander"] summary,
[data-testid="stMain"] [data-testid="stSelectbox"] [role="group"],
[data-testid="stMain"] [data-testid="stMultiSelect"] [role="group"] { min-height: 2.75rem; }
[data-testid="stMain"] button, [data-testid="stMain"] [role="tab"] { min-width: 2.75rem; }
/* Text and number boxes: Streamlit draws them 36 px high. */
[data-testid="stMain"] [data-testid="stTextInputRootElement"], [data-testid="stMain"] [data-testid="stTextInputField"],
[data-testid="stMain"] [data-testid="stNumberInputContainer"], [data-testid="stMain"] [data-testid="stNumberInputField"] {
  min-height: 2.75rem; }
[data-testid="stMain"] [data-testid="stRadio"] label, [data-testid="stMain"] [data-testid="stCheckbox"] label {
  min-height: 2.75rem; min-width: 2.75rem; align-items: center; }
[data-testid="stMain"] [data-testid="stRadio"] [role="radiogroup"] { column-gap: 1.5rem; }
/* The day, month and year of a date box are separate targets: at least 24 px each (WCAG 2.5.8). */
[data-testid="stMain"] [data-testid="stDateInput"] [role="spinbutton"] {
  display: inline-block; min-width: 1.5rem; min-height: 1.5rem; text-align: center; }
/* Heading anchors appear on hover only (a tablet has none) and are 16 px. */
[data-testid="stMain"] [data-testid="stHeaderActionElements"] { display: none; }
/* Captions at WCAG AA contrast: Streamlit fades them to 60 % opacity (about 3:1 on white). */
[data-testid="stCaptionContainer"] { opacity: 1 !important; color: #5c5f66 !important; }
/* Nothing a decision rests on is cut off with an ellipsis on a narrow screen: labels,
   metrics and table cells wrap instead. */
[data-testid="stMain"] .stMarkdownEllipsis { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; }
[data-testid="stTable"] td, [data-testid="stTable"] th, [data-testid="stTable"] td *, [data-testid="stTable"] th * {
  white-space: normal !important; overflow-wrap: anywhere; }
/* Less blank space above the page (Streamlit leaves 6rem): the controls sit higher on a tablet. */
[data-testid="stMainBlockContainer"] { padding-top: 4rem !important; }
.st-key-sb_viewport { display: none; }
</style>"""

#: Reports whether the browser's viewport is narrower than ``data.below`` (again when that changes).
_VIEWPORT_JS = """
export default function (component) {
  const { parentElement, setStateValue, data } = component;
  const narrow = window.innerWidth < data.below;
  if (parentElement.__narrow !== narrow) {
    parentElement.__narrow = narrow;
    setStateValue('narrow', narrow);
  }
}
"""
_VIEWPORT_HTML = "<span></span>"
_viewport_component = st.components.v2.component("stepback_viewport", html=_VIEWPORT_HTML, js=_VIEWPORT_JS)


def tablet_layout() -> None:
    """The touch-first CSS, and the sidebar collapsed by default on a viewport narrower than 1200 px.

    Streamlit's ``initial_sidebar_state="auto"`` collapses the sidebar only
    below its own 768 px breakpoint, which leaves it open on tablets (37 %
    of an 820 px portrait screen). The browser reports its width once (and
    when it crosses the threshold); the page config then asks for a
    collapsed sidebar. The sidebar's own toggle still opens it, and a
    clinician's choice is kept by Streamlit (local storage).
    """
    st.html(_TABLET_CSS)
    with st.container(key="sb_viewport"):
        state = _viewport_component(key="viewport", data={"below": SIDEBAR_COLLAPSE_BELOW},
                                    on_narrow_change=lambda: None)
    narrow = getattr(state, "narrow", None)
    if narrow is not None:
        st.set_page_config(initial_sidebar_state="collapsed" if narrow else "auto")


def file_button(label: str, make: Callable[[], bytes | tuple[bytes, str] | None], *, file_name: str, mime: str, key: str,
                primary: bool = False, icon: str = ":material/download:", disabled: bool = False) -> None:
    """A download that never leaves patient data at a URL.

    ``st.download_button`` stores the file in Streamlit's media manager,
    where ``/media/<id>`` serves it to anyone holding the id, with no session
    check, for as long as the page stays open (and its deferred ``data``
    callable runs for any session given the id). Here the file is built only
    when the signed-in user clicks, in their own rerun (after the sign-in
    and session checks of ``app.py``), and travels over their live
    WebSocket as component data (JSON, never at a URL) and is saved from a
    ``blob:`` URL, local to that browser tab. The next rerun (any click,
    sign-out, timeout) removes the component and the data with it.

    Parameters
    ----------
    label : str
        The button's text.
    make : callable
        Builds the bytes (and writes its audit row); called only on the click.
        It may return None when there is nothing to hand over (it has said why),
        or ``(bytes, file name)`` when the name is known only once it is built.
    file_name : str
        Sanitised to letters, digits, ``_ . -``.
    mime : str
        One of the fixed types used by the pages.
    key : str
        Widget key.
    """
    if not st.button(label, key=key, type="primary" if primary else "secondary", icon=icon, disabled=disabled):
        return
    data = make()
    if data is None:
        return
    if isinstance(data, tuple):
        data, file_name = data
    name = _FILE_NAME_UNSAFE.sub("_", file_name)[:120] or "download"
    kind = mime if re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", mime) else "application/octet-stream"
    _save_component(key=f"{key}_file", data={"name": name, "mime": kind, "token": secrets.token_hex(8),
                                             "b64": base64.b64encode(data).decode("ascii")})


@functools.lru_cache(maxsize=1024)
def _chart_spec(build: Callable[..., object], args: tuple) -> dict:
    return build(*args).to_dict()


def cached_chart(build: Callable[..., object], *args) -> None:
    """Draw the Altair chart ``build(*args)``, building its Vega-Lite spec once per process per ``args``.

    Building an Altair chart and validating its spec took about 40 ms of a
    Result or History rerun (a third of the Result page), on every rerun.
    ``build`` must be a module-level function of hashable arguments whose
    chart depends on nothing else.
    """
    st.vega_lite_chart(spec=copy.deepcopy(_chart_spec(build, args)), width="stretch")
