"""The safe starting program: rules table, safety invariant, validation."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment import POPULATION_IDS, InputError
from assessment.program import (
    RED_FLAG_KEYS,
    SAFETY_SCREEN_KEYS,
    Program,
    build_program,
    validate_safety_screen,
)

DATA = Path(__file__).resolve().parents[2] / "assessment" / "data"
DAY = date(2025, 3, 10)
NEURO = ("parkinsons", "stroke", "multiple_sclerosis")
ALONE_WORDS = ("on your own", "alone", "by yourself")


def screen(**answers: bool) -> dict[str, bool]:
    out = {k: False for k in SAFETY_SCREEN_KEYS}
    out.update(answers)
    return out


def build(**overrides) -> Program:
    args = dict(
        risk_category="low",
        band="low",
        population="community",
        safety_screen=screen(),
        stop_reason=None,
        valid_trials=2,
        loss_of_balance=False,
        hands_on_assistance=False,
        assessed_on=DAY,
    )
    args.update(overrides)
    return build_program(**args)


def says_train_alone(program: Program) -> bool:
    """True when any week lets the patient train without a therapist."""
    for week in program.weeks:
        text = f"{week.support} {week.surface}".lower()
        if not week.supervised or "therapist" not in text:
            return True
        if any(w in text for w in ALONE_WORDS):
            return True
    return False


@pytest.mark.parametrize(
    ("overrides", "tier"),
    [
        ({"risk_category": "low"}, "independent"),
        ({"risk_category": "moderate"}, "supported"),
        ({"risk_category": "high"}, "supervised"),
        ({"risk_category": "low", "band": "high"}, "independent"),  # the model decides when it has a probability
        ({"risk_category": None, "band": "high"}, "supervised"),
        ({"risk_category": None, "band": "intermediate"}, "supported"),
        ({"risk_category": None, "band": "low"}, "supported"),  # no model: conservative
        ({"risk_category": None, "band": None}, "supported"),  # unknown: at least supported
        ({"risk_category": None, "band": None, "population": "stroke"}, "supervised"),
        ({"risk_category": None, "band": "low", "population": "parkinsons"}, "supervised"),
        ({"risk_category": "low", "population": "multiple_sclerosis"}, "supervised"),
        ({"risk_category": None, "band": None, "population": "amputation"}, "supported"),
        ({"risk_category": None, "band": "low", "population": "nursing_home"}, "supported"),
        ({"safety_screen": screen(balance_disorder_or_vertigo=True)}, "supervised"),
        ({"safety_screen": screen(neurological_condition=True)}, "supervised"),
        ({"safety_screen": screen(acute_joint_injury_or_pain=True)}, "supervised"),
        ({"safety_screen": screen(fall_with_injury_past_3_months=True)}, "supervised"),
        ({"safety_screen": screen(needed_help_or_lost_balance_in_test=True)}, "supervised"),
        ({"safety_screen": screen(uses_walking_aid=True)}, "supported"),
        ({"safety_screen": screen(uses_walking_aid=True), "risk_category": "high"}, "supervised"),
        ({"safety_screen": screen(has_treadmill_with_handrails=True)}, "independent"),
        ({"stop_reason": "pain"}, "supervised"),
        ({"stop_reason": "dizziness", "valid_trials": 1}, "supervised"),
        ({"valid_trials": 0}, "supervised"),
        ({"loss_of_balance": True}, "supervised"),
        ({"hands_on_assistance": True}, "supervised"),
    ],
)
def test_tier_rules(overrides, tier):
    program = build(**overrides)
    assert program.tier == tier
    assert program.supervised is (tier == "supervised")
    assert program.reasons, "every program names why it has its tier"
    for reason, source in zip(program.reasons, program.reason_sources):
        assert "clinical-evidence.md §" in source, reason


@pytest.mark.parametrize(
    ("overrides", "phrase"),
    [
        ({"stop_reason": "pain"}, "stopped by a stop rule"),
        ({"valid_trials": 0}, "No valid timed trial"),
        ({"hands_on_assistance": True}, "hands-on help"),
        ({"risk_category": "high"}, "high"),
        ({"safety_screen": screen(fall_with_injury_past_3_months=True)}, "Fall with injury"),
        ({"risk_category": None, "band": None}, "risk unknown"),
    ],
)
def test_reason_names_the_rule(overrides, phrase):
    assert any(phrase in r for r in build(**overrides).reasons)


def test_independent_with_treadmill_moves_to_treadmill_later_and_never_inclines():
    program = build(safety_screen=screen(has_treadmill_with_handrails=True))
    assert program.treadmill
    assert "treadmill" not in program.weeks[0].surface.lower()  # flat indoor surface first
    treadmill_weeks = [w for w in program.weeks if "treadmill" in w.surface.lower()]
    assert treadmill_weeks and all("no incline" in w.surface for w in treadmill_weeks)
    assert all("safety key" in w.support for w in treadmill_weeks)
    assert all("half your forward walking speed" in w.surface for w in treadmill_weeks)
    assert any(r.icon == "key" for r in program.safety_rules)


def test_no_treadmill_without_one_or_outside_independent_tier():
    assert not any("treadmill" in w.surface.lower() for w in build().weeks)
    moderate = build(risk_category="moderate", safety_screen=screen(has_treadmill_with_handrails=True))
    assert not moderate.treadmill
    assert not any("treadmill" in w.surface.lower() for w in moderate.weeks)
    assert not any(r.icon == "key" for r in moderate.safety_rules)


@pytest.mark.parametrize("tier_args", [{"risk_category": "low"}, {"risk_category": "moderate"}, {"risk_category": "high"}])
def test_plan_shape_and_dose_anchors(tier_args):
    program = build(**tier_args)
    assert [w.week for w in program.weeks] == [1, 2, 3, 4, 5, 6]
    minutes = [w.minutes_per_session for w in program.weeks]
    assert minutes == sorted(minutes), "dose never drops from week to week"
    assert 5 <= minutes[0] <= 10  # start with 5–10 min bouts (§6)
    assert max(minutes) <= 30  # build to 30 min at most (§6, NCT07649863)
    assert all(w.sessions_per_week == 3 for w in program.weeks)  # 3×/week (§6, Alghadir 2019)
    for before, after in zip(program.weeks, program.weeks[1:]):
        if after.minutes_per_session > before.minutes_per_session:
            assert "no increase in pain and no loss of balance" in before.progress_rule
    assert program.reassess_on == DAY + timedelta(weeks=6)
    assert {r.icon for r in program.stop_rules} == {"stop"}
    stops = " ".join(r.text for r in program.stop_rules).lower()
    assert "dizzy" in stops and "pain" in stops and "balance" in stops


def test_supported_is_counter_one_hand():
    program = build(risk_category="moderate")
    assert all("counter" in w.surface.lower() and "one hand" in w.support.lower() for w in program.weeks)


def test_supervised_is_therapist_with_bars_or_counter():
    program = build(risk_category="high")
    for week in program.weeks:
        assert week.supervised
        assert "physical therapist" in week.support
        assert "parallel bars or counter" in week.support


@settings(max_examples=200, deadline=None)
@given(
    risk=st.sampled_from(["low", "moderate", "high", None]),
    band=st.sampled_from(["low", "intermediate", "high", None]),
    population=st.sampled_from(POPULATION_IDS),
    answers=st.fixed_dictionaries({k: st.booleans() for k in SAFETY_SCREEN_KEYS}),
    stop=st.sampled_from([None, "cannot_continue_safely", "needs_hands_on_help", "pain", "dizziness"]),
    valid=st.integers(0, 3),
    lob=st.booleans(),
    hands=st.booleans(),
)
def test_high_risk_or_red_flag_is_never_unsupervised(risk, band, population, answers, stop, valid, lob, hands):
    program = build(
        risk_category=risk, band=band, population=population, safety_screen=answers,
        stop_reason=stop, valid_trials=valid, loss_of_balance=lob, hands_on_assistance=hands,
    )
    red_flag = any(answers[k] for k in RED_FLAG_KEYS)
    incomplete = stop is not None or valid == 0 or lob or hands
    high = risk == "high" or (risk is None and band == "high")
    must_supervise = red_flag or incomplete or high or population in NEURO
    if must_supervise:
        assert program.supervised and program.tier == "supervised"
        assert not says_train_alone(program)
    if risk is None or answers["uses_walking_aid"]:
        assert program.tier != "independent"
    if program.tier != "independent":
        assert not program.treadmill


def test_every_rules_row_cites_section_6_or_its_evidence():
    for name in ("program_rules", "program_weeks", "program_safety", "program_tiers"):
        with open(DATA / f"{name}.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert rows, name
        for row in rows:
            assert row["source"].startswith("clinical-evidence.md §"), (name, row)


def test_treadmill_speed_is_relative_or_labelled_unverified():
    text = (DATA / "program_weeks.csv").read_text("utf-8") + (DATA / "program_safety.csv").read_text("utf-8")
    assert "mph" not in text or "unverified" in text


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({k: False for k in SAFETY_SCREEN_KEYS[:-1]}, "safety_screen.has_treadmill_with_handrails"),
        ({**screen(), "uses_walking_aid": "maybe"}, "safety_screen.uses_walking_aid"),
        ({**screen(), "balance_disorder_or_vertigo": None}, "safety_screen.balance_disorder_or_vertigo"),
        ({**screen(), "smoker": True}, "safety_screen.smoker"),
        (["yes"], "safety_screen"),
    ],
)
def test_safety_screen_validator_names_the_key(raw, field):
    with pytest.raises(InputError) as err:
        validate_safety_screen(raw)
    assert err.value.field == field
    assert "allowed" in err.value.message


def test_safety_screen_accepts_yes_no_text():
    raw = {k: "no" for k in SAFETY_SCREEN_KEYS} | {"uses_walking_aid": "yes"}
    assert validate_safety_screen(raw) == screen(uses_walking_aid=True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"risk_category": "medium"}, "risk_category"),
        ({"band": "red"}, "band"),
        ({"population": "astronauts"}, "population"),
        ({"stop_reason": "tired"}, "stop_reason"),
        ({"valid_trials": -1}, "valid_trials"),
        ({"loss_of_balance": "perhaps"}, "loss_of_balance"),
        ({"assessed_on": "2025-03-10"}, "assessed_on"),
        ({"safety_screen": {}}, "safety_screen.balance_disorder_or_vertigo"),
    ],
)
def test_build_program_rejects_bad_input(overrides, field):
    with pytest.raises(InputError) as err:
        build(**overrides)
    assert err.value.field == field


def test_missing_safety_screen_is_supervised_even_at_low_risk():
    from datetime import date

    from assessment.program import build_program

    program = build_program(
        risk_category="low", band="low", population="community", safety_screen=None, stop_reason=None,
        valid_trials=2, loss_of_balance=False, hands_on_assistance=False, assessed_on=date(2026, 1, 5),
    )
    assert program.tier == "supervised" and program.supervised
    assert any("Safety screen not recorded" in r for r in program.reasons)
