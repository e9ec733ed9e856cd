"""Invariants, as hypothesis property tests."""

import itertools

import pandas as pd

from hypothesis import given, settings
from hypothesis import strategies as st

from models import load_default_model

MODEL = load_default_model()
POPS = ["community", "nursing_home", "parkinsons"]

patients = st.fixed_dictionaries({
    "mean_seconds": st.floats(1.0, 120.0),
    "population": st.sampled_from(POPS),
    "age": st.one_of(st.none(), st.integers(60, 120)),  # younger: no probability (test below)
    "sex": st.sampled_from([None, "female", "male"]),
    "prior_falls": st.sampled_from([None, 0, 1, "2+"]),
    "walking_aid": st.sampled_from([None, True, False]),
    "stay_independent_score": st.one_of(st.none(), st.integers(0, 14)),
    "tug_seconds": st.one_of(st.none(), st.floats(1.0, 300.0)),
    "chair_stand_count": st.one_of(st.none(), st.integers(0, 60)),
    "tandem_seconds": st.one_of(st.none(), st.floats(0.0, 60.0)),
})
base_rates = st.one_of(st.none(), st.floats(0.01, 0.99))


def p(features, base_rate=None):
    return MODEL.predict_one(features, base_rate=base_rate).probability


@settings(max_examples=150, deadline=None)
@given(patients, st.floats(0.0, 50.0), base_rates)
def test_slower_never_lowers_risk(f, extra, base_rate):
    slower = dict(f, mean_seconds=min(120.0, f["mean_seconds"] + extra))
    assert p(slower, base_rate) >= p(f, base_rate)


@settings(max_examples=150, deadline=None)
@given(patients, base_rates)
def test_always_strictly_between_0_and_1(f, base_rate):
    r = MODEL.predict_one(f, base_rate=base_rate)
    assert 0 < r.probability_low <= r.probability <= r.probability_high < 1


@settings(max_examples=150, deadline=None)
@given(patients)
def test_prior_fall_never_lowers_risk(f):
    none, unknown = p(dict(f, prior_falls=0)), p(dict(f, prior_falls=None))
    one, more = p(dict(f, prior_falls=1)), p(dict(f, prior_falls="2+"))
    assert none <= unknown <= one <= more


ALTERNATIVES = {
    "sex": ["female", "male"],
    "prior_falls": [0, 1, "2+"],
    "walking_aid": [True, False],
    "age": list(range(60, 121)),
    "stay_independent_score": list(range(0, 15)),
    "tug_seconds": [1.0, 11.99, 12.0, 300.0],
    "chair_stand_count": list(range(0, 61)),
    "tandem_seconds": [0.0, 9.99, 10.0, 60.0],
}


@settings(max_examples=120, deadline=None)
@given(patients, st.sets(st.sampled_from(sorted(ALTERNATIVES)), min_size=1, max_size=2))
def test_unknown_lies_between_the_possible_values(f, hidden):
    hidden = sorted(hidden)
    unknown = MODEL.predict_frame(pd.DataFrame([{**f, **{k: None for k in hidden}}]))["probability"].iloc[0]
    combos = [{**f, **dict(zip(hidden, combo))} for combo in itertools.product(*(ALTERNATIVES[k] for k in hidden))]
    values = MODEL.predict_frame(pd.DataFrame(combos))["probability"]
    assert values.min() - 1e-12 <= unknown <= values.max() + 1e-12


@settings(max_examples=60, deadline=None)
@given(patients, st.integers(18, 59), st.sampled_from(["community", "nursing_home"]))
def test_no_probability_below_the_populations_ages(f, age, population):
    r = MODEL.predict_one(dict(f, age=age, population=population))
    assert r.probability is None and r.probability_low is None and r.risk_category is None
    assert f"Age {age} is outside" in r.note and r.horizon == "a fall in the next 12 months"


@settings(max_examples=100, deadline=None)
@given(patients, base_rates)
def test_interval_contains_both_scenarios(f, base_rate):
    r = MODEL.predict_one(f, base_rate=base_rate)
    for q in r.scenario_probabilities.values():
        assert r.probability_low <= q <= r.probability_high
    if f["population"] == "nursing_home":  # prospective time link: one scenario
        assert r.scenario_probabilities["A"] == r.scenario_probabilities["B"]
