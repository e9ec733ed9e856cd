"""Camera timing in the wizard (issue 16), the Python side through AppTest on a real SQLite
file: a camera result reaches the walk its stopwatch lap was saved as, both times and their
difference are shown, and the clinician can score the camera time (the browser side is
tests/e2e/test_e2e_camera.py)."""

from __future__ import annotations

from records import services

from test_ui_wizard import WIZARD, to_trials
from ui_helpers import click, signed_in


def _texts(at) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def test_a_camera_time_is_saved_to_its_walk_shown_beside_the_stopwatch_and_can_be_scored(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn, start="rolling")
    draft_id = at.session_state["wizard_draft_id"]
    services.record_trial(db, draft_id, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="jdoe")
    services.record_trial(db, draft_id, {"seconds": 4.60, "timing_source": "stopwatch"}, actor="jdoe")
    # the stopwatch lap "2:99" was saved as walk 2; the camera's result for it arrives
    at.session_state["camera_lap_walks"] = {(draft_id, "2:99"): 2}
    at.session_state["camera_pending"] = {"lapId": "2:99", "ok": True, "seconds": 4.47, "code": None}
    at.run()
    assert not at.exception, at.exception
    trials = services.get_assessment(db, draft_id).trials
    assert [(t.camera_seconds, t.timing_source) for t in trials] == [(None, "stopwatch"), (4.47, "stopwatch")]
    assert any("Walk 2: stopwatch 4.60 s, camera 4.47 s (difference -0.13 s); scored: stopwatch" in t
               for t in _texts(at)), _texts(at)
    assert any("leading foot" in t for t in _texts(at))  # the crossing rule is shown
    click(at, f"camera_choose_{draft_id}_2")
    trial = services.get_assessment(db, draft_id).trials[1]
    assert (trial.seconds, trial.timing_source, trial.stopwatch_seconds) == (4.47, "camera", 4.6)
    assert any("scored: camera" in t for t in _texts(at))
    (row,) = services.list_audit(db, action="trial.scored_time")
    assert row.actor == "jdoe" and row.detail["to"] == "camera"


def test_a_camera_message_is_saved_without_a_time_and_a_result_of_an_unknown_lap_waits(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn)
    draft_id = at.session_state["wizard_draft_id"]
    services.record_trial(db, draft_id, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="jdoe")
    at.session_state["camera_pending"] = {"lapId": "9:1", "ok": False, "seconds": None, "code": "no-person"}
    at.run()
    assert services.get_assessment(db, draft_id).trials[0].camera_note is None  # not this walk's lap
    assert at.session_state["camera_pending"]["lapId"] == "9:1"
    at.session_state["camera_lap_walks"] = {(draft_id, "9:1"): 1}
    at.run()
    trial = services.get_assessment(db, draft_id).trials[0]
    assert (trial.camera_seconds, trial.camera_note, trial.seconds) == (None, "no-person", 4.52)
    assert any("camera: No person was found in the walkway" in t for t in _texts(at)), _texts(at)
    assert not any(b.key and b.key.startswith("camera_choose_") for b in at.button)


def test_a_standing_start_camera_time_is_shown_but_offers_no_scoring(db, patient):
    """Issue 16: the standing start's camera time can begin early on pose jitter; it is never scored."""
    at = to_trials(signed_in(WIZARD), patient.mrn, start="standing")
    draft_id = at.session_state["wizard_draft_id"]
    services.record_trial(db, draft_id, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="jdoe")
    at.session_state["camera_lap_walks"] = {(draft_id, "1:7"): 1}
    at.session_state["camera_pending"] = {"lapId": "1:7", "ok": True, "seconds": 4.31, "code": None}
    at.run()
    assert not at.exception, at.exception
    assert any("Walk 1: stopwatch 4.52 s, camera 4.31 s (difference -0.21 s); scored: stopwatch" in t
               for t in _texts(at)), _texts(at)
    assert not [b for b in at.button if b.key == f"camera_choose_{draft_id}_1"]


def test_continue_while_the_camera_is_still_timing_waits_for_its_time_then_goes_on(db, patient):
    """The camera's time comes a few seconds after Stop and is lost if the step is left first:
    Continue waits for it (saying so), and goes on by itself once it is saved."""
    at = to_trials(signed_in(WIZARD), patient.mrn, start="rolling")
    draft_id = at.session_state["wizard_draft_id"]
    services.record_trial(db, draft_id, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="jdoe")
    # the stopwatch lap "1:5" was saved as walk 1 with the camera timing it (ui.camera.remember_lap)
    at.session_state["camera_lap_walks"] = {(draft_id, "1:5"): 1}
    at.session_state["camera_awaiting"] = {draft_id: {1}}
    at.run()
    click(at, "trials_next")
    assert at.session_state["wizard_step"] == "trials"
    assert any("The camera is still timing walk 1" in i.value for i in at.info), [i.value for i in at.info]
    at.session_state["camera_pending"] = {"lapId": "1:5", "ok": True, "seconds": 4.49, "code": None}
    at.run()
    assert not at.exception, at.exception
    assert services.get_assessment(db, draft_id).trials[0].camera_seconds == 4.49
    assert at.session_state["wizard_step"] == "observations"


def test_continue_without_the_camera_time_saves_why_the_walk_has_none(db, patient):
    at = to_trials(signed_in(WIZARD), patient.mrn, start="rolling")
    draft_id = at.session_state["wizard_draft_id"]
    services.record_trial(db, draft_id, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="jdoe")
    services.record_trial(db, draft_id, {"seconds": 4.60, "timing_source": "stopwatch"}, actor="jdoe")
    at.session_state["camera_lap_walks"] = {(draft_id, "2:8"): 2}
    at.session_state["camera_awaiting"] = {draft_id: {2}}
    at.run()
    click(at, "trials_next")
    assert at.session_state["wizard_step"] == "trials"
    click(at, "trials_next_no_camera")
    assert not at.exception, at.exception
    assert at.session_state["wizard_step"] == "observations"
    trials = services.get_assessment(db, draft_id).trials
    assert [(t.camera_seconds, t.camera_note) for t in trials] == [(None, None), (None, "left-early")]
    (row,) = services.list_audit(db, action="trial.camera")
    assert row.actor == "jdoe" and row.detail == {"trial": 2, "camera_seconds": None, "camera_note": "left-early"}
