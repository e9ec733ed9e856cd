"""New assessment: the guided 3MBW wizard.

Steps: patient → safety screen → set-up checklist → script → practice walk →
timed trials (stopwatch or typed time; stop rules one tap away) →
observations (what happened on each saved walk: lost balance, hands-on
help, not valid and why, steps; set or corrected after the walk) →
optional STEADI items → review → finalize. The draft is created in the database when
the timed trials begin and every trial is saved the moment it is recorded;
session state holds only the step, the draft's id and the answers of the
pre-test steps not yet submitted. Reopening the page offers to resume any
open draft from the database.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from assessment.errors import InputError
from assessment.program import SAFETY_SCREEN_QUESTIONS
from assessment.protocol import (
    DEFAULT_TIMED_TRIALS,
    GUARDING,
    MAX_TIMED_TRIALS,
    PACE,
    SETUP_CHECKLIST,
    START_TIMING,
    STOP_REASON_TEXT,
    VERBAL_SCRIPT,
    AssistiveDevice,
    Footwear,
    StartConvention,
    StopReason,
)
from assessment.steadi import stay_independent_items
from records import services

from . import camera, flow
from .common import RESULT_ID, md_escape, patient_header, select_patient, selected_patient, show_error, words
from .resources import actor, database, fall_risk_model
from .signin import fragment_run, fragment_tap
from .stopwatch import stopwatch

STEP = "wizard_step"
DRAFT = "wizard_draft_id"
PRETEST = "wizard_pretest"  # pre-test answers until the draft is created (seconds)
LAST_LAP = "wizard_last_lap"
CAMERA_WAIT = "wizard_camera_wait"  # draft id: Continue tapped while a camera time was still coming
OWNER = "wizard_patient"  # MRN of the patient whose assessment the wizard is on (pre-test or draft)

STEPS = ("patient", "safety", "setup", "script", "practice", "trials", "observations", "steadi", "review")
STEP_TITLES = {
    "patient": "Patient", "safety": "Safety screen", "setup": "Set-up checklist", "script": "Script",
    "practice": "Practice walk", "trials": "Timed walks", "observations": "Observations",
    "steadi": "STEADI (optional)", "review": "Review",
}
#: Steps that work on a draft stored in the database.
DRAFT_STEPS = ("trials", "observations", "steadi", "review")

#: Go/no-go questions asked before any walk (product checks; a "no" means do not test today).
GO_QUESTIONS = {
    "can_stand_and_walk_unaided": "Can the patient stand up and walk without hands-on help?",
    "agrees_to_test": "Does the patient understand the test and agree to do it?",
    "no_pain_or_dizziness_now": "Is the patient free of pain and dizziness right now?",
}


PRIOR_FALLS = {0: "None", 1: "One", 2: "Two or more"}
#: Every yes/no question of the wizard offers its answers in this order (a tap never lands on a flipped pair).
YES_NO = ["Yes", "No"]


def _go(step: str) -> None:
    st.session_state[STEP] = step


def _rerun_part() -> None:
    """Rerun what the tap ran: only the fragment in a fragment rerun, else the whole page.

    The timed walks, observations and STEADI steps are fragments (a tap there
    reruns only that step); a change of step reruns the app
    (``st.rerun(scope="app")``).
    """
    st.rerun(scope="fragment" if fragment_run() else "app")


def _reset() -> None:
    for key in (STEP, DRAFT, PRETEST, LAST_LAP, PENDING_TYPED, PENDING_END, UNDO_END, OWNER, CAMERA_WAIT):
        st.session_state.pop(key, None)


def _progress(step: str) -> None:
    index = STEPS.index(step)
    st.progress(index / (len(STEPS) - 1), text=f"Step {index + 1} of {len(STEPS)}: {STEP_TITLES[step]}")


def _big_css() -> None:
    # Static CSS only (no user text): larger touch targets for tablets.
    st.markdown(
        "<style>div[data-testid='stButton'] button, div[data-testid='stFormSubmitButton'] button"
        "{min-height:3.25rem;font-size:1.15rem;}</style>",
        unsafe_allow_html=True,
    )


def _resume_offers(mrn: str | None) -> None:
    """Unfinished assessments (of ``mrn``, or of every patient in the clinician's scope), each with its patient's name."""
    db = database()
    try:
        drafts = services.open_drafts(db, mrn, actor=actor())
        names = {d.mrn: services.get_patient(db, d.mrn, actor=actor()) for d in drafts}
    except InputError as exc:
        show_error(exc)
        return
    for d in drafts:
        n = len(d.trials)
        who = names[d.mrn]
        with st.container(border=True):
            st.write(
                f"**Unfinished assessment** #{d.id} — {md_escape(who.family_name)}, {md_escape(who.given_name)} "
                f"(MRN {md_escape(d.mrn)}, born {who.birth_date.isoformat()}), {d.assessed_on.isoformat()}, "
                f"{n} timed walk{'s' if n != 1 else ''} saved"
                + (f", stopped: {words(d.stop_reason)}" if d.stop_reason else "")
            )
            if st.button("Resume this assessment", key=f"resume_{d.id}", type="primary", icon=":material/play_arrow:"):
                select_patient(d.mrn)
                st.session_state[DRAFT] = d.id
                st.session_state[OWNER] = d.mrn
                _go(("observations" if d.trials else "review") if d.stop_reason else "trials")
                st.rerun()


# ---------------------------------------------------------------- steps


def _step_patient() -> None:
    patient = selected_patient()
    _resume_offers(None)
    if patient is not None and st.button(
        f"Begin a new assessment of {patient.given_name} {patient.family_name}", type="primary", key="begin",
        icon=":material/arrow_forward:",
    ):
        st.session_state[PRETEST] = {"mrn": patient.mrn}
        st.session_state[OWNER] = patient.mrn
        _go("safety")
        st.rerun()


def _step_safety() -> None:
    pre = st.session_state.setdefault(PRETEST, {})
    st.subheader("Safety screen")
    with st.form("safety_form"):
        go = {k: st.radio(q, YES_NO, index=None, horizontal=True, key=f"go_{k}") for k, q in GO_QUESTIONS.items()}
        st.markdown("**Screen for the starting program** (asked now, used after the test)")
        screen = {
            k: st.radio(SAFETY_SCREEN_QUESTIONS[k], YES_NO, index=None, horizontal=True, key=f"scr_{k}")
            for k in flow.PRE_TEST_KEYS
        }
        prior = st.radio("Falls in the past 12 months", list(PRIOR_FALLS), index=None, horizontal=True,
                         format_func=PRIOR_FALLS.get, key="prior_falls")
        c1, c2, c3 = st.columns(3)
        assessed_on = c1.date_input("Assessment date", value=date.today(), max_value=date.today(), key="assessed_on")
        footwear = c2.selectbox("Footwear", [f.value for f in Footwear], format_func=words, key="footwear")
        device = c3.selectbox("Assistive device during the walk", [a.value for a in AssistiveDevice],
                              format_func=words, key="device")
        start = st.radio("Start convention", [s.value for s in StartConvention], horizontal=True,
                         format_func=lambda s: f"{s} start", key="start_conv")
        st.caption(START_TIMING[StartConvention(start)] if start else "")
        submitted = st.form_submit_button("Continue", type="primary")
    _back("patient", key="safety_back")
    if not submitted:
        return
    missing = [GO_QUESTIONS[k] for k, v in go.items() if v is None] + [
        SAFETY_SCREEN_QUESTIONS[k] for k, v in screen.items() if v is None]
    if prior is None:
        missing.append("Falls in the past 12 months")
    if missing:
        st.error("**safety_screen**: please answer: " + "; ".join(missing))
        return
    if any(v == "No" for v in go.values()):
        st.error("**safety_screen**: do not test today — "
                 + "; ".join(GO_QUESTIONS[k] for k, v in go.items() if v == "No") + " (answered No).")
        return
    pre.update(
        # Only the program's seven keys are stored (records validates them); the
        # in-test item is False at the start and derived from the walks later.
        safety_screen={**{k: v == "Yes" for k, v in screen.items()}, flow.IN_TEST_KEY: False},
        prior_falls=prior, walking_aid=screen["uses_walking_aid"] == "Yes",
        assessed_on=assessed_on.isoformat(), footwear=footwear, assistive_device=device, start=start,
    )
    _go("setup")
    st.rerun()


def _step_setup() -> None:
    st.subheader("Set-up checklist")
    ticks = [st.checkbox(item.text, key=f"chk_{item.key}") for item in SETUP_CHECKLIST]
    c1, c2 = st.columns(2)
    if c1.button("Back", key="setup_back"):
        _go("safety")
        st.rerun()
    if c2.button("All done — continue", type="primary", key="setup_next", disabled=not all(ticks)):
        st.session_state[PRETEST]["setup_checklist_confirmed"] = True
        _go("script")
        st.rerun()
    if not all(ticks):
        st.caption("Tick every item to continue.")


def _step_script() -> None:
    st.subheader("Read this to the patient")
    st.markdown(f"### “{VERBAL_SCRIPT}”")
    st.info(f"Pace: {PACE}. {GUARDING}", icon=":material/info:")
    c1, c2 = st.columns(2)
    if DRAFT in st.session_state:  # back from the timed walks: the pre-test answers are saved with the draft
        c1.button("Back", key="script_back", disabled=True,
                  help="The safety screen and set-up are saved with the draft; to change them, discard this draft.")
    else:
        _back("setup", key="script_back", where=c1)
    if c2.button("I have read the script", type="primary", key="script_next"):
        _go("practice")
        st.rerun()


def _step_practice() -> None:
    st.subheader("Practice walk (not timed)")
    st.write("Let the patient walk the course once, backwards, with you guarding. Do not time it.")
    if DRAFT in st.session_state:  # back from the timed walks: the practice walk is recorded with the draft
        _practice_again(st.session_state[DRAFT])
        return
    done = st.radio("Practice walk", ["Done", "Not done"], index=None, horizontal=True, key="practice_done")
    c1, c2 = st.columns(2)
    _back("script", key="practice_back", where=c1)
    if c2.button("Start the timed walks", type="primary", key="practice_next", disabled=done is None):
        try:
            _start_draft(practice_done=done == "Done")
        except InputError as exc:
            show_error(exc)
            return
        _go("trials")
        st.rerun()
    st.divider()
    if st.button("End test…", key="practice_end", icon=":material/front_hand:"):
        st.session_state[PENDING_END] = {"seconds": None}
        st.rerun()
    _confirm_end(None, None)


def _back(step: str, *, key: str, where=st) -> None:
    """A "Back" button to ``step`` (in ``where``: the page or a column); tapped, the wizard reruns there."""
    if where.button("Back", key=key, icon=":material/arrow_back:"):
        _go(step)
        st.rerun()


def _practice_again(draft_id: int) -> None:
    """The practice step reached with Back from the timed walks: what is recorded, and the way back."""
    view = _draft_view(leave_if_final=True)
    if view is None:
        return
    st.info(f"The practice walk is recorded as {'done' if view.practice_walk_done else 'not done'}. "
            "A further practice walk is not timed.", icon=":material/info:")
    c1, c2 = st.columns(2)
    _back("script", key="practice_back", where=c1)
    if c2.button("Back to the timed walks", type="primary", key="practice_next"):
        _go("trials")
        st.rerun()
    st.divider()
    if st.button("End test…", key="practice_end", icon=":material/front_hand:"):
        st.session_state[PENDING_END] = {"seconds": None}
        st.rerun()
    _confirm_end(draft_id, view.start)


def _start_draft(*, practice_done: bool) -> int:
    """Create the draft from the pre-test answers (when the timed walks begin, or a stop on the practice walk)."""
    pre = st.session_state.get(PRETEST) or {}
    draft_id = services.start_assessment(
        database(), pre["mrn"], assessed_on=pre["assessed_on"], start=pre["start"],
        footwear=pre["footwear"], assistive_device=pre["assistive_device"],
        safety_screen=pre["safety_screen"], practice_walk_done=practice_done, prior_falls=pre["prior_falls"],
        walking_aid=pre["walking_aid"], actor=actor(),
    )
    st.session_state[DRAFT] = draft_id
    st.session_state[OWNER] = pre["mrn"]
    st.session_state.pop(PRETEST, None)
    return draft_id


PENDING_END = "wizard_pending_end"  # {"seconds": float | None}: "End test…" tapped, not yet confirmed
UNDO_END = "wizard_undo_end"  # {"draft": id, "trial": number | None}: a stop that can be undone until the next step


def _confirm_end(draft_id: int | None, start: str | None) -> None:
    """Ask why the test ends and confirm; keep the walk being timed as a recorded walk that does not count.

    ``draft_id`` is None on the practice step (the draft is created to record the stop).
    """
    pending = st.session_state.get(PENDING_END)
    if pending is None:
        return
    with st.container(border=True):
        st.markdown("### End the test?")
        seconds = pending.get("seconds")
        if seconds is not None:
            st.write(f"The walk being timed ({seconds:.2f} s) is kept as a recorded walk that does not count.")
        reason = st.radio("Why does the test end?", list(StopReason), index=None,
                          format_func=lambda r: STOP_REASON_TEXT[r], key="end_reason")
        c1, c2 = st.columns(2)
        if c2.button("Go back to the test", key="end_cancel", icon=":material/undo:"):
            st.session_state.pop(PENDING_END)
            _rerun_part()
        if not c1.button("End the test", key="end_confirm", type="primary", disabled=reason is None,
                         icon=":material/front_hand:"):
            return
    try:
        if draft_id is None:
            draft_id = _start_draft(practice_done=False)
            start = services.get_assessment(database(), draft_id, actor=actor()).start
        kept = None
        if seconds is not None:
            kept = services.record_trial(database(), draft_id, {
                "seconds": seconds, "timing_source": "stopwatch", "start": start, "valid": False,
                "invalid_reason": f"Test ended: {STOP_REASON_TEXT[reason]}"}, actor=actor()).number
        services.stop_assessment(database(), draft_id, reason.value, actor=actor())
        saved = services.get_assessment(database(), draft_id, actor=actor()).trials
    except InputError as exc:
        show_error(exc)
        return
    st.session_state.pop(PENDING_END)
    st.session_state[UNDO_END] = {"draft": draft_id, "trial": kept, "reason": reason.value}
    # Say what happened on the walks done so far (e.g. the hands-on help that stopped the test).
    _go("observations" if saved else "review")
    st.rerun(scope="app")


def _undo_end_offer(draft_id: int) -> None:
    """On the step after a stop: say so, and offer to undo it (until the clinician moves on)."""
    undo = st.session_state.get(UNDO_END)
    if not undo or undo["draft"] != draft_id:
        return
    c1, c2 = st.columns([3, 1])
    c1.warning(f"Test ended: {STOP_REASON_TEXT[StopReason(undo['reason'])]}.", icon=":material/front_hand:")
    if c2.button("Undo: go on with the test", key="end_undo", icon=":material/undo:"):
        try:
            services.resume_assessment(database(), draft_id, actor=actor())
            if undo["trial"] is not None:
                services.remove_trial(database(), draft_id, undo["trial"], reason="stop_undone", actor=actor())
        except InputError as exc:
            show_error(exc)
            return
        st.session_state.pop(UNDO_END)
        _go("trials")
        st.rerun(scope="app")


def _save_trial(draft_id: int, raw: dict):
    """Save a walk; return it (None after showing why it could not be saved)."""
    try:
        trial = services.record_trial(database(), draft_id, raw, actor=actor())
    except InputError as exc:
        show_error(exc)
        return None
    st.toast(f"Walk {trial.number} saved: {trial.seconds:.2f} s ({trial.timing_source})")
    return trial


def _draft_view(*, leave_if_final: bool = False):
    """The draft being run, read back from the database (None after showing why not).

    With ``leave_if_final``, a draft finalised meanwhile (in another tab)
    sends the wizard to its Result instead.
    """
    try:
        view = services.get_assessment(database(), st.session_state[DRAFT], actor=actor())
    except InputError as exc:
        show_error(exc)
        return None
    if leave_if_final and view.is_final:
        st.session_state[RESULT_ID] = view.id
        _reset()
        st.rerun(scope="app")
    return view


PENDING_TYPED = "wizard_pending_typed"
#: Typed times outside these bounds (seconds) are asked about before saving: a 3 m backward
#: walk over 30 s is flagged by the gatekeeper too (assessment.inputs.Trial.flagged_slow).
TYPED_PLAUSIBLE = (1.0, 30.0)


def likely_intended(typed: float) -> float | None:
    """The time a clinician probably meant when ``typed`` is implausible (a slipped decimal point), else None."""
    low, high = TYPED_PLAUSIBLE
    if typed > high and low <= typed / 10 <= high:
        return round(typed / 10, 2)
    if typed < low and low <= typed * 10 <= high:
        return round(typed * 10, 2)
    return None


def _confirm_typed(draft_id: int, start: str) -> None:
    """Ask about an implausible typed time: the likely intended value, the value as typed, or neither."""
    typed = st.session_state.get(PENDING_TYPED)
    if typed is None:
        return
    guess = likely_intended(typed)
    st.warning(f"{typed:.2f} s is unusual for a 3 m walk. Did you mean {guess:.2f} s?", icon=":material/help:")
    c1, c2, c3 = st.columns(3)
    chosen = None
    if c1.button(f"Save {guess:.2f} s", type="primary", key="typed_guess"):
        chosen = guess
    if c2.button(f"Save {typed:.2f} s as typed", key="typed_as_is"):
        chosen = typed
    if c3.button("Cancel", key="typed_cancel"):
        st.session_state.pop(PENDING_TYPED)
        _rerun_part()
    if chosen is not None:
        st.session_state.pop(PENDING_TYPED)
        if _save_trial(draft_id, {"seconds": chosen, "timing_source": "manual", "start": start}):
            _rerun_part()


@st.fragment
def _step_trials() -> None:
    fragment_tap()
    draft_id = st.session_state[DRAFT]
    view = _draft_view(leave_if_final=True)
    if view is None:
        return
    if view.stop_reason:
        _go("review")
        st.rerun(scope="app")
    _confirm_end(draft_id, view.start)
    n = len(view.trials)
    full = n >= MAX_TIMED_TRIALS
    if n < DEFAULT_TIMED_TRIALS:
        st.subheader(f"Timed walk {n + 1} of {DEFAULT_TIMED_TRIALS} ({view.start} start)")
    elif not full:
        st.subheader(f"{n} walks saved — an extra walk is optional ({view.start} start)")
    else:
        st.subheader(f"{n} walks saved (the most allowed)")
    lap = stopwatch(
        key=f"stopwatch_{draft_id}", disabled=full,
        disabled_note=f"{MAX_TIMED_TRIALS} walks recorded." if full else "",
        saved_note=(f"Walk {n} saved: {view.trials[-1].seconds:.2f} s" if n else ""),
        start=view.start,
    )
    if lap is not None and lap["id"] != st.session_state.get(LAST_LAP) and lap["end"]:
        st.session_state[LAST_LAP] = lap["id"]
        st.session_state[PENDING_END] = {"seconds": lap["seconds"] if n < MAX_TIMED_TRIALS else None}
        _rerun_part()
    if lap is not None and lap["id"] != st.session_state.get(LAST_LAP):
        st.session_state[LAST_LAP] = lap["id"]
        saved = _save_trial(draft_id, {"seconds": lap["seconds"], "timing_source": "stopwatch", "start": view.start})
        if saved:
            camera.remember_lap(draft_id, lap["id"], saved.number, camera=lap.get("camera", False))
            _rerun_part()
    camera.save_pending(draft_id)
    # Below the stopwatch, so that Start and Stop are on a tablet's screen without scrolling.
    st.caption(START_TIMING[StartConvention(view.start)])
    st.caption("Record the time now; what happened on the walk (lost balance, hands-on help, not valid) "
               "is noted on the next step.")
    with st.expander("Type a time measured with another stopwatch", icon=":material/keyboard:"):
        with st.form("manual_time", clear_on_submit=True):
            typed = st.number_input("Seconds", min_value=0.0, max_value=999.0, value=None, step=0.01,
                                    format="%.2f", key="manual_seconds")
            if st.form_submit_button("Save typed time", type="primary"):
                if typed is None:
                    st.error("Seconds: type the time in seconds, e.g. 4.25")
                elif likely_intended(typed) is not None:
                    st.session_state[PENDING_TYPED] = typed  # ask first (below)
                elif _save_trial(draft_id, {"seconds": typed, "timing_source": "manual", "start": view.start}):
                    _rerun_part()
    _confirm_typed(draft_id, view.start)
    if view.trials:
        st.markdown("**Saved walks**")
        st.dataframe(
            [{"Walk": t.number, "Seconds": round(t.seconds, 2), "Timing": t.timing_source,
              "Valid": "yes" if t.valid else f"no ({t.invalid_reason})", "Lost balance": t.loss_of_balance,
              "Hands-on help": t.hands_on_assistance} for t in view.trials],
            hide_index=True, width="stretch",
        )
    camera.camera_times(draft_id, view.trials)
    if n >= DEFAULT_TIMED_TRIALS or full:
        st.success(f"{n} timed walks saved.")
    c1, c2 = st.columns(2)
    _back("practice", key="trials_back", where=c1)
    if c2.button("Continue to the observations", type="primary" if n >= DEFAULT_TIMED_TRIALS else "secondary",
                 key="trials_next", disabled=n == 0):
        st.session_state[CAMERA_WAIT] = draft_id
    if st.session_state.get(CAMERA_WAIT) == draft_id:
        # Continue asked for: go on once no camera time is still coming (it comes a few seconds
        # after Stop, and is lost if the step is left first), or now if the clinician says so.
        waiting_for = camera.awaiting(draft_id)
        if waiting_for:
            walks = ", ".join(str(w) for w in waiting_for)
            st.info(f"The camera is still timing walk {walks}: this step continues as soon as its time "
                    "is in (a few seconds after Stop).", icon=":material/hourglass_top:")
            if st.button("Continue without the camera time", key="trials_next_no_camera"):
                if camera.leave_without(draft_id):
                    st.session_state.pop(CAMERA_WAIT, None)
                    _go("observations")
                    st.rerun(scope="app")
        else:
            st.session_state.pop(CAMERA_WAIT, None)
            _go("observations")
            st.rerun(scope="app")


#: The reason stored when a walk that needed hands-on help is marked not valid for the clinician.
HANDS_ON_REASON = "Needed hands-on help during the walk"


def _observations(draft_id: int, trial) -> str | None:
    """One saved walk's observations, saved the moment they change (no separate Save).

    Returns a message when what is on screen could not be saved (the page then
    blocks Continue), else None. A walk that needed hands-on help cannot
    count, so ticking it marks the walk not valid with that reason.
    """
    n = trial.number
    keys = {f: f"obs_{f}_{draft_id}_{n}" for f in ("lob", "hands", "valid", "steps", "reason")}
    st.markdown(f"**Walk {n}** — {trial.seconds:.2f} s ({trial.timing_source})")
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
    lob = c1.checkbox("Lost balance", value=trial.loss_of_balance, key=keys["lob"])
    hands = c2.checkbox("Needed hands-on help", value=trial.hands_on_assistance, key=keys["hands"])
    if hands and not trial.hands_on_assistance:  # just ticked: the walk cannot count
        st.session_state[keys["valid"]] = "No"
        if not (st.session_state.get(keys["reason"]) or trial.invalid_reason):
            st.session_state[keys["reason"]] = HANDS_ON_REASON
    valid = c3.radio("Counts as a valid walk", ["Yes", "No"], index=0 if trial.valid else 1,
                     horizontal=True, key=keys["valid"])
    steps = c4.number_input("Steps (optional)", min_value=0, value=trial.steps, step=1, key=keys["steps"])
    reason = st.text_input("If not valid: why?", value=trial.invalid_reason or "", max_chars=200,
                           key=keys["reason"], disabled=valid == "Yes")
    _correct_walk(draft_id, trial)
    wanted = {"loss_of_balance": lob, "hands_on_assistance": hands, "valid": valid == "Yes",
              "invalid_reason": (reason.strip() or None) if valid == "No" else None, "steps": steps}
    changes = {k: v for k, v in wanted.items() if v != getattr(trial, k)}
    changes = {k: v for k, v in changes.items() if v is not None or k == "invalid_reason"}
    if not changes:
        return None
    if changes.get("valid") is False and not wanted["invalid_reason"]:
        return f"Walk {n} is marked not valid: say why (not saved until you do)."
    if "invalid_reason" in changes and changes["invalid_reason"] is None:
        changes.pop("invalid_reason")  # marking it valid again clears the reason in the store
    if not changes:
        return None
    try:
        services.update_trial_observations(database(), draft_id, n, actor=actor(), **changes)
    except InputError as exc:
        return f"Walk {n}: {exc.message} (not saved)."
    st.caption(f":material/check: Walk {n}: saved")
    return None


def _correct_walk(draft_id: int, trial) -> None:
    """Correct a saved walk's time, or remove the walk, with a reason (audited)."""
    n = trial.number
    with st.popover(f"Correct or remove walk {n}", icon=":material/edit:"):
        why = st.selectbox("Why?", list(services.CORRECTION_REASONS), format_func=services.CORRECTION_REASONS.get,
                           key=f"fix_reason_{draft_id}_{n}")
        seconds = st.number_input("Corrected time, seconds", min_value=0.0, max_value=999.0, value=trial.seconds,
                                  step=0.01, format="%.2f", key=f"fix_seconds_{draft_id}_{n}")
        c1, c2 = st.columns(2)
        try:
            if c1.button("Save corrected time", key=f"fix_save_{draft_id}_{n}", type="primary"):
                services.correct_trial_time(database(), draft_id, n, seconds, reason=why, actor=actor())
                _rerun_part()
            if c2.button(f"Remove walk {n}", key=f"fix_remove_{draft_id}_{n}"):
                services.remove_trial(database(), draft_id, n, reason=why, actor=actor())
                _rerun_part()
        except InputError as exc:
            show_error(exc)


@st.fragment
def _step_observations() -> None:
    fragment_tap()
    draft_id = st.session_state[DRAFT]
    view = _draft_view(leave_if_final=True)
    if view is None:
        return
    _undo_end_offer(draft_id)
    st.subheader("What happened on each walk")
    st.caption("Tick what you saw: each answer is saved as you enter it. A walk that needed hands-on help "
               "cannot count. Nothing here changes the recorded times.")
    if not view.trials:
        st.info("No timed walk was saved.")
    unsaved = [m for m in (_observations(draft_id, trial) for trial in view.trials) if m]
    for message in unsaved:
        st.error(message, icon=":material/error:")
    c1, c2 = st.columns(2)
    if not view.stop_reason and c1.button("Back to the timed walks", key="obs_back", disabled=bool(unsaved)):
        _go("trials")
        st.rerun(scope="app")
    if c2.button("Continue to STEADI items", type="primary", key="obs_next", disabled=bool(unsaved)):
        st.session_state.pop(UNDO_END, None)  # the stop can be undone only on the step right after it
        _go("steadi")
        st.rerun(scope="app")


def _steadi_entered(stored: dict | None) -> tuple[dict, bool]:
    """The STEADI widgets, prefilled from what is stored: (raw answers, brochure answered)."""
    stored = stored or {}
    answers = stored.get("stay_independent") or {}
    items = {it.key: st.checkbox(f"{it.text} ({it.points} pt)", value=bool(answers.get(it.key)), key=f"si_{it.key}")
             for it in stay_independent_items()}
    if any(items.values()):
        st.session_state["si_answered"] = True  # a ticked item means the brochure was answered
    answered = st.checkbox("The patient answered the Stay Independent brochure (every unticked item is a no)",
                           value="stay_independent" in stored, key="si_answered")
    c1, c2, c3 = st.columns(3)
    tug = c1.number_input("Timed Up and Go, seconds", min_value=0.0, value=stored.get("tug_seconds"), step=0.1,
                          key="tug")
    chair = c2.number_input("30-s chair stands, count", min_value=0, value=stored.get("chair_stand_count"), step=1,
                            key="chair")
    tandem = c3.number_input("Tandem stance held, seconds", min_value=0.0, value=stored.get("tandem_seconds"),
                             step=0.5, key="tandem")
    raw = {"tug_seconds": tug, "chair_stand_count": chair, "tandem_seconds": tandem}
    raw = {k: v for k, v in raw.items() if v is not None}
    if answered:
        raw["stay_independent"] = items
    return raw, answered


@st.fragment
def _step_steadi() -> None:
    fragment_tap()
    draft_id = st.session_state[DRAFT]
    view = _draft_view(leave_if_final=True)
    if view is None:
        return
    st.subheader("STEADI screening items (optional)")
    st.caption("Each answer is saved as you enter it.")
    raw, _ = _steadi_entered(view.steadi)
    stored = {k: v for k, v in (view.steadi or {}).items() if k != "stay_independent_score"}
    unsaved = None
    if raw != stored:
        try:
            services.record_steadi(database(), draft_id, raw, actor=actor())
            st.caption(":material/check: STEADI items saved")
        except InputError as exc:
            unsaved = f"STEADI: {exc.message} (not saved)."
            st.error(unsaved, icon=":material/error:")
    c1, c2 = st.columns(2)
    if c1.button("Back to the observations", key="steadi_back", disabled=bool(unsaved)):
        _go("observations")
        st.rerun(scope="app")
    if c2.button("Continue to review", type="primary", key="steadi_next", disabled=bool(unsaved)):
        _go("review")
        st.rerun(scope="app")


def _step_review() -> None:
    db = database()
    draft_id = st.session_state[DRAFT]
    view = _draft_view()
    if view is None:
        return
    _undo_end_offer(draft_id)
    st.subheader("Review and finalize")
    if view.stop_reason:
        st.warning(f"Test stopped: {STOP_REASON_TEXT[StopReason(view.stop_reason)]}. "
                   "The walks saved before the stop will be scored.", icon=":material/front_hand:")
    st.write(f"{view.assessed_on.isoformat()} · {view.start} start · footwear "
             f"{words(view.footwear)} · device {words(view.assistive_device)} · practice walk "
             f"{'done' if view.practice_walk_done else 'not done'}")
    if view.trials:
        st.dataframe(
            [{"Walk": t.number, "Seconds": round(t.seconds, 2), "Timing": t.timing_source,
              "Valid": "yes" if t.valid else f"no ({t.invalid_reason})", "Lost balance": t.loss_of_balance,
              "Hands-on help": t.hands_on_assistance, "Steps": t.steps}
             for t in view.trials], hide_index=True,
        )
    else:
        st.write("No timed walk was saved.")
    if view.steadi:
        st.write("STEADI: " + ", ".join(f"{words(k)} {v}" for k, v in view.steadi.items() if k != "stay_independent"))
    c1, c2 = st.columns(2)
    if view.trials and c1.button("Back to the observations", key="review_back"):
        _go("observations")
        st.rerun()
    if not view.trials and c1.button("Back to STEADI items", key="review_back"):
        _go("steadi")
        st.rerun()
    if c2.button("Finalize and see the result", type="primary", key="finalize", icon=":material/check:"):
        try:
            final = flow.finalize(db, draft_id, fall_risk_model(), actor=actor())
        except InputError as exc:
            show_error(exc)
            return
        _reset()
        st.session_state[RESULT_ID] = final.id
        st.switch_page("ui/pages/result.py")


STEP_FUNCTIONS = {
    "patient": _step_patient, "safety": _step_safety, "setup": _step_setup, "script": _step_script,
    "practice": _step_practice, "trials": _step_trials, "observations": _step_observations,
    "steadi": _step_steadi, "review": _step_review,
}


def render() -> None:
    """The New assessment page."""
    _big_css()
    st.title("New assessment")
    patient = patient_header("wizard")
    if DRAFT in st.session_state and OWNER not in st.session_state:
        try:
            st.session_state[OWNER] = services.get_assessment(database(), st.session_state[DRAFT], actor=actor()).mrn
        except InputError:
            _reset()
    owner = st.session_state.get(OWNER)
    if owner is not None and (patient is None or patient.mrn != owner):
        # Another patient was selected: this page never goes on with the previous patient's test.
        had_draft = DRAFT in st.session_state
        _reset()
        if had_draft:
            st.info(f"The unfinished assessment of MRN {md_escape(owner)} stays saved as a draft; "
                    "resume it from the list below.", icon=":material/info:")
    step = st.session_state.get(STEP, "patient")
    if step in DRAFT_STEPS and DRAFT not in st.session_state:
        step = "patient"
    if step in ("safety", "setup", "script", "practice") and not (st.session_state.get(PRETEST) or {}).get("mrn"):
        # script and practice are also reached with Back from the timed walks of a draft
        step = step if step in ("script", "practice") and DRAFT in st.session_state else "patient"
    _progress(step)
    STEP_FUNCTIONS[step]()
    if step != "patient":
        st.divider()
        if st.button("Leave this assessment (saved walks stay saved as a draft)", key="leave"):
            _reset()
            st.rerun()
        if step in DRAFT_STEPS:
            _discard(st.session_state[DRAFT])


def _discard(draft_id: int) -> None:
    """Discard the draft (its walks and STEADI answers), with a reason; audited."""
    with st.popover("Discard this draft…", icon=":material/delete:"):
        st.write("The draft and its saved walks are deleted. The audit trail keeps that it was discarded and why.")
        why = st.selectbox("Why?", list(services.CORRECTION_REASONS), format_func=services.CORRECTION_REASONS.get,
                           key="discard_reason")
        if st.button("Discard the draft and its walks", key="discard_confirm", type="primary"):
            try:
                services.discard_draft(database(), draft_id, reason=why, actor=actor())
            except InputError as exc:
                show_error(exc)
                return
            _reset()
            st.rerun()
