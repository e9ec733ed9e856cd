"""Fitting the evidence model.

Pipeline: ``FunctionTransformer(design_matrix)`` → ``LogisticRegression``
(almost unpenalised, C = 1e4), wrapped in ``CalibratedClassifierCV``
(sigmoid / Platt scaling on 5-fold out-of-fold decision values,
``ensemble=False``), fitted on the "mix" evidence cohort (half scenario A,
half scenario B: the Bayesian model average of the two). Both stages are
logistic, so the calibrated model is still linear on the logit scale and
monotone in the time (checked, see :func:`check_invariants`). The same
pipeline is refitted on a cohort of each scenario alone (without the Platt
stage, which on a correctly specified logistic model is the identity up to
noise); those two coefficient vectors bound the 95 % interval.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from .evidence import (
    ASSUMED_LOG_OR_SE,
    ASSUMED_STEADI_AT_RISK_PREVALENCE,
    ASSUMED_WALKING_AID_PREVALENCE,
    MODEL_POPULATIONS,
    OR_STEADI_MODERATE_CI,
    TRAIN_N_PER_POPULATION,
    evidence_cohort,
    population_evidence,
    simulate_population,
    time_params,
)
from .features import DESIGN_COLUMNS, TIME_COLUMNS, TIME_KNOWN_COLUMNS, design_matrix, time_feature
from .model import Z95, FallRiskModel

DEFAULT_SEED = 20250601
DEFAULT_VERSION = "evidence-2.0.0"
#: Bootstrap refits per population for the interval.
N_BOOTSTRAP = 200
#: Inverse regularisation strength: large, i.e. essentially maximum likelihood.
LOGISTIC_C = 1e4


def make_pipeline(params) -> Pipeline:
    """The unfitted pipeline (design matrix with time constants ``params`` → logistic regression)."""
    return Pipeline([
        ("design", FunctionTransformer(design_matrix, kw_args={"time_params": [list(map(float, r)) for r in params]})),
        ("logit", LogisticRegression(C=LOGISTIC_C, fit_intercept=False, max_iter=5000)),
    ])


def make_estimator(seed: int, params) -> CalibratedClassifierCV:
    """Pipeline wrapped in sigmoid calibration on shuffled stratified 5-fold CV."""
    return CalibratedClassifierCV(
        make_pipeline(params), method="sigmoid", ensemble=False,
        cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=seed),
    )


def effective_coef(estimator: CalibratedClassifierCV) -> np.ndarray:
    """Logit coefficients of the calibrated model over the design columns.

    Platt scaling maps the decision value f to p = 1 / (1 + exp(a·f + b)),
    so logit p = −a·(w·x + c) − b; the constant is folded into the
    per-population intercept columns (every modelled row has exactly one).
    """
    cal = estimator.calibrated_classifiers_[0]
    lr = cal.estimator[-1]
    a, b = float(cal.calibrators[0].a_), float(cal.calibrators[0].b_)
    coef = -a * lr.coef_[0].astype(float)
    coef[: len(MODEL_POPULATIONS)] += -(a * float(np.ravel(lr.intercept_)[0] if lr.fit_intercept else 0.0) + b)
    return coef


def check_invariants(coef: np.ndarray, params=None) -> list[str]:
    """Coefficient orderings behind the model's invariants; empty list = all hold.

    Per population: time-transform coefficient > 0, with fall history
    unknown and known (slower never lowers the probability); for prior
    fall, walking aid and STEADI level, coef[no] ≤ 0 ≤ coef[yes] (unknown,
    the reference, lies between the known values and "yes" never lowers the
    probability); and, because the time term differs when fall history is
    known, "unknown history" lies between "no" and "yes" at both ends of
    the time transform's range (``params``: time constants; default the
    evidence's), hence everywhere between (the logits are linear in it).
    """
    names = list(DESIGN_COLUMNS)
    params = time_params() if params is None else params
    bad = []
    for k, p in enumerate(MODEL_POPULATIONS):
        b_unknown = coef[TIME_COLUMNS][k]
        b_known = b_unknown + coef[TIME_KNOWN_COLUMNS][k]
        if b_unknown <= 0 or b_known <= 0:
            bad.append(f"time_llr[{p}] coefficient ≤ 0 (history unknown {b_unknown:.3f}, known {b_known:.3f})")
        ends = time_feature(np.array([params[k][3], params[k][4]]), np.full(2, float(k)), params)
        c_no, c_yes = coef[names.index(f"prior_fall_no[{p}]")], coef[names.index(f"prior_fall_yes[{p}]")]
        for g in ends:
            if not c_no + b_known * g <= b_unknown * g <= c_yes + b_known * g:
                bad.append(f"unknown fall history not between no and yes at g = {g:.2f} [{p}]")
        for no, yes in (("prior_fall_no", "prior_fall_yes"), ("walking_aid_no", "walking_aid_yes"), ("steadi_low", "steadi_at_risk")):
            c_no, c_yes = coef[names.index(f"{no}[{p}]")], coef[names.index(f"{yes}[{p}]")]
            if not c_no <= 0 <= c_yes:
                bad.append(f"{no}/{yes}[{p}] not ordered around unknown ({c_no:.3f}, {c_yes:.3f})")
    return bad


def bootstrap_time_cov(seed: int, params, n_bootstrap: int = N_BOOTSTRAP) -> np.ndarray:
    """Per population, covariance of (intercept, coefficient) of a time-only logistic model.

    Each replicate simulates a cohort the size of the source study
    (Polo-Ferrero n = 483, Kapan n = 217, Carter n = 175) at the
    population's pre-test rate and refits ``logit P = a + b·g(ln t)``.
    """
    evid = population_evidence()
    rng = np.random.default_rng([seed, 1])
    out = np.zeros((len(MODEL_POPULATIONS), 2, 2))
    for k, pid in enumerate(MODEL_POPULATIONS):
        ev = evid[pid]
        fits = []
        while len(fits) < n_bootstrap:
            sim = simulate_population(ev, k, ev.study_n, rng, mask_rate=1.0)
            y = sim[:, -1]
            if y.min() == y.max():
                continue
            z = time_feature(sim[:, 1], sim[:, 0], params)[:, None]
            lr = LogisticRegression(C=LOGISTIC_C, max_iter=2000).fit(z, y)
            fits.append((float(lr.intercept_[0]), float(lr.coef_[0, 0])))
        out[k] = np.cov(np.asarray(fits).T)
    return out


def steadi_log_or_variance() -> float:
    """Variance of ln OR (STEADI moderate vs low) from the NHATS 95 % CI 2.29–2.99."""
    lo, hi = OR_STEADI_MODERATE_CI
    return ((math.log(hi) - math.log(lo)) / (2 * Z95)) ** 2


def predictor_variance_terms() -> np.ndarray:
    """Per population, logit variance added for each known predictor value (``models.model.VAR_TERMS``).

    Delta method: "unknown" is the reference level and averages over the
    hidden value, so with share ``s`` of "yes" a known "yes" lies about
    ``(1 − s)·ln OR`` above it and a known "no" about ``s·ln OR`` below;
    an error ``δ`` in ln OR moves them by ``(1 − s)·δ`` and ``s·δ``.
    Var(ln OR): STEADI from the NHATS CI; prior falls, walking aid and sex
    :data:`models.evidence.ASSUMED_LOG_OR_SE` (no CI in the evidence file).
    Sex enters as a ±1 contrast (half of ln OR).
    """
    evid = population_evidence()
    v_or = ASSUMED_LOG_OR_SE ** 2
    v_steadi = steadi_log_or_variance()
    out = np.zeros((len(MODEL_POPULATIONS), 7))
    for k, pid in enumerate(MODEL_POPULATIONS):
        h = evid[pid].prior_fall_prevalence
        a, st = ASSUMED_WALKING_AID_PREVALENCE, ASSUMED_STEADI_AT_RISK_PREVALENCE
        out[k] = [h * h * v_or, (1 - h) ** 2 * v_or, a * a * v_or, (1 - a) ** 2 * v_or,
                  st * st * v_steadi, (1 - st) ** 2 * v_steadi, v_or / 4 if evid[pid].sex_effect else 0.0]
    return out


def scenario_coefficients(seed: int, params, n_per_population: int) -> np.ndarray:
    """(2, n_design): the pipeline refitted on a cohort of scenario A and of scenario B alone.

    Populations whose faller groups were defined prospectively (nursing
    homes) are the same under both scenarios; their B coefficients are
    A's, so the two fits differ only where the scenarios do.
    """
    out = []
    for scenario in ("A", "B"):
        X, y = evidence_cohort(seed + 100, n_per_population, scenario=scenario)
        pipe = make_pipeline(params).fit(X, y)
        out.append(pipe[-1].coef_[0].astype(float))
    coef_a, coef_b = out
    evid = population_evidence()
    for pid in MODEL_POPULATIONS:
        if not evid[pid].history_defined:
            cols = [i for i, name in enumerate(DESIGN_COLUMNS) if name.endswith(f"[{pid}]")]
            coef_b[cols] = coef_a[cols]
    return np.asarray([coef_a, coef_b])


def train_evidence_model(seed: int = DEFAULT_SEED, *, n_per_population: int = TRAIN_N_PER_POPULATION,
                         n_bootstrap: int = N_BOOTSTRAP, version: str = DEFAULT_VERSION,
                         with_card: bool = True) -> FallRiskModel:
    """Fit the evidence model on the evidence cohort.

    Parameters
    ----------
    seed : int
        Fixes the cohort, the CV folds and the bootstrap: the same seed
        gives the same model.
    n_per_population : int
        Evidence-cohort size per modelled population (mix cohort, and each
        scenario's refit cohort).
    n_bootstrap : int
        Bootstrap refits per population for the 95 % interval.
    version : str
        Version string of the result.
    with_card : bool
        Also evaluate on an independent cohort (seed + 1) and render the card.

    Returns
    -------
    FallRiskModel
    """
    X, y = evidence_cohort(seed, n_per_population, scenario="mix")
    params = time_params()
    estimator = make_estimator(seed, params).fit(X, y)
    coef = effective_coef(estimator)
    bad = check_invariants(coef, params)
    if bad:
        raise RuntimeError("fitted evidence model breaks its invariants: " + "; ".join(bad))
    evid = population_evidence()
    rates = tuple(float(evid[p].pretest_rate) for p in MODEL_POPULATIONS)
    model = FallRiskModel(
        version=version, kind="evidence", estimator=estimator, coef=coef,
        time_cov=bootstrap_time_cov(seed, params, n_bootstrap), var_terms=predictor_variance_terms(),
        scenario_coef=scenario_coefficients(seed, params, n_per_population),
        reference_rates=rates, pretest_rates=rates, time_params=tuple(tuple(map(float, r)) for r in params), seed=seed,
    )
    if with_card:
        from .card import render_card
        from .evaluate import evaluate

        metrics = evaluate(model, seed=seed + 1)
        model = replace(model, metrics=metrics)
        model = replace(model, card=render_card(model, metrics))
    return model
