"""Property tests of the gatekeeper: any input gives a valid Assessment or one InputError.

The InputError's ``field`` must be a non-empty string naming a real input
field: a known top-level key, ``trial_N`` or ``trial_N.<key>``, ``steadi`` or
``steadi.<...>``, ``assessment`` (the whole input), or an unknown key that was
actually given (named back to the user).
"""

from __future__ import annotations

import math
import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import POPULATION_IDS, Assessment, InputError, score, validate_assessment
from assessment.gatekeeper import _KNOWN_TOP, _KNOWN_TRIAL, brief
from assessment.protocol import MAX_TIMED_TRIALS, TRIAL_MAX_SECONDS, TRIAL_MIN_SECONDS

TODAY = date(2025, 6, 15)
STEADI_KEYS = ["stay_independent", "stay_independent_score", "tug_seconds", "chair_stand_count", "tandem_seconds"]
SI_KEYS = ["fallen_past_year", "uses_cane_or_walker", "unsteady_walking", "holds_furniture", "worried_falling",
           "push_to_stand", "trouble_curb", "rush_toilet", "lost_feeling_feet", "medicine_lightheaded",
           "medicine_sleep_mood", "feel_sad"]

# Ints too large for a float (10**400) or for str() (10**5000). Built lazily:
# hypothesis cannot repr a sampled_from holding a 5,000-digit int.
HUGE_INTS = st.sampled_from([400, 5000]).map(lambda e: 10**e) | st.sampled_from([400, 5000]).map(lambda e: -(10**e))

# Strings a caller might plausibly send, mixed with junk, so that some inputs get deep.
WORDS = st.sampled_from([
    "", " ", "community", "nursing_home", "parkinsons", "stroke", "copd", "female", "male", "unknown",
    "standing", "rolling", "stopwatch", "manual", "shoes", "barefoot", "cane", "walker", "none", "pain",
    "dizziness", "yes", "no", "true", "0", "1", "5.5", "1.0", "120", "120.0001", "0.99", "nan", "inf",
    "-inf", "1e400", "2024-05-01", "2999-01-01", "1989-12-31", "65", "17",
]) | st.integers(501, 600).map(lambda n: "x" * n)  # an over-long reason
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.5, max_value=130.0),
    st.integers(),
    st.integers(min_value=-5, max_value=130),
    st.sampled_from([0, 1, 1.0, 120, 120.0, 30.0, 30.01, 1e308, -0.0]),
    HUGE_INTS,
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, WORDS, st.text(max_size=30), st.binary(max_size=8),
                    st.dates(), st.datetimes(), st.complex_numbers())
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=10), st.sampled_from(sorted(_KNOWN_TOP | _KNOWN_TRIAL))),
                        inner, max_size=4),
    ),
    max_leaves=12,
)
ANY_KEY = st.one_of(st.text(max_size=12), st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False),
                    st.sampled_from(["", " "]), HUGE_INTS)


def near(keys, values):
    """Dicts drawn mostly from known keys, sometimes with a stray one."""
    return st.dictionaries(st.one_of(st.sampled_from(keys), ANY_KEY), values, max_size=len(keys) + 1)


VALUES = st.one_of(SCALARS, JUNK)
TRIAL = st.one_of(NUMBERS, WORDS, st.none(),
                  st.fixed_dictionaries({"seconds": NUMBERS}, optional={k: VALUES for k in sorted(_KNOWN_TRIAL - {"seconds"})}),
                  near(sorted(_KNOWN_TRIAL), VALUES))
STEADI = st.one_of(
    VALUES,
    st.fixed_dictionaries({}, optional={
        "stay_independent": st.one_of(st.lists(st.one_of(st.booleans(), WORDS), min_size=10, max_size=13),
                                      near(SI_KEYS, st.one_of(st.booleans(), WORDS, NUMBERS)), VALUES),
        "stay_independent_score": st.one_of(NUMBERS, WORDS),
        "tug_seconds": st.one_of(NUMBERS, WORDS),
        "chair_stand_count": st.one_of(NUMBERS, WORDS),
        "tandem_seconds": st.one_of(NUMBERS, WORDS),
    }),
    near(STEADI_KEYS, VALUES),
)
NEAR_VALID = st.fixed_dictionaries(
    {"trials": st.one_of(st.lists(TRIAL, max_size=MAX_TIMED_TRIALS + 2), VALUES)},
    optional={
        "population": st.one_of(st.sampled_from(POPULATION_IDS), WORDS, VALUES),
        "age": st.one_of(st.integers(10, 130), NUMBERS, WORDS),
        "sex": st.one_of(WORDS, VALUES),
        "start": st.one_of(WORDS, VALUES),
        "assessed_on": st.one_of(st.dates(), st.datetimes(), WORDS, VALUES),
        "footwear": st.one_of(WORDS, VALUES),
        "assistive_device": st.one_of(WORDS, VALUES),
        "practice_walk_done": st.one_of(st.booleans(), WORDS, VALUES),
        "stop_reason": st.one_of(WORDS, VALUES),
        "steadi": STEADI,
        "previous_seconds": st.one_of(NUMBERS, WORDS),
    },
)
# A clean two-trial test with one random field changed: many of these are valid.
MOSTLY_VALID = st.builds(
    lambda key, value, t1, t2: {"trials": [t1, t2], "age": 72, "sex": "female", **({key: value} if key else {})},
    st.one_of(st.none(), st.sampled_from(sorted(_KNOWN_TOP - {"trials"}))),
    VALUES,
    st.floats(min_value=1.0, max_value=120.0),
    st.floats(min_value=1.0, max_value=120.0),
)
# Plausible values in every field, as a careful caller would send them.
CLEAN = st.fixed_dictionaries(
    {"trials": st.lists(
        st.one_of(
            st.floats(min_value=1.0, max_value=120.0),
            st.fixed_dictionaries({"seconds": st.floats(min_value=1.0, max_value=120.0)}, optional={
                "timing_source": st.sampled_from(["stopwatch", "manual"]),
                "loss_of_balance": st.booleans(),
                "steps": st.integers(0, 200),
            }),
            st.fixed_dictionaries({"seconds": st.floats(min_value=1.0, max_value=120.0), "valid": st.just(False),
                                   "invalid_reason": st.sampled_from(["stumbled", "turned round"]),
                                   "hands_on_assistance": st.booleans()}),
        ),
        min_size=1, max_size=MAX_TIMED_TRIALS)},
    optional={
        "population": st.sampled_from(POPULATION_IDS),
        "age": st.integers(18, 120),
        "sex": st.sampled_from(["female", "male", "unknown", ""]),
        "footwear": st.sampled_from(["shoes", "barefoot", "other"]),
        "assistive_device": st.sampled_from(["none", "cane", "walker", "other"]),
        "practice_walk_done": st.booleans(),
        "assessed_on": st.dates(min_value=date(1990, 1, 1), max_value=TODAY),
        "previous_seconds": st.floats(min_value=1.0, max_value=120.0),
        "steadi": st.fixed_dictionaries({}, optional={
            "stay_independent": st.lists(st.booleans(), min_size=12, max_size=12),
            "tug_seconds": st.floats(min_value=1.0, max_value=300.0),
            "chair_stand_count": st.integers(0, 60),
            "tandem_seconds": st.floats(min_value=0.0, max_value=60.0),
        }),
    },
)
RAW_INPUT = st.one_of(
    st.dictionaries(ANY_KEY, VALUES, max_size=6),  # random dicts of junk
    NEAR_VALID,
    MOSTLY_VALID,
    CLEAN,
    VALUES,  # not a dict at all
)


def names_a_real_field(field: str, raw) -> bool:
    """True when ``field`` names an input field of ``raw`` or a known one."""
    given_top = {brief(k) for k in raw} if isinstance(raw, dict) else set()
    if field in _KNOWN_TOP or field == "assessment":
        return True
    m = re.fullmatch(r"trial_(\d+)(?:\.(.+))?", field, flags=re.S)
    if m:
        n, sub = int(m.group(1)), m.group(2)
        trials = raw.get("trials") if isinstance(raw, dict) else None
        count = len(trials) if isinstance(trials, (list, tuple)) else 0
        if not 1 <= n <= max(count, 1):
            return False
        if sub is None or sub in _KNOWN_TRIAL:
            return True
        trial = trials[n - 1] if count else None
        return isinstance(trial, dict) and sub in {brief(k) for k in trial}
    if field.startswith("steadi."):
        steadi = raw.get("steadi") if isinstance(raw, dict) else None
        sub = field[len("steadi."):]
        if sub in STEADI_KEYS:
            return True
        if sub.startswith("stay_independent."):
            item = sub[len("stay_independent."):]
            si = steadi.get("stay_independent") if isinstance(steadi, dict) else None
            return item in SI_KEYS or (isinstance(si, dict) and item in {brief(k) for k in si})
        return isinstance(steadi, dict) and sub in {brief(k) for k in steadi}
    if field == "steadi":
        return True
    return field in given_top  # an unknown key, named back


def check_valid(a: Assessment) -> None:
    """Every invariant a validated Assessment promises."""
    assert a.population in POPULATION_IDS
    assert a.age is None or (isinstance(a.age, int) and 18 <= a.age <= 120)
    assert len(a.trials) <= MAX_TIMED_TRIALS
    assert a.trials or a.stop_reason is not None
    for t in a.trials:
        assert isinstance(t.seconds, float) and math.isfinite(t.seconds)
        assert TRIAL_MIN_SECONDS <= t.seconds <= TRIAL_MAX_SECONDS
        assert t.start is a.start
        assert t.valid or (t.invalid_reason and t.invalid_reason.strip())
        assert not (t.valid and t.hands_on_assistance)
        assert t.steps is None or 0 <= t.steps <= 200
    assert a.assessed_on is None or date(1990, 1, 1) <= a.assessed_on <= TODAY
    assert type(a.assessed_on) in (type(None), date)
    assert a.previous_seconds is None or TRIAL_MIN_SECONDS <= a.previous_seconds <= TRIAL_MAX_SECONDS
    s = a.steadi
    assert s.stay_independent_score is None or 0 <= s.stay_independent_score <= 14
    assert s.tug_seconds is None or 1.0 <= s.tug_seconds <= 300.0
    assert s.chair_stand_count is None or 0 <= s.chair_stand_count <= 60
    assert s.tandem_seconds is None or 0.0 <= s.tandem_seconds <= 60.0
    r = score(a)  # a valid assessment always scores
    assert r.valid_trials == len(a.valid_trials)
    if r.mean_seconds is not None:
        assert TRIAL_MIN_SECONDS <= r.mean_seconds <= TRIAL_MAX_SECONDS


def test_gatekeeper_returns_a_valid_assessment_or_one_named_input_error():
    outcomes = {"valid": 0, "input_error": 0}
    fields: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(raw=RAW_INPUT)
    def check(raw):
        try:
            a = validate_assessment(raw, today=TODAY)
        except InputError as err:  # anything else propagates and fails the test
            outcomes["input_error"] += 1
            assert isinstance(err.field, str) and err.field.strip(), repr(err.field)
            assert isinstance(err.message, str) and err.message.strip()
            assert names_a_real_field(err.field, raw), (err.field, raw)
            fields.add(err.field.split(".")[0])
            return
        outcomes["valid"] += 1
        check_valid(a)

    check()
    total = outcomes["valid"] + outcomes["input_error"]
    print(f"\ngatekeeper property test: {total} inputs tried, {outcomes['valid']} valid, "
          f"{outcomes['input_error']} InputError; error fields seen: {len(fields)}")
    assert total >= 300
    assert outcomes["valid"] >= 10 and outcomes["input_error"] >= 10  # both branches really exercised


@settings(max_examples=150, deadline=None, database=None)
@given(seconds=st.lists(st.floats(min_value=1.0, max_value=120.0), min_size=1, max_size=MAX_TIMED_TRIALS))
def test_any_list_of_plausible_times_scores_to_their_mean(seconds):
    r = score(validate_assessment({"trials": seconds}))
    assert r.valid_trials == len(seconds)
    assert abs(r.mean_seconds - sum(seconds) / len(seconds)) <= 5e-5
    assert min(seconds) - 5e-5 <= r.mean_seconds <= max(seconds) + 5e-5


@settings(max_examples=150, deadline=None, database=None)
@given(a=st.floats(min_value=1.0, max_value=120.0), b=st.floats(min_value=1.0, max_value=120.0))
def test_percentile_never_falls_as_the_walk_gets_slower(a, b):
    fast, slow = sorted((a, b))
    r_fast, r_slow = score(validate_assessment({"trials": [fast]})), score(validate_assessment({"trials": [slow]}))
    assert r_fast.percentile <= r_slow.percentile
    assert r_fast.z <= r_slow.z
