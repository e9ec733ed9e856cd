"""Metric functions against values computed by hand."""

import math

import numpy as np
import pytest

from models import metrics as M


def test_auc_by_hand_with_tie():
    # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4)=1, (0.8>0.1)=1, (0.4=0.4)=.5, (0.4>0.1)=1 → 3.5/4
    assert M.roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1]) == pytest.approx(0.875)


def test_auc_needs_both_outcomes():
    with pytest.raises(ValueError):
        M.roc_auc([1, 1], [0.2, 0.3])


def test_brier_and_log_loss_by_hand():
    y, p = [1, 0], [0.8, 0.4]
    assert M.brier_score(y, p) == pytest.approx((0.04 + 0.16) / 2)
    assert M.log_loss(y, p) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_reliability_and_ece_by_hand():
    y = [0, 1, 1, 1]
    p = [0.05, 0.05, 0.95, 0.95]
    table = M.reliability_table(y, p, n_bins=10)
    assert [(r["n"], r["observed_rate"]) for r in table] == [(2, 0.5), (2, 1.0)]
    # |0.5 − 0.05|·2/4 + |1 − 0.95|·2/4
    assert M.expected_calibration_error(y, p) == pytest.approx(0.45 / 2 + 0.05 / 2)


def test_sensitivity_specificity_by_hand():
    sens, spec = M.sensitivity_specificity([1, 1, 0, 0, 0], [6, 4, 6, 3, 2], 5.5)
    assert (sens, spec) == (0.5, pytest.approx(2 / 3))


def test_calibration_of_true_probabilities_is_ideal():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 200_000)
    y = (rng.random(p.size) < p).astype(float)
    assert M.calibration_slope(y, p) == pytest.approx(1.0, abs=0.03)
    assert M.calibration_intercept(y, p) == pytest.approx(0.0, abs=0.02)
    assert M.expected_calibration_error(y, p) < 0.01


def test_calibration_detects_overconfidence():
    rng = np.random.default_rng(1)
    eta = rng.normal(0, 1, 100_000)
    y = (rng.random(eta.size) < 1 / (1 + np.exp(-eta))).astype(float)
    too_extreme = 1 / (1 + np.exp(-2 * eta))  # slope should come out ≈ 0.5
    assert M.calibration_slope(y, too_extreme) == pytest.approx(0.5, abs=0.03)
    shifted = 1 / (1 + np.exp(-(eta + 1)))
    assert M.calibration_intercept(y, shifted) == pytest.approx(-1.0, abs=0.03)


def test_bad_outcomes_rejected():
    with pytest.raises(ValueError):
        M.brier_score([0, 2], [0.1, 0.2])
