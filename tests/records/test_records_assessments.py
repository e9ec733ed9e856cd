"""Assessments: drafts that survive a lost session, finalizing, amendments, history."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from assessment import InputError, score, validate_assessment
from assessment.program import SAFETY_SCREEN_KEYS
from records import Conflict, Database, NotFound
from records import services as svc

BIRTH_DATE = date(1950, 3, 4)
SCREEN = {k: k == "uses_walking_aid" for k in SAFETY_SCREEN_KEYS}
ASSESSED_ON = date(2024, 3, 4)
STEADI = {"tug_seconds": 13.5, "chair_stand_count": 9}


def _row(db: Database, table: str, row_id: int) -> tuple:
    """A row exactly as stored, read with plain SQL."""
    with db.engine.connect() as connection:
        return tuple(connection.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).one())


def _trial_rows(db: Database, assessment_id: int) -> list[tuple]:
    with db.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                sa.text("SELECT * FROM trials WHERE assessment_id = :id ORDER BY number"), {"id": assessment_id}
            )
        ]


def test_a_recorded_trial_survives_a_lost_session(db, patient):
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON, footwear="shoes", actor="alice")
    svc.record_trial(db, draft, 6.2, actor="alice")
    db.dispose()  # the browser tab is gone: nothing held in memory

    fresh = Database(db.url)
    try:
        drafts = svc.open_drafts(fresh, "M1")
        assert [d.id for d in drafts] == [draft]
        assert [t.seconds for t in drafts[0].trials] == [6.2]
        assert drafts[0].status == "draft" and drafts[0].footwear == "shoes"
        svc.record_trial(fresh, draft, {"seconds": "6.6", "timing_source": "manual"})
        final = svc.finalize_assessment(fresh, draft)
        assert final.mean_seconds == pytest.approx(6.4)
        assert [t.timing_source for t in final.trials] == ["stopwatch", "manual"]
        assert svc.open_drafts(fresh) == []
    finally:
        fresh.dispose()


def test_open_drafts_lists_every_patient_or_one(db, patient):
    svc.add_patient(db, mrn="M2", given_name="Bo", family_name="Li", birth_date=BIRTH_DATE, sex="male")
    first = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    second = svc.start_assessment(db, "M2", assessed_on=ASSESSED_ON)
    assert [d.id for d in svc.open_drafts(db)] == [first, second]
    assert [(d.id, d.mrn) for d in svc.open_drafts(db, "M2")] == [(second, "M2")]


def test_finalize_stores_the_score_of_the_clinical_core(db, patient):
    draft = svc.start_assessment(
        db, "M1", assessed_on=ASSESSED_ON, footwear="barefoot", safety_screen=SCREEN,
        prior_falls=1, walking_aid="no",
    )
    for seconds in (5.9, 6.3):
        svc.record_trial(db, draft, seconds)
    svc.record_steadi(db, draft, STEADI)
    risk = {"probability": 0.31, "probability_low": 0.2, "probability_high": 0.44, "risk_category": "moderate", "model_version": "v1"}
    view = svc.finalize_assessment(db, draft, risk=risk, actor="alice")

    expected = score(
        validate_assessment(
            {"age": 74, "sex": "female", "population": "community", "trials": [5.9, 6.3],
             "assessed_on": ASSESSED_ON, "footwear": "barefoot", "steadi": STEADI}
        )
    )
    assert view.status == "final" and view.finalized_at is not None
    assert view.score == expected.to_dict()
    assert (view.mean_seconds, view.speed_m_per_s, view.band, view.percentile, view.z, view.reference_cohort) == (
        expected.mean_seconds, expected.speed_m_per_s, expected.band, expected.percentile, expected.z, expected.reference_cohort,
    )
    assert (view.age, view.sex, view.population) == (74, "female", "community")
    assert (view.probability, view.probability_low, view.probability_high, view.risk_category, view.model_version) == (
        0.31, 0.2, 0.44, "moderate", "v1",
    )
    assert view.previous_seconds is None and view.change is None
    assert view.steadi == STEADI
    assert view.safety_screen == SCREEN
    assert (view.prior_falls, view.walking_aid) == (1, False)
    assert svc.get_assessment(db, draft) == view


@pytest.mark.parametrize(("assessed_on", "age"), [(date(2024, 3, 3), 73), (date(2024, 3, 4), 74), (date(2025, 3, 3), 74)])
def test_age_is_taken_on_the_assessment_date(db, patient, assessed_on, age):
    view, result = svc.record_assessment(db, "M1", {"trials": [6.0], "assessed_on": assessed_on})
    assert view.age == age


def test_change_is_against_the_latest_earlier_final_assessment(db, patient):
    first, _ = svc.record_assessment(db, "M1", {"trials": [7.0, 7.2], "assessed_on": "2023-01-10"})
    third, _ = svc.record_assessment(db, "M1", {"trials": [5.0, 5.2], "assessed_on": "2024-01-10"})
    # recorded later, dated in between: compared with the first only
    second, _ = svc.record_assessment(db, "M1", {"trials": [6.0, 6.2], "assessed_on": "2023-06-10"})
    assert first.previous_seconds is None
    assert third.previous_seconds == pytest.approx(7.1)
    assert second.previous_seconds == pytest.approx(7.1)
    assert second.change_seconds == pytest.approx(-1.0)
    assert second.change == "improved" and second.mdc95 is not None
    # another patient's assessments never count
    svc.add_patient(db, mrn="M2", given_name="Bo", family_name="Li", birth_date=BIRTH_DATE, sex="male")
    other, _ = svc.record_assessment(db, "M2", {"trials": [6.0], "assessed_on": "2024-06-01"})
    assert other.previous_seconds is None


def test_record_assessment_in_one_call_with_a_risk_hook(db, patient):
    seen = []

    def risk_fn(assessment, result, predictors):
        seen.append((assessment.age, assessment.sex.value, result.mean_seconds, dict(predictors)))
        return {"probability": 0.42, "model_version": "evidence-1", "extra": "ignored"}

    raw = {"trials": [{"seconds": 6.0, "steps": 9}, 6.4], "assessed_on": ASSESSED_ON, "steadi": STEADI,
           "prior_falls": "2+", "walking_aid": "yes", "footwear": "shoes"}
    view, result = svc.record_assessment(db, "M1", raw, risk_fn=risk_fn, actor="bob")
    assert seen == [(74, "female", 6.2, {"prior_falls": 2, "walking_aid": True})]
    assert view.score == result.to_dict()
    assert (view.probability, view.model_version, view.probability_low) == (0.42, "evidence-1", None)
    assert (view.prior_falls, view.walking_aid, view.version, view.created_by) == (2, True, 1, "bob")
    assert [(t.number, t.seconds, t.steps) for t in view.trials] == [(1, 6.0, 9), (2, 6.4, None)]
    assert svc.count_rows(db)["steadi_answers"] == 1


def test_record_assessment_uses_the_patient_population_unless_given(db):
    svc.add_patient(db, mrn="S1", given_name="Al", family_name="Ray", birth_date=BIRTH_DATE, sex="male", population="stroke")
    default, _ = svc.record_assessment(db, "S1", {"trials": [9.0], "assessed_on": ASSESSED_ON})
    given, _ = svc.record_assessment(db, "S1", {"trials": [9.0], "assessed_on": ASSESSED_ON, "population": "community"})
    assert (default.population, given.population) == ("stroke", "community")


@pytest.mark.parametrize(("key", "value"), [("age", 50), ("sex", "male")])
def test_age_or_sex_that_contradict_the_patient_are_rejected(db, patient, key, value):
    with pytest.raises(InputError) as info:
        svc.record_assessment(db, "M1", {"trials": [6.0], "assessed_on": ASSESSED_ON, key: value})
    assert info.value.field == key


def test_matching_age_and_sex_are_accepted(db, patient):
    view, _ = svc.record_assessment(db, "M1", {"trials": [6.0], "assessed_on": ASSESSED_ON, "age": "74", "sex": "Female"})
    assert (view.age, view.sex) == (74, "female")


def test_trials_are_refused_once_final_or_stopped(db, patient):
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    svc.record_trial(db, draft, 6.0)
    svc.finalize_assessment(db, draft)
    with pytest.raises(Conflict) as info:
        svc.record_trial(db, draft, 6.0)
    assert info.value.field == "assessment_id"
    with pytest.raises(Conflict):
        svc.finalize_assessment(db, draft)

    stopped = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    svc.stop_assessment(db, stopped, "dizziness")
    with pytest.raises(Conflict):
        svc.record_trial(db, stopped, 6.0)


def test_a_stopped_test_is_finalized_without_a_time(db, patient):
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    svc.record_trial(db, draft, {"seconds": 9.0, "valid": False, "invalid_reason": "needed help",
                                 "hands_on_assistance": True, "loss_of_balance": True})
    svc.stop_assessment(db, draft, "needs_hands_on_help", actor="alice")
    view = svc.finalize_assessment(db, draft)
    assert (view.stop_reason, view.mean_seconds, view.band) == ("needs_hands_on_help", None, None)
    assert view.score["stop_reason"] == "needs_hands_on_help"
    assert view.trials[0].hands_on_assistance and not view.trials[0].valid


def test_a_draft_without_trials_or_stop_reason_cannot_be_finalized(db, patient):
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    with pytest.raises(InputError) as info:
        svc.finalize_assessment(db, draft)
    assert info.value.field == "trial_1"
    assert svc.get_assessment(db, draft).status == "draft"


def test_record_trial_checks_the_start_convention_and_the_trial_limit(db, patient):
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON, start="rolling")
    assert svc.record_trial(db, draft, 6.0).start == "rolling"
    with pytest.raises(InputError) as info:
        svc.record_trial(db, draft, {"seconds": 6.0, "start": "standing"})
    assert info.value.field == "trial_2.start"
    for _ in range(9):
        svc.record_trial(db, draft, 6.0)
    with pytest.raises(InputError) as info:
        svc.record_trial(db, draft, 6.0)
    assert info.value.field == "trials"


def test_record_steadi_replaces_the_previous_answers(db, patient):
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    svc.record_steadi(db, draft, {"tug_seconds": 14})
    svc.record_steadi(db, draft, {"stay_independent_score": 5})
    assert svc.get_assessment(db, draft).steadi == {"stay_independent_score": 5}
    assert svc.count_rows(db)["steadi_answers"] == 1


def test_unknown_assessment_is_not_found(db):
    with pytest.raises(NotFound) as info:
        svc.get_assessment(db, 12345)
    assert info.value.field == "assessment_id"


# ------------------------------------------------------------------ amendments


def test_amendment_keeps_the_old_version_untouched(db, final_assessment):
    old_id = final_assessment.id
    row_before, trials_before = _row(db, "assessments", old_id), _trial_rows(db, old_id)

    amended = svc.amend_assessment(db, old_id, {"trials": [5.5, 5.9], "footwear": "shoes"}, reason="typed 6.0 for 5.5", actor="bob")

    assert _row(db, "assessments", old_id) == row_before  # byte-for-byte the same values
    assert _trial_rows(db, old_id) == trials_before
    assert (amended.version, amended.supersedes_id, amended.lineage_id) == (2, old_id, final_assessment.lineage_id)
    assert amended.amended and not amended.superseded
    assert (amended.mean_seconds, amended.footwear, amended.amendment_reason) == (5.7, "shoes", "typed 6.0 for 5.5")
    assert amended.score == score(validate_assessment(
        {"age": 74, "sex": "female", "trials": [5.5, 5.9], "assessed_on": ASSESSED_ON, "footwear": "shoes"}
    )).to_dict()
    old = svc.get_assessment(db, old_id)
    assert old.superseded and old.mean_seconds == final_assessment.mean_seconds
    assert old == final_assessment.__class__(**{**final_assessment.__dict__, "superseded": True})


def test_history_shows_only_the_latest_version(db, patient, final_assessment):
    later, _ = svc.record_assessment(db, "M1", {"trials": [5.0], "assessed_on": "2024-09-01"})
    v2 = svc.amend_assessment(db, final_assessment.id, {"trials": [6.8]}, reason="wrong trial")
    v3 = svc.amend_assessment(db, v2.id, {"assessed_on": "2024-03-05"}, reason="wrong date")
    shown = svc.history(db, "M1")
    assert [(a.id, a.version, a.amended) for a in shown] == [(v3.id, 3, True), (later.id, 1, False)]
    assert [a.id for a in svc.assessment_versions(db, v2.id)] == [final_assessment.id, v2.id, v3.id]
    assert [a.superseded for a in svc.assessment_versions(db, final_assessment.id)] == [True, True, False]
    assert v3.mean_seconds == 6.8 and v3.assessed_on == date(2024, 3, 5)


def test_later_assessments_compare_with_the_amended_time(db, final_assessment):
    svc.amend_assessment(db, final_assessment.id, {"trials": [8.0]}, reason="wrong trial")
    later, _ = svc.record_assessment(db, "M1", {"trials": [7.0], "assessed_on": "2024-09-01"})
    assert later.previous_seconds == 8.0


def test_amending_a_start_convention_moves_the_stored_trials(db, final_assessment):
    amended = svc.amend_assessment(db, final_assessment.id, {"start": "rolling"}, reason="rolling start used")
    assert {t.start for t in amended.trials} == {"rolling"}
    assert [t.seconds for t in amended.trials] == [t.seconds for t in final_assessment.trials]


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"age": 60}, "age", InputError),
        ({"trials": [500]}, "trial_1", InputError),
        ({"population": "mars"}, "population", InputError),
        ({"prior_falls": -1}, "prior_falls", InputError),
    ],
)
def test_bad_amendments_are_rejected(db, final_assessment, changes, field, error):
    with pytest.raises(error) as info:
        svc.amend_assessment(db, final_assessment.id, changes, reason="fix")
    assert info.value.field == field


def test_only_the_current_final_version_can_be_amended(db, patient, final_assessment):
    svc.amend_assessment(db, final_assessment.id, {"trials": [6.1]}, reason="fix")
    with pytest.raises(Conflict) as info:
        svc.amend_assessment(db, final_assessment.id, {"trials": [6.2]}, reason="fix again")
    assert info.value.field == "assessment_id"
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    with pytest.raises(Conflict):
        svc.amend_assessment(db, draft, {"trials": [6.2]}, reason="a draft")
    with pytest.raises(InputError) as info:
        svc.amend_assessment(db, final_assessment.id, {"trials": [6.2]}, reason="   ")
    assert info.value.field == "reason"


def test_assessment_actions_are_audited(db, patient):
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON, actor="alice")
    svc.record_trial(db, draft, 6.0, actor="alice")
    final = svc.finalize_assessment(db, draft, actor="alice")
    amended = svc.amend_assessment(db, final.id, {"trials": [6.1]}, reason="Ada said so", actor="bob")
    svc.history(db, "M1", actor="carol")
    rows = [(r.actor, r.action, r.entity, r.entity_id) for r in reversed(svc.list_audit(db, entity="assessment"))]
    assert rows == [
        ("alice", "assessment.start", "assessment", str(draft)),
        ("alice", "trial.record", "assessment", str(draft)),
        ("alice", "assessment.finalize", "assessment", str(draft)),
        ("bob", "assessment.amend", "assessment", str(amended.id)),
    ]
    amend_row = svc.list_audit(db, action="assessment.amend")[0]
    assert amend_row.detail == {"supersedes_id": final.id, "version": 2, "changed": ["trials"]}
    assert svc.list_audit(db, action="assessment.history")[0].actor == "carol"


