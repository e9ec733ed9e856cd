"""The New assessment wizard end to end through AppTest, on a real SQLite file."""

from __future__ import annotations

import pytest

from assessment.protocol import SETUP_CHECKLIST
from records import Conflict, services

from ui_helpers import click, shown, signed_in, submit

WIZARD = "ui/pages/new_assessment.py"


def answer_safety(at, *, go="Yes"):
    for key in ("can_stand_and_walk_unaided", "agrees_to_test", "no_pain_or_dizziness_now"):
        at.radio(key=f"go_{key}").set_value(go)
    for key in ("balance_disorder_or_vertigo", "neurological_condition", "acute_joint_injury_or_pain",
                "fall_with_injury_past_3_months", "uses_walking_aid", "has_treadmill_with_handrails"):
        at.radio(key=f"scr_{key}").set_value("No")
    at.radio(key="prior_falls").set_value(1)
    return submit(at, "safety_form", "Continue")


def to_trials(at, mrn):
    at.selectbox(key="wizard_pick").set_value(mrn).run()
    click(at, "begin")
    answer_safety(at)
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
    click(at, "steadi_skip")
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
    type_time(at, 0.2)  # below the plausibility limit
    assert any("trial_2" in shown(e.value) for e in at.error), [e.value for e in at.error]
    assert [t.seconds for t in services.get_assessment(db, draft_id).trials] == [4.0]


def test_stop_rule_ends_the_test_and_scores_what_was_done(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 5.0)
    click(at, "stop_dizziness")
    # the walks done so far can still be described, then the review
    assert at.session_state["wizard_step"] == "observations"
    assert services.get_assessment(db, draft_id).stop_reason == "dizziness"
    assert not any(b.key == "obs_back" for b in at.button)  # no way back to more walks
    click(at, "obs_next")
    click(at, "steadi_skip")
    assert at.session_state["wizard_step"] == "review"
    assert any("dizziness" in w.value for w in at.warning)
    # no more walks can be added once stopped
    with pytest.raises(Conflict):
        services.record_trial(db, draft_id, 4.0)
    click(at, "finalize")
    final = services.get_assessment(db, draft_id)
    assert final.is_final and final.stop_reason == "dizziness"
    assert final.mean_seconds == pytest.approx(5.0)


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
    click(second, "steadi_skip")
    click(second, "finalize")
    assert services.get_assessment(db, draft_id).mean_seconds == pytest.approx(5.0)


def test_steadi_items_are_saved_to_the_draft(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 4.0)
    click(at, "trials_next")
    click(at, "obs_next")
    at.number_input(key="tug").set_value(13.5)
    at.number_input(key="chair").set_value(9)
    submit(at, "steadi_form", "Save STEADI items")
    assert at.session_state["wizard_step"] == "review"
    steadi = services.get_assessment(db, draft_id).steadi
    assert steadi["tug_seconds"] == pytest.approx(13.5) and steadi["chair_stand_count"] == 9


def save_observations(at, draft_id, number, *, lob=None, hands=None, valid=None, reason=None, steps=None):
    """Fill walk ``number``'s observation form and save it."""
    key = f"{draft_id}_{number}"
    if lob is not None:
        at.checkbox(key=f"obs_lob_{key}").set_value(lob)
    if hands is not None:
        at.checkbox(key=f"obs_hands_{key}").set_value(hands)
    if valid is not None:
        at.radio(key=f"obs_valid_{key}").set_value("Yes" if valid else "No")
    if reason is not None:
        at.text_input(key=f"obs_reason_{key}").input(reason)
    if steps is not None:
        at.number_input(key=f"obs_steps_{key}").set_value(steps)
    return submit(at, f"obs_form_{key}", f"Save walk {number}")


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
    click(at, "steadi_skip")
    click(at, "finalize")
    final = services.get_assessment(db, draft_id)
    assert final.mean_seconds == pytest.approx(4.2)  # walk 2 no longer counts
    assert final.score["valid_trials"] == 2


def test_hands_on_help_on_a_valid_walk_is_refused_with_the_field(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    type_time(at, 5.0)
    click(at, "trials_next")
    save_observations(at, draft_id, 1, hands=True)
    assert any("trial_1.valid" in shown(e.value) for e in at.error), [e.value for e in at.error]
    assert services.get_assessment(db, draft_id).trials[0].hands_on_assistance is False
    save_observations(at, draft_id, 1, hands=True, valid=False, reason="caught her")
    stored = services.get_assessment(db, draft_id).trials[0]
    assert (stored.hands_on_assistance, stored.valid, stored.invalid_reason) == (True, False, "caught her")
