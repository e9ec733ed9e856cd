"""The 3MBW protocol as data (clinical-evidence.md §1)."""

from __future__ import annotations

import pytest

from assessment import Protocol, StartConvention, StopReason
from assessment.protocol import (
    COURSE_METRES,
    SETUP_CHECKLIST,
    START_TIMING,
    STOP_REASON_TEXT,
    TRIAL_FLAG_SECONDS,
    TRIAL_MAX_SECONDS,
    TRIAL_MIN_SECONDS,
    VERBAL_SCRIPT,
)

# source: clinical-evidence.md §1, verbal script used in clinical in-service material.
EVIDENCE_SCRIPT = (
    "When I say go, walk backwards as quickly as you safely can until I say stop. "
    "I will walk behind you the whole time."
)


def test_verbal_script_is_the_published_one_word_for_word():
    assert VERBAL_SCRIPT == EVIDENCE_SCRIPT
    assert Protocol().script == EVIDENCE_SCRIPT
    assert any(EVIDENCE_SCRIPT in step for step in Protocol().steps())


def test_default_is_one_practice_walk_and_two_timed_trials_scored_as_the_mean():
    p = Protocol()
    assert (p.practice_walks, p.timed_trials) == (1, 2)
    assert p.course_metres == COURSE_METRES == 3.0
    assert p.scoring_rule == "mean of the valid timed trials"
    steps = p.steps()
    assert "1 practice walk" in steps[2]
    assert "2 timed walks" in steps[3]
    assert "fast pace" in p.pace and "as quickly as you safely can" in p.pace
    assert "beside/behind" in p.guarding


def test_plausibility_limits():
    assert (TRIAL_MIN_SECONDS, TRIAL_MAX_SECONDS, TRIAL_FLAG_SECONDS) == (1.0, 120.0, 30.0)


@pytest.mark.parametrize(
    "key, fragments",
    [
        ("course_taped", ["3 m", "smooth, hard floor", "not carpet or grass"]),
        ("path_clear", ["clear"]),
        ("footwear_recorded", ["Footwear"]),
        ("device_recorded", ["Assistive device"]),
        ("guard_ready", ["beside/behind", "catch"]),
    ],
)
def test_checklist_items(key, fragments):
    (item,) = [i for i in SETUP_CHECKLIST if i.key == key]
    for fragment in fragments:
        assert fragment in item.text


def test_every_checklist_item_has_a_source_in_the_evidence_file():
    assert len(SETUP_CHECKLIST) == 5
    assert len({i.key for i in SETUP_CHECKLIST}) == len(SETUP_CHECKLIST)
    for item in SETUP_CHECKLIST:
        assert item.text.strip()
        assert item.source.startswith("clinical-evidence.md §"), item.key
        assert len(item.source) > len("clinical-evidence.md §1, ")
    assert Protocol().checklist == SETUP_CHECKLIST


def test_four_stop_rules():
    assert {r.value for r in StopReason} == {"cannot_continue_safely", "needs_hands_on_help", "pain", "dizziness"}
    assert set(STOP_REASON_TEXT) == set(StopReason)
    stop_step = Protocol().steps()[-1]
    for words in ("cannot continue safely", "hands-on help", "pain", "dizziness"):
        assert words in stop_step


@pytest.mark.parametrize(
    "start, fragments",
    [
        (StartConvention.STANDING, ["Heels on the start line", "'go'", "3 m line"]),
        (StartConvention.ROLLING, ["0.3–0.6 m before the start line", "fully cross the finish line"]),
    ],
)
def test_timing_for_each_start_convention(start, fragments):
    assert set(START_TIMING) == set(StartConvention)
    p = Protocol(start=start)
    for fragment in fragments:
        assert fragment in p.timing
    assert p.timing in p.steps()[3]
