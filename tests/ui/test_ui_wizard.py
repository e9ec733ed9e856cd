"""The New assessment wizard end to end through AppTest, on a real SQLite file."""

from __future__ import annotations

import pytest

from assessment.protocol import SETUP_CHECKLIST
from records import Conflict, services

from ui_helpers import click, shown, signed_in, submit

WIZARD = "ui/pages/new_assessment.py"


def answer_safety(at, *, go="Yes", start=None):
    for key in ("can_stand_and_walk_unaided", "agrees_to_test", "no_pain_or_dizziness_now"):
        at.radio(key=f"go_{key}").set_value(go)
    for key in ("balance_disorder_or_vertigo", "neurological_condition", "acute_joint_injury_or_pain",
                "fall_with_injury_past_3_months", "uses_walking_aid", "has_treadmill_with_handrails"):
        at.radio(key=f"scr_{key}").set_value("No")
    at.radio(key="prior_falls").set_value(1)
    if start is not None:
        at.radio(key="start_conv").set_value(start)
    return submit(at, "safety_form", "Continue")


def to_trials(at, mrn, *, start=None):
    at.selectbox(key="wizard_pick").set_value(mrn).run()
    click(at, "begin")
    answer_safety(at, start=start)
    assert at.session_state["wizard_step"] == "setup"
    for item in SETUP_CHECKLIST:
        at.checkbox(key=f"chk_{item.key}").check()
    at.run()
    click(at, "setup_next")
    click(at, "script_next")
    at.radio(key="practice_done").set_value("Done").run()
    click(at, "practice_next")
    assert at.session_state["wizard_step"] == "trials"
    return at


def type_time(at, seconds):
    at.number_input(key="manual_seconds").set_value(seconds)
    return submit(at, "manual_time", "Save typed time")


def test_wizard_manual_times_end_to_end(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    # the draft exists in the database before any walk
    assert [d.id for d in services.open_drafts(db, patient.mrn)] == [draft_id]
    type_time(at, 4.20)
    # saved at once, as a manual time
    view = services.get_assessment(db, draft_id)
    assert [(t.seconds, t.timing_source) for t in view.trials] == [(4.2, "manual")]
    type_time(at, 3.80)
    assert len(services.get_assessment(db, draft_id).trials) == 2
    click(at, "trials_next")
    assert at.session_state["wizard_step"] == "observations"
    click(at, "obs_next")
    click(at, "steadi_next")
    assert at.session_state["wizard_step"] == "review"
    click(at, "finalize")
    final = services.get_assessment(db, draft_id)
    assert final.is_final
    assert final.mean_seconds == pytest.approx(4.0)
    assert final.practice_walk_done is True
    assert final.prior_falls == 1
    assert final.safety_screen["uses_walking_aid"] is False
    assert final.safety_screen["needed_help_or_lost_balance_in_test"] is False
    # the app moved on to the Result page for this assessment
    assert at.session_state["result_assessment_id"] == draft_id
    assert any(t.value == "Result" for t in at.title)
    assert services.open_drafts(db, patient.mrn) == []


def test_bad_typed_time_names_the_field_and_keeps_the_walks(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 4.0)
    type_time(at, 0.05)  # below the plausibility limit, and no slipped decimal point
    errors = [shown(e.value) for e in at.error]
    assert any(e.startswith("Walk 2:") for e in errors) and not any("trial_2" in e for e in errors), errors
    assert [t.seconds for t in services.get_assessment(db, draft_id).trials] == [4.0]


def end_test(at, seconds, reason):
    """What the stopwatch's "End test…" sends (the time being measured), then the confirmation."""
    at.session_state["wizard_pending_end"] = {"seconds": seconds}
    at.run()
    assert any(b.key == "end_confirm" and b.disabled for b in at.button)  # no reason chosen yet
    at.radio(key="end_reason").set_value(reason).run()
    click(at, "end_confirm")


def test_stop_rule_asks_why_keeps_the_running_walk_and_can_be_undone(db, patient):
    from assessment.protocol import StopReason

    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 5.0)
    at.session_state["wizard_pending_end"] = {"seconds": 3.2}
    at.run()
    click(at, "end_cancel")  # going back ends nothing
    assert services.get_assessment(db, draft_id).stop_reason is None
    end_test(at, 3.2, StopReason.PAIN)
    view = services.get_assessment(db, draft_id)
    assert view.stop_reason == "pain"
    assert [(t.seconds, t.valid, t.invalid_reason) for t in view.trials] == [
        (5.0, True, None), (3.2, False, "Test ended: Patient reports pain")]
    assert at.session_state["wizard_step"] == "observations"
    click(at, "end_undo")
    view = services.get_assessment(db, draft_id)
    assert view.stop_reason is None and [t.seconds for t in view.trials] == [5.0]
    assert at.session_state["wizard_step"] == "trials"
    actions = {a.action for a in services.list_audit(db, limit=50)}
    assert {"assessment.stop", "assessment.resume", "trial.remove"} <= actions


def test_stop_rule_ends_the_test_and_scores_what_was_done(db, patient):
    from assessment.protocol import StopReason

    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 5.0)
    end_test(at, None, StopReason.DIZZINESS)
    # the walks done so far can still be described, then the review
    assert at.session_state["wizard_step"] == "observations"
    assert services.get_assessment(db, draft_id).stop_reason == "dizziness"
    assert not any(b.key == "obs_back" for b in at.button)  # no way back to more walks
    click(at, "obs_next")
    click(at, "steadi_next")
    assert at.session_state["wizard_step"] == "review"
    assert any("dizziness" in w.value for w in at.warning)
    # no more walks can be added once stopped
    with pytest.raises(Conflict):
        services.record_trial(db, draft_id, 4.0)
    click(at, "finalize")
    final = services.get_assessment(db, draft_id)
    assert final.is_final and final.stop_reason == "dizziness"
    assert final.mean_seconds == pytest.approx(5.0)


def test_the_test_can_end_on_the_practice_walk(db, patient):
    from assessment.protocol import StopReason

    at = signed_in(WIZARD)
    at.selectbox(key="wizard_pick").set_value(patient.mrn).run()
    click(at, "begin")
    answer_safety(at)
    for item in SETUP_CHECKLIST:
        at.checkbox(key=f"chk_{item.key}").check()
    at.run()
    click(at, "setup_next")
    click(at, "script_next")
    click(at, "practice_end")
    at.radio(key="end_reason").set_value(StopReason.CANNOT_CONTINUE_SAFELY).run()
    click(at, "end_confirm")
    assert at.session_state["wizard_step"] == "review"
    (draft,) = services.open_drafts(db, patient.mrn)
    assert draft.stop_reason == "cannot_continue_safely" and draft.trials == ()
    click(at, "finalize")
    assert services.history(db, patient.mrn)[-1].program_tier == "supervised"


def test_no_go_safety_answer_blocks_the_test(db, patient):
    at = signed_in(WIZARD)
    at.selectbox(key="wizard_pick").set_value(patient.mrn).run()
    click(at, "begin")
    answer_safety(at, go="No")
    assert at.session_state["wizard_step"] == "safety"
    assert any("do not test today" in shown(e.value) for e in at.error)
    assert services.open_drafts(db) == []


def test_resume_after_lost_session(db, patient):
    first = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = first.session_state["wizard_draft_id"]
    type_time(first, 4.5)
    del first  # the tab closes: its session state is gone
    second = signed_in(WIZARD)
    assert "wizard_draft_id" not in second.session_state
    click(second, f"resume_{draft_id}")
    assert second.session_state["wizard_draft_id"] == draft_id
    assert second.session_state["wizard_step"] == "trials"
    type_time(second, 5.5)
    assert [t.seconds for t in services.get_assessment(db, draft_id).trials] == [4.5, 5.5]
    click(second, "trials_next")
    click(second, "obs_next")
    click(second, "steadi_next")
    click(second, "finalize")
    assert services.get_assessment(db, draft_id).mean_seconds == pytest.approx(5.0)


def test_steadi_items_are_saved_to_the_draft(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 4.0)
    click(at, "trials_next")
    click(at, "obs_next")
    at.number_input(key="tug").set_value(13.5).run()
    # saved the moment it is entered, before any Continue
    assert services.get_assessment(db, draft_id).steadi["tug_seconds"] == pytest.approx(13.5)
    at.number_input(key="chair").set_value(9).run()
    # a ticked brochure item is kept without a separate "answered" box
    at.checkbox(key="si_fallen_past_year").check().run()
    click(at, "steadi_next")
    assert at.session_state["wizard_step"] == "review"
    steadi = services.get_assessment(db, draft_id).steadi
    assert steadi["tug_seconds"] == pytest.approx(13.5) and steadi["chair_stand_count"] == 9
    assert steadi["stay_independent"]["fallen_past_year"] is True


def save_observations(at, draft_id, number, *, lob=None, hands=None, valid=None, reason=None, steps=None):
    """Change walk ``number``'s observations (each change is saved on the rerun it causes)."""
    key = f"{draft_id}_{number}"
    if lob is not None:
        at.checkbox(key=f"obs_lob_{key}").set_value(lob)
    if hands is not None:
        at.checkbox(key=f"obs_hands_{key}").set_value(hands)
    if valid is not None:
        at.radio(key=f"obs_valid_{key}").set_value("Yes" if valid else "No").run()  # enables the reason box
    if reason is not None:
        at.text_input(key=f"obs_reason_{key}").input(reason)
    if steps is not None:
        at.number_input(key=f"obs_steps_{key}").set_value(steps)
    return at.run()


def test_observations_are_set_after_the_walks_and_change_the_result(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    for seconds in (4.0, 6.0, 4.4):
        type_time(at, seconds)
    click(at, "trials_next")
    assert at.session_state["wizard_step"] == "observations"
    # each saved walk has its own form, filled with what is stored
    assert at.checkbox(key=f"obs_lob_{draft_id}_1").value is False
    save_observations(at, draft_id, 1, lob=True, steps=8)
    save_observations(at, draft_id, 2, valid=False, reason="turned to look behind")
    trials = services.get_assessment(db, draft_id).trials
    assert [(t.loss_of_balance, t.valid, t.invalid_reason, t.steps) for t in trials] == [
        (True, True, None, 8), (False, False, "turned to look behind", None), (False, True, None, None)]
    # the form shows the stored values after the rerun; a correction is saved the same way
    assert at.checkbox(key=f"obs_lob_{draft_id}_1").value is True
    save_observations(at, draft_id, 1, lob=False)
    assert services.get_assessment(db, draft_id).trials[0].loss_of_balance is False
    click(at, "obs_next")
    click(at, "steadi_next")
    click(at, "finalize")
    final = services.get_assessment(db, draft_id)
    assert final.mean_seconds == pytest.approx(4.2)  # walk 2 no longer counts
    assert final.score["valid_trials"] == 2


def test_ticking_hands_on_help_marks_the_walk_not_valid_with_a_reason(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 5.0)
    click(at, "trials_next")
    save_observations(at, draft_id, 1, hands=True)
    stored = services.get_assessment(db, draft_id).trials[0]
    assert (stored.hands_on_assistance, stored.valid, stored.invalid_reason) == (
        True, False, "Needed hands-on help during the walk")
    save_observations(at, draft_id, 1, reason="caught her")
    assert services.get_assessment(db, draft_id).trials[0].invalid_reason == "caught her"


def test_a_tick_then_continue_is_never_lost_and_an_unsaved_entry_blocks_continue(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 4.0)
    type_time(at, 4.2)
    click(at, "trials_next")
    at.checkbox(key=f"obs_lob_{draft_id}_1").check()
    click(at, "obs_next")  # no Save pressed: the tick is in the database
    assert services.get_assessment(db, draft_id).trials[0].loss_of_balance is True
    click(at, "steadi_back")
    # not valid without a reason cannot be saved: Continue is blocked and the page says why
    at.radio(key=f"obs_valid_{draft_id}_2").set_value("No").run()
    assert any("say why" in e.value for e in at.error), [e.value for e in at.error]
    assert next(b for b in at.button if b.key == "obs_next").disabled
    assert services.get_assessment(db, draft_id).trials[1].valid is True
    save_observations(at, draft_id, 2, reason="turned round")
    assert not next(b for b in at.button if b.key == "obs_next").disabled
    click(at, "obs_next")
    click(at, "steadi_next")
    click(at, "finalize")
    final = services.get_assessment(db, draft_id)
    assert final.program_tier == "supervised"
    assert any("Loss of balance" in r for r in final.program_reasons)


def test_an_implausible_typed_time_asks_for_the_likely_value(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 78.5)
    assert services.get_assessment(db, draft_id).trials == ()  # nothing saved yet
    assert any("Did you mean 7.85 s" in w.value for w in at.warning), [w.value for w in at.warning]
    click(at, "typed_guess")
    assert [t.seconds for t in services.get_assessment(db, draft_id).trials] == [7.85]
    type_time(at, 45.0)
    click(at, "typed_as_is")  # a genuinely slow walk can still be saved as typed
    assert [t.seconds for t in services.get_assessment(db, draft_id).trials] == [7.85, 45.0]


def test_a_walk_is_corrected_or_removed_and_a_draft_discarded(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    for seconds in (4.0, 6.0, 4.4):
        type_time(at, seconds)
    click(at, "trials_next")
    at.number_input(key=f"fix_seconds_{draft_id}_2").set_value(4.6)
    at.selectbox(key=f"fix_reason_{draft_id}_2").set_value("stopwatch_error")
    click(at, f"fix_save_{draft_id}_2")
    assert [(t.seconds, t.timing_source) for t in services.get_assessment(db, draft_id).trials][1] == (4.6, "manual")
    click(at, f"fix_remove_{draft_id}_3")
    assert [t.seconds for t in services.get_assessment(db, draft_id).trials] == [4.0, 4.6]
    assert {a.action for a in services.list_audit(db, limit=50)} >= {"trial.correct", "trial.remove"}
    at.selectbox(key="discard_reason").set_value("wrong_patient")
    click(at, "discard_confirm")
    assert services.open_drafts(db, patient.mrn) == []
    assert "wizard_draft_id" not in at.session_state  # the wizard is back at the patient step
    assert services.list_audit(db, action="assessment.discard")[0].detail["reason"] == "wrong_patient"
