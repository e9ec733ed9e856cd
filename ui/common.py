"""Small widgets and helpers shared by the pages (display only, no clinical logic)."""

from __future__ import annotations

import base64
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


def patient_label(p) -> str:
    """`Family, Given — MRN (born YYYY-MM-DD)` for pickers."""
    return f"{p.family_name}, {p.given_name} — MRN {p.mrn} (born {p.birth_date.isoformat()})"


def clinic_scope() -> str | None:
    """The clinic whose patients the signed-in clinician sees (None: every patient).

    Read from the clinicians table on each run (an admin, or a clinician
    with no clinic, sees everyone), never trusted from session state.
    """
    return services.clinic_scope(database(), actor())


def patient_picker(key: str, *, label: str = "Patient") -> str | None:
    """Search box + picker over records' indexed search; returns the chosen MRN.

    The choice is remembered in session state (UI state) so other pages open
    on the same patient.
    """
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
    if current and current not in options:
        try:
            remembered = services.get_patient(db, current, actor=actor())
        except InputError:
            remembered = None
        if remembered is not None and (scope is None or remembered.clinic == scope):
            options = {current: remembered, **options}
    if not options:
        st.info("No patient matches. Add one on the Patients page.")
        return None
    mrns = list(options)
    index = mrns.index(current) if current in mrns else None
    chosen = st.selectbox(
        label, mrns, index=index, key=f"{key}_pick",
        format_func=lambda m: patient_label(options[m]), placeholder="Choose a patient",
    )
    if chosen:
        st.session_state[SELECTED_MRN] = chosen
    return chosen


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


def file_button(label: str, make: Callable[[], bytes], *, file_name: str, mime: str, key: str,
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
        It may return None when there is nothing to hand over (it has said why).
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
    name = _FILE_NAME_UNSAFE.sub("_", file_name)[:120] or "download"
    kind = mime if re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", mime) else "application/octet-stream"
    _save_component(key=f"{key}_file", data={"name": name, "mime": kind, "token": secrets.token_hex(8),
                                             "b64": base64.b64encode(data).decode("ascii")})
