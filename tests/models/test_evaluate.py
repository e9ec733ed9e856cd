"""Calibration on an independent evidence cohort and the published figures."""

import json

import pytest

from models.evaluate import evaluate


def test_evaluate_is_json_able(evaluation):
    assert json.loads(json.dumps(evaluation))["model_version"] == "evidence-2.0.0"


def test_calibration_on_independent_cohort(evaluation):
    for block in [evaluation["overall"], *evaluation["by_population"].values()]:
        assert block["ece"] <= 0.03
        assert 0.9 <= block["calibration_slope"] <= 1.1
        assert abs(block["calibration_intercept"]) <= 0.1
        assert block["brier"] < 0.25  # better than an uninformative 0.5 guess
        assert sum(r["n"] for r in block["reliability"]) == block["n"]


def test_polo_ferrero_reproduced(evaluation):
    c = evaluation["published_checks"]["community"]
    assert c["time_only_auc"] == pytest.approx(0.655, abs=0.03)
    assert c["sensitivity"] == pytest.approx(0.595, abs=0.05)
    assert c["specificity"] == pytest.approx(0.686, abs=0.05)


@pytest.mark.parametrize("population,auc", [("nursing_home", 0.74), ("parkinsons", 0.699)])
def test_binormal_populations_reproduce_auc(evaluation, population, auc):
    assert evaluation["published_checks"][population]["time_only_auc"] == pytest.approx(auc, abs=0.03)


def test_a_miscalibrated_model_fails_the_same_checks(model):
    """The checks can fail: shift the model's base rate and calibration breaks."""
    from dataclasses import replace

    shifted = replace(model, recal=(0.8, 1.0))
    bad = evaluate(shifted, seed=5, n_per_population=5000)
    assert bad["overall"]["ece"] > 0.03 and bad["overall"]["calibration_intercept"] < -0.5
