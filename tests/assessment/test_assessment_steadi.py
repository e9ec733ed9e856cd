"""CDC STEADI items, scored (clinical-evidence.md §5). Thresholds typed from the evidence file."""

from __future__ import annotations

import pytest

from assessment import Sex, score, validate_assessment
from assessment.steadi import chair_stand_threshold, stay_independent_items, stay_independent_max

# source: clinical-evidence.md §5, CDC STEADI; Rubenstein et al. 2011 — items in brochure order.
STAY_INDEPENDENT = [
    ("fallen_past_year", 2, "fallen"),
    ("uses_cane_or_walker", 2, "cane or walker"),
    ("unsteady_walking", 1, "unsteady"),
    ("holds_furniture", 1, "furniture"),
    ("worried_falling", 1, "worried about falling"),
    ("push_to_stand", 1, "push with my hands"),
    ("trouble_curb", 1, "curb"),
    ("rush_toilet", 1, "rush to the toilet"),
    ("lost_feeling_feet", 1, "feeling in my feet"),
    ("medicine_lightheaded", 1, "light-headed"),
    ("medicine_sleep_mood", 1, "sleep or improve my mood"),
    ("feel_sad", 1, "sad or depressed"),
]
KEYS = [k for k, _, _ in STAY_INDEPENDENT]

# source: clinical-evidence.md §5, CDC STEADI form; Rikli & Jones norms:
# (age_min, age_max, men below, women below)
CHAIR_STAND = [
    (60, 64, 14, 12),
    (65, 69, 12, 11),
    (70, 74, 12, 10),
    (75, 79, 11, 10),
    (80, 84, 10, 9),
    (85, 89, 8, 8),
    (90, 94, 7, 4),
]


def steadi_result(item, steadi, age=None, sex=None):
    a = validate_assessment({"trials": [5.0], "steadi": steadi, "age": age, "sex": sex})
    results = {r.item: r for r in score(a).steadi}
    return results[item]


# --- Stay Independent -------------------------------------------------------

def test_stay_independent_items_and_points_in_brochure_order():
    items = stay_independent_items()
    assert [(i.key, i.points) for i in items] == [(k, p) for k, p, _ in STAY_INDEPENDENT]
    for item, (_, _, phrase) in zip(items, STAY_INDEPENDENT):
        assert phrase in item.text
        assert item.source.startswith("clinical-evidence.md §5")
    assert stay_independent_max() == 14


@pytest.mark.parametrize("key, points", [(k, p) for k, p, _ in STAY_INDEPENDENT])
def test_each_single_yes_scores_its_points(key, points):
    answers = {k: k == key for k in KEYS}
    r = steadi_result("stay_independent", {"stay_independent": answers})
    assert r.value == points
    assert r.at_risk is False  # one item alone never reaches 4


@pytest.mark.parametrize(
    "yes, total, at_risk",
    [
        ([], 0, False),
        (["fallen_past_year", "unsteady_walking"], 3, False),
        (["unsteady_walking", "holds_furniture", "worried_falling"], 3, False),
        (["fallen_past_year", "uses_cane_or_walker"], 4, True),
        (["fallen_past_year", "unsteady_walking", "feel_sad"], 4, True),
        (["unsteady_walking", "holds_furniture", "worried_falling", "push_to_stand"], 4, True),
        (KEYS[2:], 10, True),
        (KEYS, 14, True),
    ],
)
def test_stay_independent_total_and_at_risk_at_4_points(yes, total, at_risk):
    answers = [k in yes for k in KEYS]  # the list form, in brochure order
    r = steadi_result("stay_independent", {"stay_independent": answers})
    assert (r.value, r.at_risk) == (total, at_risk)


@pytest.mark.parametrize("total, at_risk", [(0, False), (3, False), (4, True), (5, True), (14, True)])
def test_stay_independent_total_given_directly(total, at_risk):
    r = steadi_result("stay_independent", {"stay_independent_score": total})
    assert (r.value, r.at_risk) == (total, at_risk)
    assert "≥ 4 of 14" in r.rule


# --- Timed Up and Go: ≥ 12 s --------------------------------------------------

@pytest.mark.parametrize("tug, at_risk", [(1.0, False), (11.99, False), (12.0, True), (12.01, True), (300.0, True)])
def test_tug_at_risk_at_or_above_12_s(tug, at_risk):
    assert steadi_result("tug_seconds", {"tug_seconds": tug}).at_risk is at_risk


# --- 4-stage balance: tandem stance < 10 s ------------------------------------

@pytest.mark.parametrize("held, at_risk", [(0.0, True), (9.99, True), (10.0, False), (10.01, False), (60.0, False)])
def test_tandem_stance_held_under_10_s_is_at_risk(held, at_risk):
    assert steadi_result("tandem_seconds", {"tandem_seconds": held}).at_risk is at_risk


# --- 30-s chair stand, by age band and sex ---------------------------------------

CHAIR_CASES = [
    (age, sex, below)
    for lo, hi, men, women in CHAIR_STAND
    for age in (lo, (lo + hi) // 2, hi)
    for sex, below in ((Sex.MALE, men), (Sex.FEMALE, women))
]


@pytest.mark.parametrize("age, sex, below", CHAIR_CASES)
def test_chair_stand_threshold_for_every_age_band_and_sex(age, sex, below):
    assert chair_stand_threshold(age, sex) == below
    just_below = steadi_result("chair_stand_count", {"chair_stand_count": below - 1}, age, sex.value)
    at = steadi_result("chair_stand_count", {"chair_stand_count": below}, age, sex.value)
    assert just_below.at_risk is True
    assert at.at_risk is False
    assert f"< {below} stands" in at.rule


@pytest.mark.parametrize("age", [18, 59, 95, 120])
@pytest.mark.parametrize("sex", ["female", "male"])
def test_chair_stand_outside_60_to_94_is_not_judged(age, sex):
    r = steadi_result("chair_stand_count", {"chair_stand_count": 3}, age, sex)
    assert r.at_risk is None
    assert "not judged" in r.rule and str(age) in r.rule


@pytest.mark.parametrize("age, sex", [(None, "female"), (70, None), (None, None), (70, "unknown")])
def test_chair_stand_without_age_and_sex_is_not_judged(age, sex):
    r = steadi_result("chair_stand_count", {"chair_stand_count": 3}, age, sex)
    assert r.at_risk is None
    assert "age and sex needed" in r.rule


def test_only_recorded_steadi_items_are_scored():
    a = validate_assessment({"trials": [5.0]})
    assert score(a).steadi == ()
    a = validate_assessment({"trials": [5.0], "steadi": {"tug_seconds": 9}})
    assert [r.item for r in score(a).steadi] == ["tug_seconds"]
