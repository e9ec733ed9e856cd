"""Table-driven tests of every rule in :func:`assessment.validate_assessment`.

Plausibility limits (1–120 s, flag above 30 s, age 18–120) are product limits
from issue #2; clinical numbers are checked in the scoring/STEADI tests.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from assessment import (
    POPULATION_IDS,
    AssistiveDevice,
    Footwear,
    InputError,
    Sex,
    StartConvention,
    StopReason,
    TimingSource,
    validate_assessment,
)

TODAY = date(2025, 6, 15)


def validate(**raw):
    """Validate ``raw`` with a fixed ``today`` so date tests do not drift."""
    return validate_assessment(raw, today=TODAY)


def error_of(**raw) -> InputError:
    with pytest.raises(InputError) as info:
        validate(**raw)
    err = info.value
    assert isinstance(err.field, str) and err.field
    assert isinstance(err.message, str) and err.message
    return err


# --- trial time: plausible range 1.0–120 s ---------------------------------

@pytest.mark.parametrize(
    "raw, expected",
    [
        (1.0, 1.0),  # lower boundary is inside
        (1, 1.0),
        ("1.0", 1.0),
        (1.01, 1.01),
        (5.5, 5.5),
        (" 7.25 ", 7.25),
        ("12", 12.0),
        (29.99, 29.99),
        (30.0, 30.0),
        (30.01, 30.01),
        (119.99, 119.99),
        (120, 120.0),
        (120.0, 120.0),  # upper boundary is inside
        ("120.0", 120.0),
    ],
)
def test_trial_time_in_range_is_accepted(raw, expected):
    a = validate(trials=[raw])
    assert a.trials[0].seconds == expected
    assert isinstance(a.trials[0].seconds, float)


@pytest.mark.parametrize(
    "raw",
    [0.99, 0.999999, 0.0, -0.0, -5, 120.000001, 120.01, 121, 1e9, pytest.param(10**400, id="10**400"),
     pytest.param(-(10**400), id="-10**400"), math.inf, -math.inf, "inf", "-inf", "nan", "0.5", "121", "1e400"],
)
def test_trial_time_outside_range_is_rejected_naming_the_trial_and_range(raw):
    err = error_of(trials=[raw])
    assert err.field == "trial_1"
    assert "1 to 120 seconds" in err.message


@pytest.mark.parametrize(
    "raw",
    [True, False, "abc", "5,5", "5 s", "five", [5], (5,), {5}, b"5", object(), 3 + 0j],
)
def test_trial_time_that_is_not_a_number_is_rejected(raw):
    err = error_of(trials=[raw])
    assert err.field == "trial_1"
    assert "not a number" in err.message


@pytest.mark.parametrize("raw", [None, "", "   ", math.nan, float("nan"), {}, {"seconds": None}, {"seconds": ""}])
def test_trial_without_a_time_is_rejected_as_required(raw):
    err = error_of(trials=[raw])
    assert err.field == "trial_1"
    assert "required" in err.message


def test_error_names_the_second_trial():
    err = error_of(trials=[5.0, 500.0])
    assert err.field == "trial_2"


@pytest.mark.parametrize(
    "seconds, flagged",
    [(1.0, False), (29.99, False), (30.0, False), (30.01, True), (45.0, True), (120.0, True)],
)
def test_slow_trial_flag_is_strictly_above_30_s(seconds, flagged):
    a = validate(trials=[seconds])
    assert a.trials[0].flagged_slow is flagged


# --- timing source ----------------------------------------------------------

@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, TimingSource.STOPWATCH),  # default
        ("", TimingSource.STOPWATCH),
        ("stopwatch", TimingSource.STOPWATCH),
        ("manual", TimingSource.MANUAL),
        (" Manual ", TimingSource.MANUAL),
        (TimingSource.MANUAL, TimingSource.MANUAL),
    ],
)
def test_timing_source_is_recorded(raw, expected):
    a = validate(trials=[{"seconds": 5.0, "timing_source": raw}])
    assert a.trials[0].timing_source is expected


@pytest.mark.parametrize("raw", ["phone", "video", 1, True, ["manual"]])
def test_unknown_timing_source_is_rejected_with_allowed_values(raw):
    err = error_of(trials=[{"seconds": 5.0, "timing_source": raw}])
    assert err.field == "trial_1.timing_source"
    assert "stopwatch, manual" in err.message


# --- validity, invalid reason, hands-on assistance -------------------------

@pytest.mark.parametrize("valid", [False, "no", "false", "n", "0", 0])
def test_invalid_trial_without_a_reason_is_rejected(valid):
    err = error_of(trials=[{"seconds": 5.0, "valid": valid}])
    assert err.field == "trial_1.invalid_reason"
    assert "reason" in err.message


@pytest.mark.parametrize("reason", ["   ", 5, True, "x" * 501])
def test_invalid_reason_must_be_text_of_1_to_500_characters(reason):
    err = error_of(trials=[{"seconds": 5.0, "valid": False, "invalid_reason": reason}])
    assert err.field == "trial_1.invalid_reason"
    assert "1 to 500" in err.message


@pytest.mark.parametrize("reason", ["stumbled", " turned to look ", "x" * 500])
def test_invalid_trial_with_a_reason_is_kept_but_not_valid(reason):
    a = validate(trials=[{"seconds": 5.0, "valid": False, "invalid_reason": reason}, 6.0])
    assert a.trials[0].valid is False
    assert a.trials[0].invalid_reason == reason.strip()
    assert a.valid_trials == (a.trials[1],)


@pytest.mark.parametrize("valid", [None, True, "yes", "true", "1", 1])
@pytest.mark.parametrize("hands", [True, "yes", "y", 1])
def test_hands_on_assistance_cannot_be_a_valid_trial(valid, hands):
    err = error_of(trials=[{"seconds": 5.0, "valid": valid, "hands_on_assistance": hands}])
    assert err.field == "trial_1.valid"
    assert "hands-on" in err.message


def test_hands_on_assistance_on_an_invalid_trial_is_accepted():
    a = validate(
        trials=[{"seconds": 5.0, "valid": False, "invalid_reason": "caught", "hands_on_assistance": True}],
        stop_reason="needs_hands_on_help",
    )
    assert a.trials[0].hands_on_assistance is True
    assert a.valid_trials == ()


@pytest.mark.parametrize("field", ["valid", "loss_of_balance", "hands_on_assistance"])
@pytest.mark.parametrize("raw", ["maybe", 2, -1, 0.5, "si", [True]])
def test_yes_no_trial_fields_reject_other_values(field, raw):
    trial = {"seconds": 5.0, field: raw, "invalid_reason": "r"}
    err = error_of(trials=[trial])
    assert err.field == f"trial_1.{field}"
    assert "yes, no" in err.message


@pytest.mark.parametrize("steps, expected", [(None, None), (0, 0), (12, 12), ("7", 7), (200, 200), (12.0, 12)])
def test_steps_is_an_optional_whole_number(steps, expected):
    assert validate(trials=[{"seconds": 5.0, "steps": steps}]).trials[0].steps == expected


@pytest.mark.parametrize("steps", [-1, 201, 2.5, "many", True])
def test_steps_outside_0_to_200_or_not_whole_is_rejected(steps):
    assert error_of(trials=[{"seconds": 5.0, "steps": steps}]).field == "trial_1.steps"


# --- start convention: one per assessment -----------------------------------

@pytest.mark.parametrize(
    "top, trial_starts, expected",
    [
        (None, [None, None], StartConvention.STANDING),
        ("standing", ["standing", None], StartConvention.STANDING),
        ("rolling", [None, None], StartConvention.ROLLING),
        ("rolling", ["rolling", "Rolling"], StartConvention.ROLLING),
    ],
)
def test_one_start_convention_for_every_trial(top, trial_starts, expected):
    a = validate(start=top, trials=[{"seconds": 5.0, "start": s} for s in trial_starts])
    assert a.start is expected
    assert all(t.start is expected for t in a.trials)


@pytest.mark.parametrize(
    "top, trial_starts, bad_field",
    [
        ("standing", ["standing", "rolling"], "trial_2.start"),
        ("rolling", ["standing", "rolling"], "trial_1.start"),
        (None, ["rolling", "standing"], "trial_2.start"),
        ("rolling", [None, "standing"], "trial_2.start"),
    ],
)
def test_mixed_start_conventions_are_rejected(top, trial_starts, bad_field):
    err = error_of(start=top, trials=[{"seconds": 5.0, "start": s} for s in trial_starts])
    assert err.field == bad_field
    assert "one start convention" in err.message


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"start": "flying", "trials": [5.0]}, "start"),
        ({"trials": [{"seconds": 5.0, "start": "walking"}]}, "trial_1.start"),
    ],
)
def test_unknown_start_convention_is_rejected(raw, field):
    with pytest.raises(InputError) as info:
        validate_assessment(raw, today=TODAY)
    assert info.value.field == field
    assert "standing, rolling" in info.value.message


# --- number of trials -------------------------------------------------------

@pytest.mark.parametrize("trials", [None, [], ()])
def test_no_trial_is_rejected_without_a_stop_reason(trials):
    err = error_of(trials=trials)
    assert err.field == "trial_1"


@pytest.mark.parametrize("reason", [r.value for r in StopReason])
def test_no_trial_is_accepted_when_the_test_was_stopped(reason):
    a = validate(trials=[], stop_reason=reason)
    assert a.trials == ()
    assert a.stop_reason is StopReason(reason)


@pytest.mark.parametrize("n, ok", [(1, True), (2, True), (10, True), (11, False), (50, False)])
def test_at_most_ten_timed_trials(n, ok):
    if ok:
        assert len(validate(trials=[5.0] * n).trials) == n
    else:
        err = error_of(trials=[5.0] * n)
        assert err.field == "trials"
        assert "1 to 10" in err.message


@pytest.mark.parametrize("trials", ["5.0", b"5.0", 5.0, {"seconds": 5.0}, {5.0}])
def test_trials_must_be_a_list(trials):
    assert error_of(trials=trials).field == "trials"


# --- unknown fields ---------------------------------------------------------

@pytest.mark.parametrize(
    "raw, field",
    [
        ({"trials": [5.0], "agee": 70}, "agee"),
        ({"trials": [5.0], "": 1}, "assessment"),
        ({"trials": [{"seconds": 5.0, "secs": 5}]}, "trial_1.secs"),
        ({"trials": [{"seconds": 5.0, "": 5}]}, "trial_1"),
        ({"trials": [5.0], "steadi": {"tug": 13}}, "steadi.tug"),
        ({"trials": [5.0], "steadi": {" ": 13}}, "steadi"),
    ],
)
def test_unknown_fields_are_rejected_by_name(raw, field):
    with pytest.raises(InputError) as info:
        validate_assessment(raw, today=TODAY)
    assert info.value.field == field
    assert "unknown field" in info.value.message


@pytest.mark.parametrize("raw", [None, [], "age=70", 5, [("trials", [5.0])]])
def test_input_must_be_a_mapping(raw):
    with pytest.raises(InputError) as info:
        validate_assessment(raw, today=TODAY)
    assert info.value.field == "assessment"


# --- age, sex, population, date ----------------------------------------------

@pytest.mark.parametrize(
    "raw, expected",
    [(None, None), ("", None), (math.nan, None), (18, 18), (65, 65), ("65", 65), (" 70 ", 70), (65.0, 65), (120, 120)],
)
def test_age_in_whole_years_18_to_120(raw, expected):
    assert validate(trials=[5.0], age=raw).age == expected


@pytest.mark.parametrize(
    "raw", [17, 121, 0, -70, 65.5, "sixty", "65 y", True, math.inf, pytest.param(10**400, id="10**400"), [65]]
)
def test_age_outside_range_or_not_whole_is_rejected(raw):
    err = error_of(trials=[5.0], age=raw)
    assert err.field == "age"
    assert "18 to 120" in err.message


@pytest.mark.parametrize(
    "raw, expected",
    [(None, None), ("", None), ("unknown", None), (" Unknown ", None), ("female", Sex.FEMALE),
     ("MALE", Sex.MALE), (" male ", Sex.MALE), (Sex.FEMALE, Sex.FEMALE)],
)
def test_sex_is_female_male_or_not_recorded(raw, expected):
    assert validate(trials=[5.0], sex=raw).sex is expected


@pytest.mark.parametrize("raw", ["f", "m", "other", "woman", 1, True, ["female"]])
def test_other_sex_values_are_rejected_with_allowed_values(raw):
    err = error_of(trials=[5.0], sex=raw)
    assert err.field == "sex"
    assert "female, male" in err.message


@pytest.mark.parametrize("pid", POPULATION_IDS)
def test_every_population_id_is_accepted(pid):
    assert validate(trials=[5.0], population=pid).population == pid
    assert validate(trials=[5.0], population=f" {pid.upper()} ").population == pid


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_population_defaults_to_community(raw):
    assert validate(trials=[5.0], population=raw).population == "community"


@pytest.mark.parametrize("raw", ["copd", "nursing home", "parkinson", 3, True, ["community"]])
def test_unknown_population_is_rejected_listing_every_id(raw):
    err = error_of(trials=[5.0], population=raw)
    assert err.field == "population"
    assert ", ".join(POPULATION_IDS) in err.message


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, None),
        ("", None),
        ("2024-05-01", date(2024, 5, 1)),
        (" 2024-05-01 ", date(2024, 5, 1)),
        (date(2024, 5, 1), date(2024, 5, 1)),
        (datetime(2024, 5, 1, 14, 30), date(2024, 5, 1)),
        ("1990-01-01", date(1990, 1, 1)),
        (TODAY, TODAY),
        (TODAY.isoformat(), TODAY),
    ],
)
def test_assessment_date(raw, expected):
    assert validate(trials=[5.0], assessed_on=raw).assessed_on == expected


@pytest.mark.parametrize(
    "raw",
    ["1989-12-31", TODAY + timedelta(days=1), (TODAY + timedelta(days=1)).isoformat(), "01/05/2024",
     "2024-13-01", "yesterday", 20240501, True, datetime(2999, 1, 1)],
)
def test_bad_or_future_assessment_date_is_rejected(raw):
    err = error_of(trials=[5.0], assessed_on=raw)
    assert err.field == "assessed_on"
    assert "YYYY-MM-DD" in err.message


# An int of more than 4,300 digits makes str()/repr() raise ValueError: the
# gatekeeper must still answer with an InputError naming the field.
HUGE = 10**5000


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"trials": [HUGE]}, "trial_1"),
        ({"trials": [{"seconds": 5.0, "valid": HUGE}]}, "trial_1.valid"),
        ({"trials": [{"seconds": 5.0, "timing_source": HUGE}]}, "trial_1.timing_source"),
        ({"trials": [5.0], "sex": HUGE}, "sex"),
        ({"trials": [5.0], "population": HUGE}, "population"),
        ({"trials": [5.0], "assessed_on": HUGE}, "assessed_on"),
        ({"trials": [5.0], "practice_walk_done": HUGE}, "practice_walk_done"),
        ({"trials": [5.0], "steadi": {"stay_independent": [HUGE] * 12}}, "steadi.stay_independent.fallen_past_year"),
        ({"trials": [5.0], HUGE: 1}, "<int>"),
    ],
    ids=["trial", "valid", "timing_source", "sex", "population", "assessed_on", "practice", "steadi", "key"],
)
def test_unprintable_huge_numbers_give_an_input_error(raw, field):
    with pytest.raises(InputError) as info:
        validate_assessment(raw, today=TODAY)
    assert info.value.field == field


# --- other choices and yes/no fields -----------------------------------------

@pytest.mark.parametrize(
    "field, enum_type",
    [("footwear", Footwear), ("assistive_device", AssistiveDevice), ("stop_reason", StopReason)],
)
def test_choice_fields_accept_every_allowed_value_and_reject_others(field, enum_type):
    for member in enum_type:
        assert getattr(validate(trials=[5.0], **{field: member.value.upper()}), field) is member
    err = error_of(trials=[5.0], **{field: "sandals-on-the-moon"})
    assert err.field == field
    assert ", ".join(m.value for m in enum_type) in err.message


@pytest.mark.parametrize(
    "field, default", [("footwear", None), ("assistive_device", AssistiveDevice.NONE), ("stop_reason", None)]
)
def test_choice_field_defaults(field, default):
    assert getattr(validate(trials=[5.0]), field) is default


@pytest.mark.parametrize(
    "raw, expected",
    [(None, True), ("", True), (True, True), ("yes", True), ("Y", True), (1, True),
     (False, False), ("no", False), ("FALSE", False), (0, False)],
)
def test_practice_walk_done(raw, expected):
    assert validate(trials=[5.0], practice_walk_done=raw).practice_walk_done is expected


@pytest.mark.parametrize("raw", ["maybe", 2, 0.5, [True]])
def test_practice_walk_done_rejects_non_yes_no(raw):
    assert error_of(trials=[5.0], practice_walk_done=raw).field == "practice_walk_done"


@pytest.mark.parametrize("raw, expected", [(None, None), ("", None), (1.0, 1.0), ("6.4", 6.4), (120, 120.0)])
def test_previous_seconds_in_trial_range(raw, expected):
    assert validate(trials=[5.0], previous_seconds=raw).previous_seconds == expected


@pytest.mark.parametrize("raw", [0.99, 120.5, "abc", True, math.inf])
def test_previous_seconds_outside_trial_range_is_rejected(raw):
    assert error_of(trials=[5.0], previous_seconds=raw).field == "previous_seconds"


# --- STEADI inputs -----------------------------------------------------------

SI_KEYS = (
    "fallen_past_year", "uses_cane_or_walker", "unsteady_walking", "holds_furniture", "worried_falling",
    "push_to_stand", "trouble_curb", "rush_toilet", "lost_feeling_feet", "medicine_lightheaded",
    "medicine_sleep_mood", "feel_sad",
)


@pytest.mark.parametrize(
    "steadi, field",
    [
        ("tug=12", "steadi"),
        ([1, 2], "steadi"),
        ({"stay_independent": {k: "no" for k in SI_KEYS[:-1]}}, "steadi.stay_independent.feel_sad"),
        ({"stay_independent": {**{k: "no" for k in SI_KEYS}, "extra": "no"}}, "steadi.stay_independent.extra"),
        ({"stay_independent": {**{k: "no" for k in SI_KEYS}, "worried_falling": "often"}},
         "steadi.stay_independent.worried_falling"),
        ({"stay_independent": ["no"] * 11}, "steadi.stay_independent"),
        ({"stay_independent": ["no"] * 13}, "steadi.stay_independent"),
        ({"stay_independent": "no"}, "steadi.stay_independent"),
        ({"stay_independent": ["yes"] * 12, "stay_independent_score": 13}, "steadi.stay_independent_score"),
        ({"stay_independent_score": 15}, "steadi.stay_independent_score"),
        ({"stay_independent_score": -1}, "steadi.stay_independent_score"),
        ({"stay_independent_score": 3.5}, "steadi.stay_independent_score"),
        ({"tug_seconds": 0.99}, "steadi.tug_seconds"),
        ({"tug_seconds": 300.01}, "steadi.tug_seconds"),
        ({"tug_seconds": "slow"}, "steadi.tug_seconds"),
        ({"chair_stand_count": -1}, "steadi.chair_stand_count"),
        ({"chair_stand_count": 61}, "steadi.chair_stand_count"),
        ({"chair_stand_count": 10.5}, "steadi.chair_stand_count"),
        ({"tandem_seconds": -0.1}, "steadi.tandem_seconds"),
        ({"tandem_seconds": 60.1}, "steadi.tandem_seconds"),
        ({"tandem_seconds": math.inf}, "steadi.tandem_seconds"),
    ],
)
def test_bad_steadi_items_are_rejected_by_name(steadi, field):
    assert error_of(trials=[5.0], steadi=steadi).field == field


@pytest.mark.parametrize(
    "steadi, score",
    [
        (None, None),
        ({}, None),
        ({"stay_independent": ["no"] * 12}, 0),
        ({"stay_independent": ["yes"] * 12}, 14),
        ({"stay_independent": ["yes"] * 12, "stay_independent_score": "14"}, 14),
        ({"stay_independent": {k: (k == "fallen_past_year") for k in SI_KEYS}}, 2),
        ({"stay_independent_score": 0}, 0),
        ({"stay_independent_score": 14}, 14),
    ],
)
def test_steadi_stay_independent_total(steadi, score):
    a = validate(trials=[5.0], steadi=steadi)
    assert a.steadi.stay_independent_score == score


@pytest.mark.parametrize(
    "field, raw, expected",
    [("tug_seconds", 1.0, 1.0), ("tug_seconds", "300", 300.0), ("chair_stand_count", 0, 0),
     ("chair_stand_count", "60", 60), ("tandem_seconds", 0, 0.0), ("tandem_seconds", 60, 60.0)],
)
def test_steadi_measures_at_their_limits_are_accepted(field, raw, expected):
    assert getattr(validate(trials=[5.0], steadi={field: raw}).steadi, field) == expected


@pytest.mark.parametrize("make", [float, int, "float64", "int64", "int32"])
def test_numpy_scalars_from_a_dataframe_are_numbers(make):
    import numpy as np

    convert = make if callable(make) else getattr(np, make)
    a = validate(trials=[convert(5)], age=convert(70), previous_seconds=convert(6))
    assert (a.trials[0].seconds, a.age, a.previous_seconds) == (5.0, 70, 6.0)


def test_all_rolling_trials_without_a_top_level_start_are_accepted_as_rolling():
    from assessment import StartConvention, validate_assessment

    a = validate_assessment({"trials": [{"seconds": 5, "start": "rolling"}, {"seconds": 5.2, "start": "rolling"}]})
    assert a.start is StartConvention.ROLLING
    assert all(t.start is StartConvention.ROLLING for t in a.trials)

