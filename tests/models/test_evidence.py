"""The evidence cohort reproduces the numbers it was built from."""

import math

import numpy as np
import pytest

from assessment.scoring import lognormal_params
from models import evidence as E
from models.metrics import roc_auc


@pytest.mark.parametrize("odds_ratio,prevalence,rate", [(2.8, 0.275, 0.275), (2.2, 0.25, 0.396), (1.15, 0.536, 0.5)])
def test_binary_rates_match_or_and_prevalence(odds_ratio, prevalence, rate):
    p0, p1 = E.binary_rates(odds_ratio, prevalence, rate)
    assert (p1 / (1 - p1)) / (p0 / (1 - p0)) == pytest.approx(odds_ratio, rel=1e-9)
    assert rate * p1 + (1 - rate) * p0 == pytest.approx(prevalence, abs=1e-10)


def test_pooled_log_sd_by_hand():
    s1 = math.sqrt(math.log(1 + (3.4 / 6.8) ** 2))
    s0 = math.sqrt(math.log(1 + (1.3 / 5.1) ** 2))
    assert E.pooled_community_log_sd() == pytest.approx(math.sqrt((100 * s1**2 + 381 * s0**2) / 481))


def test_sex_effect_from_kakara():
    assert E.women_share() == pytest.approx((0.276 - 0.261) / (0.289 - 0.261))
    assert E.sex_odds_ratio() == pytest.approx((0.289 / 0.711) / (0.261 / 0.739))


def test_parkinsons_rate_is_community_odds_times_or():
    r = E.parkinsons_pretest_rate()
    assert (r / (1 - r)) == pytest.approx(0.275 / 0.725 * 2.7)


def test_cohort_is_reproducible_and_seed_dependent():
    a, ya = E.evidence_cohort(3, 2000)
    b, yb = E.evidence_cohort(3, 2000)
    c, _ = E.evidence_cohort(4, 2000)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.array_equal(a, c)


@pytest.fixture(scope="module")
def cohort():
    return E.evidence_cohort(11, 60_000, mask_rate=0.0, scenario="A")


@pytest.fixture(scope="module")
def cohort_b():
    return E.evidence_cohort(12, 60_000, mask_rate=0.0, scenario="B")


def odds_ratio(x, y):
    a, b = ((x == 1) & (y == 1)).sum(), ((x == 1) & (y == 0)).sum()
    c, d = ((x == 0) & (y == 1)).sum(), ((x == 0) & (y == 0)).sum()
    return (a * d) / (b * c)


def test_scenario_b_times_describe_prior_fallers(cohort_b):
    """Under B the published faller groups are prior fallers, and the time says nothing once history is known."""
    X, y = cohort_b
    com = X[:, 0] == 0
    prior = X[:, 3]
    for h, (mean, sd) in ((1, (6.8, 3.4)), (0, (5.1, 1.3))):
        mu, _ = lognormal_params(mean, sd)
        assert X[com & (prior == h), 1].mean() == pytest.approx(float(mu), abs=0.01)
        # within one history level, future fallers and non-fallers walk alike
        gap = X[com & (prior == h) & (y == 1), 1].mean() - X[com & (prior == h) & (y == 0), 1].mean()
        assert abs(gap) < 0.015
    assert odds_ratio(prior[com], y[com]) == pytest.approx(2.8, rel=0.08)
    assert y[com].mean() == pytest.approx(0.275, abs=0.01) and prior[com].mean() == pytest.approx(0.275, abs=0.01)


def test_scenario_a_time_is_independent_of_history_given_the_fall(cohort):
    X, y = cohort
    com = X[:, 0] == 0
    for fell in (0, 1):
        gap = X[com & (y == fell) & (X[:, 3] == 1), 1].mean() - X[com & (y == fell) & (X[:, 3] == 0), 1].mean()
        assert abs(gap) < 0.015


def test_nursing_home_is_the_same_under_both_scenarios():
    """Kapan's time link is prospective: scenario B does not apply to nursing homes."""
    a, ya = E.evidence_cohort(5, 3000, populations_=("nursing_home",), scenario="A")
    b, yb = E.evidence_cohort(5, 3000, populations_=("nursing_home",), scenario="B")
    assert np.array_equal(a, b) and np.array_equal(ya, yb)


def test_mix_draws_half_from_each_scenario():
    X, y = E.evidence_cohort(9, 60_000, mask_rate=0.0, populations_=("community",), scenario="mix")
    a, ya = E.evidence_cohort(9, 60_000, mask_rate=0.0, populations_=("community",), scenario="A")
    b, yb = E.evidence_cohort(9, 60_000, mask_rate=0.0, populations_=("community",), scenario="B")
    # the time–history odds ratio of the mix lies between A's and B's
    slow = lambda x: (x[:, 1] > np.log(6.0)).astype(float)  # noqa: E731
    ors = [odds_ratio(slow(c), c[:, 3]) for c in (a, X, b)]
    assert ors[0] < ors[1] < ors[2]


def test_unknown_scenario_is_refused():
    with pytest.raises(ValueError):
        E.evidence_cohort(1, 10, scenario="C")


def test_cohort_rates_and_time_distributions(cohort):
    X, y = cohort
    evid = E.population_evidence()
    for k, pid in enumerate(E.MODEL_POPULATIONS):
        m = X[:, 0] == k
        assert y[m].mean() == pytest.approx(evid[pid].pretest_rate, abs=0.01)
    com = X[:, 0] == 0
    t = np.exp(X[:, 1])
    for fell, (mean, sd) in ((1, (6.8, 3.4)), (0, (5.1, 1.3))):
        sel = com & (y == fell)
        mu, sigma = lognormal_params(mean, sd)
        assert np.log(t[sel]).mean() == pytest.approx(float(mu), abs=0.01)
        assert t[sel].mean() == pytest.approx(mean, rel=0.03)


@pytest.mark.parametrize("code,auc", [(1, 0.74), (2, 0.699)])
def test_binormal_populations_reproduce_published_auc(cohort, code, auc):
    X, y = cohort
    m = X[:, 0] == code
    assert roc_auc(y[m], X[m, 1]) == pytest.approx(auc, abs=0.01)


def test_binormal_cutoff_is_the_youden_point():
    sigma = E.pooled_community_log_sd()
    mu0, mu1 = E.binormal_from_auc(0.74, 8.15, sigma)
    grid = np.linspace(mu0 - 1, mu1 + 1, 20001)
    from scipy.stats import norm

    youden = norm.sf(grid, mu1, sigma) - norm.sf(grid, mu0, sigma)
    assert math.exp(grid[np.argmax(youden)]) == pytest.approx(8.15, rel=1e-3)


@pytest.mark.parametrize("pop", [0, 1, 2])
@pytest.mark.parametrize("col,expected", [(3, 2.8), (4, 2.2), (5, 2.62)])
def test_cohort_odds_ratios(cohort, col, expected, pop):
    X, y = cohort
    m = X[:, 0] == pop
    assert odds_ratio(X[m, col], y[m]) == pytest.approx(expected, rel=0.08)


def test_time_transform_is_monotone_and_flat_below_vertex():
    from models.features import time_feature

    z = np.log(np.linspace(1, 120, 5000))
    for k in range(3):
        g = time_feature(z, np.full(z.size, k))
        assert (np.diff(g) >= 0).all()
        _, _, _, z_lo, z_hi = E.time_params()[k]
        assert np.ptp(g[z >= z_hi]) == 0  # held constant beyond the support limit
        if (z <= z_lo).any():
            assert np.ptp(g[z <= z_lo]) == 0
    c2, z_star, b1, z_lo, z_hi = E.time_params()[0]
    assert z_lo < z_star < z_hi
    assert math.exp(z_star) == pytest.approx(4.55, abs=0.05)
    assert b1 == 0 and c2 > 0
