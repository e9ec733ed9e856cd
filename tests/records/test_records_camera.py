"""Camera timing beside the stopwatch (issue 16): the camera's time is stored next to the
stopwatch time, the stopwatch time is scored unless the clinician chooses otherwise (audited)."""

from __future__ import annotations

from datetime import date

import pytest

from assessment.errors import InputError
from records import Conflict
from records import services as svc

ASSESSED_ON = date(2024, 3, 4)  # as in conftest.py


@pytest.fixture
def draft(db, patient):
    draft_id = svc.start_assessment(db, patient.mrn, assessed_on=ASSESSED_ON, start="rolling", actor="alice")
    svc.record_trial(db, draft_id, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="alice")
    svc.record_trial(db, draft_id, {"seconds": 4.8, "timing_source": "manual"}, actor="alice")
    return draft_id


def test_camera_time_is_stored_beside_the_scored_stopwatch_time(db, draft):
    trial = svc.record_camera_time(db, draft, 1, 4.4712, actor="alice")
    assert (trial.seconds, trial.timing_source, trial.camera_seconds, trial.camera_note) == (4.52, "stopwatch", 4.47, None)
    (row,) = svc.list_audit(db, action="trial.camera")
    assert row.detail == {"trial": 1, "camera_seconds": 4.47, "camera_note": None}


def test_a_walk_the_camera_could_not_time_keeps_the_reason_code_and_no_time(db, draft):
    trial = svc.record_camera_time(db, draft, 1, None, "not-crossed-finish", actor="alice")
    assert (trial.camera_seconds, trial.camera_note, trial.seconds) == (None, "not-crossed-finish", 4.52)
    with pytest.raises(Conflict):  # no camera time: nothing to choose
        svc.choose_scored_time(db, draft, 1, "camera", actor="alice")


def test_choosing_the_camera_time_scores_it_keeps_the_stopwatch_time_and_is_audited(db, draft):
    svc.record_camera_time(db, draft, 1, 4.47, actor="alice")
    chosen = svc.choose_scored_time(db, draft, 1, "camera", actor="bob")
    assert (chosen.seconds, chosen.timing_source, chosen.stopwatch_seconds, chosen.camera_seconds) == (4.47, "camera", 4.52, 4.47)
    back = svc.choose_scored_time(db, draft, 1, "stopwatch", actor="bob")
    assert (back.seconds, back.timing_source, back.stopwatch_seconds) == (4.52, "stopwatch", None)
    rows = svc.list_audit(db, action="trial.scored_time")
    assert sorted((r.detail["to"], r.detail["to_seconds"]) for r in rows) == [("camera", 4.47), ("stopwatch", 4.52)]
    assert all(r.actor == "bob" for r in rows)


def test_the_camera_time_is_what_a_finalized_assessment_scores_when_chosen(db, draft):
    svc.record_camera_time(db, draft, 1, 4.2, actor="alice")
    svc.choose_scored_time(db, draft, 1, "camera", actor="alice")
    final = svc.finalize_assessment(db, draft, actor="alice")
    assert [(t.seconds, t.timing_source) for t in final.trials] == [(4.2, "camera"), (4.8, "manual")]
    assert final.trials[0].stopwatch_seconds == 4.52


@pytest.mark.parametrize(("call", "field"), [
    (lambda db, d: svc.record_camera_time(db, d, 1, -1.0), "camera_seconds"),
    (lambda db, d: svc.record_camera_time(db, d, 1, float("nan")), "camera_seconds"),
    (lambda db, d: svc.record_camera_time(db, d, 1, "4.2"), "camera_seconds"),
    (lambda db, d: svc.record_camera_time(db, d, 1, None, "it broke"), "camera_note"),
    (lambda db, d: svc.choose_scored_time(db, d, 1, "video"), "source"),
])
def test_bad_camera_input_names_the_field_and_changes_nothing(db, draft, call, field):
    with pytest.raises(InputError) as err:
        call(db, draft)
    assert err.value.field == field
    trial = svc.get_assessment(db, draft).trials[0]
    assert (trial.camera_seconds, trial.camera_note, trial.seconds) == (None, None, 4.52)


def test_a_manual_walk_cannot_switch_to_a_camera_time(db, draft):
    svc.record_camera_time(db, draft, 2, 4.7, actor="alice")
    with pytest.raises(Conflict):
        svc.choose_scored_time(db, draft, 2, "camera", actor="alice")


def test_a_final_assessment_takes_no_camera_time(db, final_assessment):
    with pytest.raises(Conflict):
        svc.record_camera_time(db, final_assessment.id, 1, 4.0)


def test_an_amendment_keeps_the_camera_timing_of_walks_whose_time_it_does_not_change(db, draft):
    svc.record_camera_time(db, draft, 1, 4.47, actor="alice")
    svc.choose_scored_time(db, draft, 1, "camera", actor="alice")
    svc.record_camera_time(db, draft, 2, None, "low-fps", actor="alice")
    final = svc.finalize_assessment(db, draft, actor="alice")
    camera = lambda view: [(t.seconds, t.timing_source, t.camera_seconds, t.camera_note, t.stopwatch_seconds)  # noqa: E731
                           for t in view.trials]
    assert camera(final) == [(4.47, "camera", 4.47, None, 4.52), (4.8, "manual", None, "low-fps", None)]
    # no new trials: every walk keeps its camera timing
    v2 = svc.amend_assessment(db, final.id, {"footwear": "barefoot"}, reason="footwear was wrong", actor="bob")
    assert v2.id != final.id and camera(v2) == camera(final)
    assert camera(svc.get_assessment(db, v2.id)) == camera(final)  # read back from the database
    # new trials: walk 1 unchanged keeps it; walk 2's time changed loses it
    v3 = svc.amend_assessment(db, v2.id, {"trials": [{"seconds": 4.47, "timing_source": "camera"},
                                                    {"seconds": 4.9, "timing_source": "manual"}]},
                              reason="walk 2 was mistyped", actor="bob")
    assert camera(svc.get_assessment(db, v3.id)) == [(4.47, "camera", 4.47, None, 4.52), (4.9, "manual", None, None, None)]
    # the versions amended are untouched
    assert camera(svc.get_assessment(db, final.id)) == camera(final)


def test_a_standing_start_walk_shows_its_camera_time_but_is_never_scored_by_it(db, patient):
    """The standing start's camera time can start early on pose jitter (issue 16): stored, shown, not scored."""
    draft_id = svc.start_assessment(db, patient.mrn, assessed_on=ASSESSED_ON, start="standing", actor="alice")
    svc.record_trial(db, draft_id, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="alice")
    svc.record_camera_time(db, draft_id, 1, 4.31, actor="alice")
    with pytest.raises(InputError, match="timing_source.*standing-start"):
        svc.choose_scored_time(db, draft_id, 1, "camera", actor="alice")
    (trial,) = svc.get_assessment(db, draft_id).trials
    assert (trial.seconds, trial.timing_source, trial.camera_seconds) == (4.52, "stopwatch", 4.31)
    assert svc.list_audit(db, action="trial.scored_time") == []
    # nor can a standing-start walk be recorded as camera-timed by any other path (the gatekeeper)
    with pytest.raises(InputError, match="timing_source"):
        svc.record_trial(db, draft_id, {"seconds": 4.4, "timing_source": "camera"}, actor="alice")
    assert len(svc.get_assessment(db, draft_id).trials) == 1
