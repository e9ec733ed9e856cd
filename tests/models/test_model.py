"""The public API: predict_one, predict_frame, validation, base rate, categories."""

import time

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from assessment import InputError
from models import FallRiskModel, RiskEstimate
from models.evidence import evidence_cohort


def test_version_and_result_shape(model):
    assert isinstance(model, FallRiskModel) and model.version == "evidence-2.0.0"
    r = model.predict_one({"mean_seconds": 6.0})
    assert isinstance(r, RiskEstimate)
    assert r.probability_low < r.probability < r.probability_high
    assert r.risk_category in ("low", "moderate", "high")
    assert set(r.thresholds) >= {"low_below", "high_at_or_above", "basis"}
    d = r.to_dict()
    assert d["model_version"] == "evidence-2.0.0" and d["population"] == "community"


def test_fast_path_equals_the_sklearn_estimator(model):
    X, _ = evidence_cohort(5, 3000)
    eta, _ = model.linear(X)
    assert np.allclose(expit(eta), model.estimator.predict_proba(X)[:, 1], atol=1e-12)


def test_frame_and_one_agree(model):
    rows = [
        {"mean_seconds": 4.1, "age": 70, "sex": "female", "population": "community", "prior_falls": "2+",
         "walking_aid": "yes", "stay_independent_score": 6, "tug_seconds": 14, "chair_stand_count": 8, "tandem_seconds": 5},
        {"mean_seconds": 9.0, "population": "nursing_home", "prior_falls": 0, "walking_aid": False},
        {"mean_seconds": 5.0, "population": "parkinsons"},
        {"mean_seconds": 5.0, "population": "stroke"},
    ]
    frame = model.predict_frame(pd.DataFrame(rows))
    assert list(frame.columns[:5]) == ["probability", "probability_low", "probability_high", "risk_category", "model_version"]
    for i, row in enumerate(rows):
        one = model.predict_one(row)
        if one.probability is None:
            assert np.isnan(frame["probability"].iloc[i]) and pd.isna(frame["risk_category"].iloc[i])
        else:
            assert frame["probability"].iloc[i] == pytest.approx(one.probability, abs=5e-5)
            assert frame["risk_category"].iloc[i] == one.risk_category


@pytest.mark.parametrize("population", ["multiple_sclerosis", "stroke", "knee_arthroplasty", "hip_arthroplasty", "amputation"])
def test_no_probability_without_faller_data(model, population):
    r = model.predict_one({"mean_seconds": 7.0, "population": population, "prior_falls": 1})
    assert r.probability is None and r.probability_low is None and r.risk_category is None
    assert "No fall probability" in r.note
    assert model.predict_one({"mean_seconds": 7.0, "population": population}, base_rate=0.4).probability is None


def test_categories_follow_the_stated_thresholds(model):
    t = model.thresholds("community")
    odds = 0.275 / 0.725
    assert t["low_below"] == pytest.approx((odds / 2) / (1 + odds / 2), abs=1e-4)
    assert t["high_at_or_above"] == pytest.approx((2 * odds) / (1 + 2 * odds), abs=1e-4)
    for features in ({"mean_seconds": 3.0, "prior_falls": 0, "walking_aid": "no", "stay_independent_score": 0},
                     {"mean_seconds": 5.0}, {"mean_seconds": 12.0, "prior_falls": 1, "walking_aid": "yes"}):
        r = model.predict_one(features)
        expected = "low" if r.probability < t["low_below"] else "high" if r.probability >= t["high_at_or_above"] else "moderate"
        assert r.risk_category == expected
    assert model.predict_one({"mean_seconds": 3.0, "prior_falls": 0, "walking_aid": "no", "stay_independent_score": 0}).risk_category == "low"
    assert model.predict_one({"mean_seconds": 12.0, "prior_falls": 1, "walking_aid": "yes"}).risk_category == "high"


def test_base_rate_shifts_only_the_intercept(model):
    f = {"mean_seconds": 6.5, "prior_falls": 1, "sex": "male"}
    before, after = model.predict_one(f), model.predict_one(f, base_rate=0.45)
    shift = logit(0.45) - logit(0.275)
    assert logit(after.probability) - logit(before.probability) == pytest.approx(shift, abs=1e-3)
    assert after.thresholds == before.thresholds and "Base rate" in after.note
    # the time effect is unchanged: the same logit difference between two times
    d0 = logit(model.predict_one({"mean_seconds": 8.0}).probability) - logit(model.predict_one({"mean_seconds": 6.0}).probability)
    d1 = logit(model.predict_one({"mean_seconds": 8.0}, base_rate=0.1).probability) - logit(model.predict_one({"mean_seconds": 6.0}, base_rate=0.1).probability)
    assert d1 == pytest.approx(d0, abs=1e-3)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, "x", True, float("nan")])
def test_base_rate_validated(model, bad):
    with pytest.raises(InputError) as e:
        model.predict_one({"mean_seconds": 5.0}, base_rate=bad)
    assert e.value.field == "base_rate" and "between 0 and 1" in e.value.message


@pytest.mark.parametrize("features,field", [
    ({}, "mean_seconds"),
    ({"mean_seconds": ""}, "mean_seconds"),
    ({"mean_seconds": 0.2}, "mean_seconds"),
    ({"mean_seconds": "fast"}, "mean_seconds"),
    ({"mean_seconds": 5, "prior_falls": "-1"}, "prior_falls"),
    ({"mean_seconds": 5, "prior_falls": "many"}, "prior_falls"),
    ({"mean_seconds": 5, "walking_aid": "sometimes"}, "walking_aid"),
    ({"mean_seconds": 5, "population": "moon"}, "population"),
    ({"mean_seconds": 5, "sex": "x"}, "sex"),
    ({"mean_seconds": 5, "age": 200}, "age"),
    ({"mean_seconds": 5, "stay_independent_score": 15}, "stay_independent_score"),
    ({"mean_seconds": 5, "tug_seconds": 0}, "tug_seconds"),
    ({"mean_seconds": 5, "chair_stand_count": 2.5}, "chair_stand_count"),
    ({"mean_seconds": 5, "tandem_seconds": 61}, "tandem_seconds"),
    ({"mean_seconds": 5, "colour": "red"}, "colour"),
])
def test_bad_input_names_the_field(model, features, field):
    with pytest.raises(InputError) as e:
        model.predict_one(features)
    assert e.value.field == field and "allowed" in e.value.message


def test_frame_errors_name_field_and_row(model):
    df = pd.DataFrame({"mean_seconds": [5.0, 6.0], "prior_falls": ["1", "lots"]}, index=["a", "b"])
    with pytest.raises(InputError) as e:
        model.predict_frame(df)
    assert e.value.field == "prior_falls" and "row b" in e.value.message
    with pytest.raises(InputError) as e:
        model.predict_frame(pd.DataFrame({"mean_seconds": [5.0, None]}))
    assert e.value.field == "mean_seconds" and "required" in e.value.message


def test_accepted_spellings(model):
    base = model.predict_one({"mean_seconds": 6, "prior_falls": 2, "walking_aid": True, "sex": "female"}).probability
    for pf, aid, sex in (("2+", "yes", "Female"), ("2", "y", " female "), (1, 1, "female"), (2.0, 1.0, "female")):
        assert model.predict_one({"mean_seconds": "6", "prior_falls": pf, "walking_aid": aid, "sex": sex}).probability == base
    unknown = model.predict_one({"mean_seconds": 6}).probability
    assert model.predict_one({"mean_seconds": 6, "prior_falls": None, "walking_aid": "", "sex": "unknown", "age": ""}).probability == unknown


def test_frame_accepts_numeric_yes_no_with_blanks(model):
    df = pd.DataFrame({"mean_seconds": [6.0, 6.0, 6.0], "walking_aid": [1.0, 0.0, np.nan], "prior_falls": [2.0, np.nan, 0.0]})
    out = model.predict_frame(df)["probability"]
    assert out.iloc[0] == pytest.approx(model.predict_one({"mean_seconds": 6, "walking_aid": "yes", "prior_falls": "2+"}).probability)
    assert out.iloc[1] == pytest.approx(model.predict_one({"mean_seconds": 6, "walking_aid": "no"}).probability)


def test_steadi_level_from_items(model):
    p = lambda **kw: model.predict_one({"mean_seconds": 5.5, **kw}).probability  # noqa: E731
    unknown = p()
    assert p(stay_independent_score=2) < unknown  # screen negative → low
    assert p(stay_independent_score=6, tug_seconds=13) > unknown  # screen + TUG at risk
    assert p(stay_independent_score=6) == unknown  # not determined without a gait test
    # all three tests normal → low; chair needs age and sex for its norm
    assert p(stay_independent_score=6, tug_seconds=9, tandem_seconds=20, chair_stand_count=15, age=70, sex="male") < unknown
    assert p(stay_independent_score=6, tug_seconds=9, tandem_seconds=20, chair_stand_count=15) == unknown


def test_predict_frame_is_vectorised_and_fast(model):
    rng = np.random.default_rng(0)
    n = 100_000
    df = pd.DataFrame({
        "mean_seconds": rng.uniform(2, 20, n), "population": rng.choice(["community", "nursing_home", "parkinsons", "stroke"], n),
        "prior_falls": rng.choice(["0", "1", "2+", None], n), "walking_aid": rng.choice([True, False, None], n),
        "sex": rng.choice(["female", "male", None], n), "age": rng.integers(60, 95, n).astype(float),
        "tug_seconds": rng.uniform(5, 20, n), "stay_independent_score": rng.integers(0, 15, n).astype(float),
    })
    start = time.perf_counter()
    out = model.predict_frame(df)
    assert time.perf_counter() - start < 3.0
    assert len(out) == n
    ok = out["probability"].notna()
    assert (ok == (df["population"] != "stroke")).all()
    assert ((out.loc[ok, "probability_low"] < out.loc[ok, "probability"]) & (out.loc[ok, "probability"] < out.loc[ok, "probability_high"])).all()


def test_three_or_more_prior_falls_count_as_two_plus(model):
    three = model.predict_one({"mean_seconds": 5.5, "prior_falls": 3})
    two_plus = model.predict_one({"mean_seconds": 5.5, "prior_falls": "2+"})
    assert three.probability == two_plus.probability
