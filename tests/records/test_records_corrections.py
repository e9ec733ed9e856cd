"""Corrections of a draft (issue 11): a walk's time corrected or removed, a draft discarded; all audited."""

from __future__ import annotations

from datetime import date

import pytest

from records import Conflict, NotFound
from records import services as svc
from assessment.errors import InputError

ASSESSED_ON = date(2024, 3, 4)  # as in conftest.py (not imported: several test folders have a conftest)


@pytest.fixture
def draft(db, patient):
    draft_id = svc.start_assessment(db, patient.mrn, assessed_on=ASSESSED_ON, actor="alice")
    for seconds in (4.0, 78.5, 4.4):
        svc.record_trial(db, draft_id, seconds, actor="alice")
    return draft_id


def test_a_walk_time_is_corrected_as_a_manual_time_and_audited(db, draft):
    trial = svc.correct_trial_time(db, draft, 2, "7.85", reason="typing_error", actor="bob")
    assert (trial.number, trial.seconds, trial.timing_source) == (2, 7.85, "manual")
    assert [t.seconds for t in svc.get_assessment(db, draft).trials] == [4.0, 7.85, 4.4]
    (row,) = svc.list_audit(db, action="trial.correct")
    assert row.actor == "bob"
    assert row.detail == {"trial": 2, "reason": "typing_error", "from_seconds": 78.5, "to_seconds": 7.85}


def test_a_walk_is_removed_and_later_walks_move_up(db, draft):
    svc.remove_trial(db, draft, 2, reason="wrong_walk", actor="bob")
    trials = svc.get_assessment(db, draft).trials
    assert [(t.number, t.seconds) for t in trials] == [(1, 4.0), (2, 4.4)]
    (row,) = svc.list_audit(db, action="trial.remove")
    assert row.detail == {"trial": 2, "reason": "wrong_walk", "seconds": 78.5, "remaining": 2}
    svc.record_trial(db, draft, 4.2, actor="bob")  # the next walk takes the next free number
    assert [t.number for t in svc.get_assessment(db, draft).trials] == [1, 2, 3]


def test_a_draft_is_discarded_with_its_walks(db, draft, patient):
    before = svc.count_rows(db)
    svc.discard_draft(db, draft, reason="wrong_patient", actor="bob")
    after = svc.count_rows(db)
    assert after["assessments"] == before["assessments"] - 1 and after["trials"] == before["trials"] - 3
    assert svc.open_drafts(db, patient.mrn) == []
    with pytest.raises(NotFound):
        svc.get_assessment(db, draft)
    (row,) = svc.list_audit(db, action="assessment.discard")
    assert row.detail["reason"] == "wrong_patient" and row.detail["walks"] == 3


def test_a_final_assessment_is_never_corrected_or_discarded(db, final_assessment):
    for call in (lambda: svc.correct_trial_time(db, final_assessment.id, 1, 5.0, reason="typing_error"),
                 lambda: svc.remove_trial(db, final_assessment.id, 1, reason="typing_error"),
                 lambda: svc.discard_draft(db, final_assessment.id, reason="typing_error")):
        with pytest.raises(Conflict):
            call()
    assert svc.get_assessment(db, final_assessment.id).trials[0].seconds == 6.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda db, d: svc.correct_trial_time(db, d, 1, "abc", reason="typing_error"), "trial_1"),
        (lambda db, d: svc.correct_trial_time(db, d, 1, 0.2, reason="typing_error"), "trial_1"),
        (lambda db, d: svc.correct_trial_time(db, d, 1, 5.0, reason="because"), "reason"),
        (lambda db, d: svc.remove_trial(db, d, 9, reason="typing_error"), "number"),
        (lambda db, d: svc.remove_trial(db, d, "1", reason="typing_error"), "number"),
        (lambda db, d: svc.discard_draft(db, d, reason=""), "reason"),
    ],
)
def test_bad_corrections_name_the_field_and_change_nothing(db, draft, call, field):
    before = [t.seconds for t in svc.get_assessment(db, draft).trials]
    with pytest.raises(InputError) as caught:
        call(db, draft)
    assert caught.value.field.startswith(field)
    assert [t.seconds for t in svc.get_assessment(db, draft).trials] == before
