"""Falls reported at follow-up and the 12-month outcome labels for recalibration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from records import services as svc

BIRTH_DATE = date(1950, 3, 4)
ASSESSED_ON = date(2023, 3, 4)
WINDOW_END = ASSESSED_ON + timedelta(days=365)  # 2024-03-03


def _outcomes(db, today):
    return {row["assessment_id"]: row["fell"] for row in svc.labelled_outcomes(db, today=today)}


@pytest.mark.parametrize(
    ("fall_offset_days", "today", "fell"),
    [
        (None, WINDOW_END - timedelta(days=1), None),  # window still open, no fall: unknown, left out
        (None, WINDOW_END, 0),  # window just ended without a fall
        (1, WINDOW_END - timedelta(days=300), 1),  # a fall is known before the window ends
        (365, WINDOW_END, 1),  # last day of the window counts
        (366, WINDOW_END + timedelta(days=1), 0),  # the day after does not
        (0, WINDOW_END, 0),  # a fall on the assessment day is before the follow-up
        (-30, WINDOW_END, 0),  # earlier falls are history, not outcome
        (0, WINDOW_END - timedelta(days=1), None),
    ],
)
def test_label_around_the_365_day_boundary(db, patient, fall_offset_days, today, fell):
    view, _ = svc.record_assessment(db, "M1", {"trials": [6.0], "assessed_on": ASSESSED_ON})
    if fall_offset_days is not None:
        svc.record_fall(db, "M1", occurred_on=ASSESSED_ON + timedelta(days=fall_offset_days))
    expected = {} if fell is None else {view.id: fell}
    assert _outcomes(db, today) == expected


def test_outcome_rows_carry_the_predictors(db, patient):
    raw = {"trials": [6.0, 6.4], "assessed_on": ASSESSED_ON, "prior_falls": 3, "walking_aid": "no",
           "steadi": {"stay_independent_score": 5, "tug_seconds": 12.5}}
    view, _ = svc.record_assessment(db, "M1", raw)
    svc.record_fall(db, "M1", occurred_on=ASSESSED_ON + timedelta(days=10), injury=True)
    (row,) = svc.labelled_outcomes(db, today=WINDOW_END)
    assert row == {
        "assessment_id": view.id, "assessed_on": ASSESSED_ON, "mean_seconds": 6.2, "age": 73, "sex": "female",
        "population": "community", "prior_falls": 2, "walking_aid": False, "assistive_device": "none",
        "stay_independent_score": 5, "tug_seconds": 12.5, "chair_stand_count": None, "tandem_seconds": None,
        "fell": 1,
    }


def test_only_current_versions_with_a_time_and_own_falls_count(db, patient):
    svc.add_patient(db, mrn="M2", given_name="Bo", family_name="Li", birth_date=BIRTH_DATE, sex="male")
    first, _ = svc.record_assessment(db, "M1", {"trials": [6.0], "assessed_on": ASSESSED_ON})
    amended = svc.amend_assessment(db, first.id, {"trials": [6.5]}, reason="typo")
    other, _ = svc.record_assessment(db, "M2", {"trials": [7.0], "assessed_on": ASSESSED_ON})
    stopped, _ = svc.record_assessment(db, "M2", {"trials": [], "stop_reason": "pain", "assessed_on": ASSESSED_ON})
    draft = svc.start_assessment(db, "M2", assessed_on=ASSESSED_ON)
    svc.record_trial(db, draft, 6.0)
    svc.record_fall(db, "M2", occurred_on=ASSESSED_ON + timedelta(days=100))
    rows = svc.labelled_outcomes(db, today=WINDOW_END)
    assert {r["assessment_id"]: (r["fell"], r["mean_seconds"]) for r in rows} == {
        amended.id: (0, 6.5),
        other.id: (1, 7.0),
    }
    assert stopped.mean_seconds is None


def test_record_fall(db, patient):
    fall = svc.record_fall(db, "M1", occurred_on="2024-02-29", injury="yes", notes="Tripped on the rug", actor="bob")
    assert (fall.mrn, fall.occurred_on, fall.injury, fall.notes, fall.reported_by) == (
        "M1", date(2024, 2, 29), True, "Tripped on the rug", "bob",
    )
    assert svc.list_falls(db, "M1") == [fall]
    audit = svc.list_audit(db, action="fall.record")[0]
    assert audit.detail == {"patient_id": patient.id, "injury": True}  # the notes stay out of the audit
