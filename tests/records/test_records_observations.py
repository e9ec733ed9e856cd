"""Observations of a saved walk (loss of balance, hands-on help, validity, steps) set after the walk."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from assessment import InputError
from assessment.program import SAFETY_SCREEN_KEYS
from records import Conflict, NotFound
from records import services as svc

ASSESSED_ON = date(2024, 3, 4)
SCREEN = {k: False for k in SAFETY_SCREEN_KEYS}


@pytest.fixture
def draft(db, patient):
    draft_id = svc.start_assessment(db, patient.mrn, assessed_on=ASSESSED_ON, safety_screen=SCREEN, actor="alice")
    for seconds in (5.0, 6.0, 7.0):
        svc.record_trial(db, draft_id, seconds, actor="alice")
    return draft_id


def _stored(db, draft_id, number):
    with db.engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT valid, invalid_reason, loss_of_balance, hands_on_assistance, steps, seconds "
                "FROM trials WHERE assessment_id = :a AND number = :n"
            ),
            {"a": draft_id, "n": number},
        ).one()


def test_loss_of_balance_set_after_the_walk_is_stored_and_leaves_the_time(db, draft):
    view = svc.update_trial_observations(db, draft, 2, loss_of_balance=True, steps=9, actor="alice")
    assert (view.number, view.loss_of_balance, view.steps, view.seconds) == (2, True, 9, 6.0)
    stored = _stored(db, draft, 2)
    assert (bool(stored.loss_of_balance), stored.steps, stored.seconds) == (True, 9, 6.0)
    # the other walks are untouched
    assert not _stored(db, draft, 1).loss_of_balance and not _stored(db, draft, 3).loss_of_balance


def test_marking_a_walk_not_valid_changes_the_score_at_finalize(db, draft):
    svc.update_trial_observations(db, draft, 3, valid=False, invalid_reason="turned around", actor="alice")
    final = svc.finalize_assessment(db, draft, actor="alice")
    assert final.mean_seconds == pytest.approx(5.5)  # walks 1 and 2 only
    assert final.score["valid_trials"] == 2
    assert [t.valid for t in final.trials] == [True, True, False]
    assert final.trials[2].invalid_reason == "turned around"


def test_hands_on_help_observed_later_puts_the_program_under_supervision(db, draft):
    """The in-test observations reach the safe starting program (stored reassessment date too)."""
    svc.update_trial_observations(db, draft, 1, hands_on_assistance=True, valid=False, invalid_reason="needed help")
    final = svc.finalize_assessment(db, draft)
    assert final.trials[0].hands_on_assistance is True
    from reports.inputs import program_for

    program = program_for(final)
    assert program.supervised
    assert final.reassess_on == program.reassess_on


def test_a_walk_made_valid_again_loses_its_reason(db, draft):
    svc.update_trial_observations(db, draft, 1, valid=False, invalid_reason="stepped off the line")
    view = svc.update_trial_observations(db, draft, 1, valid=True)
    assert (view.valid, view.invalid_reason) == (True, None)
    assert _stored(db, draft, 1).invalid_reason is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid": False}, "trial_2.invalid_reason"),  # not valid needs a reason
        ({"hands_on_assistance": True}, "trial_2.valid"),  # a walk with hands-on help cannot count
        ({"steps": -1}, "trial_2.steps"),
        ({"loss_of_balance": "sometimes"}, "trial_2.loss_of_balance"),
        ({}, "observations"),
    ],
)
def test_refused_observations_name_the_field_and_change_nothing(db, draft, changes, field):
    before = _stored(db, draft, 2)
    audits = len(svc.list_audit(db, action="trial.update"))
    with pytest.raises(InputError) as err:
        svc.update_trial_observations(db, draft, 2, **changes)
    assert err.value.field == field
    assert _stored(db, draft, 2) == before
    assert len(svc.list_audit(db, action="trial.update")) == audits


@pytest.mark.parametrize("number", [0, 4, 99])
def test_an_unknown_walk_is_not_found(db, draft, number):
    with pytest.raises(NotFound) as err:
        svc.update_trial_observations(db, draft, number, loss_of_balance=True)
    assert err.value.field == "number" and "1 to 3" in err.value.message


def test_walk_number_must_be_a_whole_number(db, draft):
    with pytest.raises(InputError) as err:
        svc.update_trial_observations(db, draft, True, loss_of_balance=True)
    assert err.value.field == "number"


def test_a_final_assessment_changes_only_by_amendment(db, draft):
    final = svc.finalize_assessment(db, draft)
    with pytest.raises(Conflict) as err:
        svc.update_trial_observations(db, final.id, 1, loss_of_balance=True)
    assert "amendment" in err.value.message
    assert not _stored(db, final.id, 1).loss_of_balance


def test_a_stopped_draft_can_still_describe_its_walks(db, draft):
    svc.stop_assessment(db, draft, "needs_hands_on_help")
    view = svc.update_trial_observations(
        db, draft, 3, hands_on_assistance=True, valid=False, invalid_reason="caught by the clinician"
    )
    assert view.hands_on_assistance and not view.valid


def test_the_update_is_audited_with_codes_not_free_text(db, draft):
    svc.update_trial_observations(db, draft, 2, valid=False, invalid_reason="Ada stumbled", actor="bob")
    [row] = svc.list_audit(db, action="trial.update")
    assert (row.actor, row.entity, row.entity_id) == ("bob", "assessment", str(draft))
    assert row.detail == {"trial": 2, "changed": ["invalid_reason", "valid"], "valid": False}
    assert "Ada" not in str(row.detail)
