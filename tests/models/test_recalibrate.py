"""Local recalibration."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from models import persist
from models.evidence import evidence_cohort
from models.recalibrate import NotEnoughOutcomes, RecalibrationRefused, recalibrate

POPS = np.array(["community", "nursing_home", "parkinsons"])


def outcomes(model, n, shift=0.0, slope=1.0, seed=0, pops=("community",)):
    X, _ = evidence_cohort(seed, n, populations_=pops)
    eta, _ = model.linear(X)
    rng = np.random.default_rng(seed)
    fell = (rng.random(len(X)) < expit(shift + slope * eta)).astype(int)
    prior = np.where(X[:, 3] < 0, None, X[:, 3]).astype(object)
    return pd.DataFrame({"assessment_id": np.arange(len(X)), "mean_seconds": np.exp(X[:, 1]).clip(1.0, 120.0),
                         "population": POPS[X[:, 0].astype(int)], "prior_falls": prior, "fell": fell})


def test_too_few_outcomes_says_how_many_more(model):
    rows = [{"mean_seconds": 5.0, "fell": 1}] * 10 + [{"mean_seconds": 5.0, "fell": 0}] * 60
    with pytest.raises(NotEnoughOutcomes) as e:
        recalibrate(model, rows)
    assert isinstance(e.value, ValueError)
    assert e.value.more_events == 40 and e.value.more_nonevents == 0 and "40 more falls" in str(e.value)


def test_unmodelled_populations_do_not_count(model):
    rows = [{"mean_seconds": 5.0, "population": "stroke", "fell": i % 2} for i in range(300)]
    with pytest.raises(NotEnoughOutcomes):
        recalibrate(model, rows)


def test_bad_outcome_value_is_named(model):
    with pytest.raises(ValueError) as e:
        recalibrate(model, [{"mean_seconds": 5.0, "fell": 2}])
    assert e.value.field == "fell"


def test_recalibration_fixes_a_shifted_clinic(model):
    data = outcomes(model, 900, shift=0.8, seed=3)
    new = recalibrate(model, data.to_dict("records"), version="evidence-2.0.0+test")
    local = new.metrics["local"]
    assert new.version == "evidence-2.0.0+test" and new.kind == "recalibrated" and new.parent_version == model.version
    assert local["events"] < 500 and local["recalibration"]["intercept"] == pytest.approx(0.8, abs=0.3)
    assert local["new"]["log_loss"] < local["current"]["log_loss"] and local["better"]
    assert "Local recalibration" in new.card and "evidence-2.0.0+test" in new.card
    assert "These checks are of the parent model `evidence-2.0.0`" in new.card and "| B | community |" in new.card
    # invariants survive: slower never lowers, prior fall never lowers
    f = {"mean_seconds": 5.0}
    assert new.predict_one({"mean_seconds": 7.0}).probability >= new.predict_one(f).probability
    assert new.predict_one({**f, "prior_falls": 1}).probability >= new.predict_one({**f, "prior_falls": 0}).probability
    # persisted and reloaded, it predicts the same
    again = persist.from_bytes(persist.to_bytes(new))
    assert again.predict_one(f).probability == new.predict_one(f).probability


def test_well_calibrated_clinic_is_left_almost_alone(model):
    new = recalibrate(model, outcomes(model, 3000, seed=4))
    r = new.metrics["local"]["recalibration"]
    assert r["intercept"] == pytest.approx(0.0, abs=0.2) and r["slope"] == pytest.approx(1.0, abs=0.2)


def test_full_refit_with_many_outcomes(model):
    data = outcomes(model, 2500, shift=0.3, slope=1.2, seed=5, pops=("community", "nursing_home"))
    new = recalibrate(model, data)
    assert new.kind == "refit" and new.coef_cov is not None
    assert new.metrics["local"]["events"] >= 500 and new.metrics["local"]["nonevents"] >= 500
    r = new.predict_one({"mean_seconds": 6.0, "population": "parkinsons"})  # not seen locally: recalibrated evidence
    assert 0 < r.probability_low < r.probability < r.probability_high < 1


def test_no_positive_association_is_refused(model):
    data = outcomes(model, 800, seed=6)
    data["fell"] = (data["mean_seconds"] < data["mean_seconds"].median()).astype(int)  # faster walkers fall
    with pytest.raises(RecalibrationRefused):
        recalibrate(model, data)
