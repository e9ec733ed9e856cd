"""The fitted fall-risk model and its predictions.

A :class:`FallRiskModel` wraps a fitted scikit-learn estimator (a
``CalibratedClassifierCV`` around a ``Pipeline``). Its calibrated output is
a logistic function of the design matrix, so predictions are computed from
the effective logit coefficients (``coef``) in one vectorised NumPy pass;
a test checks they equal ``estimator.predict_proba``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from assessment.errors import InputError

from .evidence import MODEL_POPULATIONS, UNKNOWN
from .features import (
    design_matrix,
    one_frame,
    parse_frame,
    parse_one,
    population_id,
    time_feature,
)

#: z for a two-sided 95 % interval.
Z95 = 1.959963984540054
CATEGORIES = ("low", "moderate", "high")
#: Category thresholds are a product choice (not published): "low" when the
#: probability is below the one whose odds are half the population's
#: pre-test odds; "high" from the one whose odds are double it.
THRESHOLD_ODDS_FACTOR = 2.0

UNMODELLED_NOTES = {
    "multiple_sclerosis": "no published 3MBW times of fallers vs non-fallers with multiple sclerosis",
    "stroke": "Kapan 2023 found no difference in 3MBW time by fall history after stroke (≤ 1 month)",
    "knee_arthroplasty": "no published 3MBW times of fallers vs non-fallers after knee arthroplasty",
    "hip_arthroplasty": "no published 3MBW times of fallers vs non-fallers after hip arthroplasty",
    "amputation": "the published 3.11 s cut-off separates people with amputation from healthy adults; it is not a fall cut-off",
}


def unmodelled_note(population: str) -> str:
    """Why no probability is given for a population without faller data."""
    why = UNMODELLED_NOTES.get(population, "no published faller / non-faller 3MBW data")
    return (
        f"No fall probability for this population: {why}, so the evidence gives the 3MBW time no "
        "known link to falls here and a probability would be invented. The time, its percentile (if any) "
        "and its change are still reported; judge fall risk clinically."
    )


def category_thresholds(rate: float, factor: float = THRESHOLD_ODDS_FACTOR) -> tuple[float, float]:
    """(low_below, high_at_or_above) anchored to a pre-test rate (odds ÷ factor, odds × factor)."""
    odds = rate / (1.0 - rate)
    lo, hi = odds / factor, odds * factor
    return lo / (1.0 + lo), hi / (1.0 + hi)


@dataclass(frozen=True)
class RiskEstimate:
    """One patient's probability of ≥ 1 fall in the next 12 months.

    ``probability`` (and its 95 % interval and category) is None when the
    population has no published faller data; ``note`` then says why.
    """

    probability: float | None
    probability_low: float | None
    probability_high: float | None
    risk_category: str | None
    model_version: str
    thresholds: dict
    note: str | None
    population: str

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class FallRiskModel:
    """A versioned, fitted fall-risk model.

    Attributes
    ----------
    version : str
        e.g. ``"evidence-1.0.0"``.
    kind : str
        ``evidence``, ``recalibrated`` (logistic recalibration) or ``refit``.
    estimator : sklearn estimator
        The fitted ``CalibratedClassifierCV``; input = canonical codes.
    coef : ndarray
        Effective logit coefficients over :data:`models.features.DESIGN_COLUMNS`.
    time_cov : ndarray, shape (3, 2, 2)
        Per population, covariance of (intercept, coefficient of the time transform g)
        from bootstrap refits on cohorts the size of the source study.
    steadi_var : float
        Variance of ln OR of the STEADI level (from the NHATS 95 % CI).
    recal : tuple
        (alpha, beta): final logit = alpha + beta × evidence logit.
    recal_cov : ndarray, shape (2, 2)
        Covariance of (alpha, beta); zeros for the evidence model.
    coef_cov : ndarray or None
        Design-space covariance of ``coef`` (full refits only); replaces the
        evidence variance for the populations seen in the local data.
    reference_rates : tuple of float
        Per modelled population, the rate a ``base_rate`` override replaces.
    time_params : tuple
        Constants of the monotone time transform (see
        :func:`models.features.time_feature`), also held by the pipeline.
    pretest_rates : tuple of float
        Per modelled population, the published (or derived) pre-test rate
        that anchors the category thresholds.
    """

    version: str
    kind: str
    estimator: Any
    coef: np.ndarray
    time_cov: np.ndarray
    steadi_var: float
    reference_rates: tuple[float, ...]
    pretest_rates: tuple[float, ...]
    time_params: tuple = ()
    recal: tuple[float, float] = (0.0, 1.0)
    recal_cov: np.ndarray = field(default_factory=lambda: np.zeros((2, 2)))
    coef_cov: np.ndarray | None = None
    parent_version: str | None = None
    seed: int | None = None
    card: str = ""
    metrics: dict = field(default_factory=dict)

    # ------------------------------------------------------------ thresholds
    def thresholds(self, population: str) -> dict:
        """Category thresholds for a modelled population, with their basis."""
        k = MODEL_POPULATIONS.index(population)
        rate = self.pretest_rates[k]
        lo, hi = category_thresholds(rate)
        return {
            "low_below": round(lo, 4),
            "high_at_or_above": round(hi, 4),
            "anchor_rate": round(rate, 4),
            "basis": (
                f"product choice, not published: low when the odds of a fall are under half, high when at least "
                f"double, the {population} pre-test odds ({rate:.1%})"
            ),
        }

    # ------------------------------------------------------------- the core
    def linear(self, canonical: np.ndarray, base_rate: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Logit and its standard error for canonical codes (NaN for unmodelled rows)."""
        X = design_matrix(canonical, self.time_params)
        pop = canonical[:, 0].astype(int)
        modelled = pop >= 0
        k = np.where(modelled, pop, 0)
        eta0 = X @ self.coef
        z = time_feature(canonical[:, 1], canonical[:, 0], self.time_params)
        cov = self.time_cov[k]
        var0 = cov[:, 0, 0] + 2 * z * cov[:, 0, 1] + z * z * cov[:, 1, 1]
        var0 = var0 + self.steadi_var * (canonical[:, 5] != UNKNOWN)
        if self.coef_cov is not None:
            # full refit: local covariance for populations seen locally (their
            # intercept has a variance), the evidence variance for the others
            seen = np.diag(self.coef_cov)[: len(MODEL_POPULATIONS)] > 0
            var0 = np.where(seen[k], np.einsum("ij,jk,ik->i", X, self.coef_cov, X), var0)
        alpha, beta = self.recal
        eta = alpha + beta * eta0
        rc = self.recal_cov
        var = beta * beta * var0 + rc[0, 0] + 2 * eta0 * rc[0, 1] + eta0 * eta0 * rc[1, 1]
        if base_rate is not None:
            ref = np.asarray(self.reference_rates)[k]
            eta = eta + (logit(base_rate) - logit(ref))
        eta = np.where(modelled, eta, np.nan)
        return eta, np.sqrt(np.where(modelled, var, np.nan))

    def predict_frame(self, frame: pd.DataFrame, *, base_rate: float | None = None) -> pd.DataFrame:
        """Vectorised predictions for a batch.

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns from :data:`models.features.FEATURE_KEYS`; only
            ``mean_seconds`` is required; blank/NaN = unknown.
        base_rate : float, optional
            Replace the population's pre-test rate (0 < P < 1):
            recalibration-in-the-large, all else unchanged.

        Returns
        -------
        pandas.DataFrame
            Same index; columns probability, probability_low,
            probability_high, risk_category (categorical low/moderate/high,
            NaN when no probability), model_version, note (None unless the
            population has no published faller data).
        """
        base_rate = check_base_rate(base_rate)
        canonical, pop_all = parse_frame(frame)
        eta, se = self.linear(canonical, base_rate)
        p = expit(eta)
        lo_t = np.empty(3)
        hi_t = np.empty(3)
        for i in range(len(MODEL_POPULATIONS)):
            lo_t[i], hi_t[i] = category_thresholds(self.pretest_rates[i])
        k = np.where(pop_all >= 0, pop_all, 0).astype(int)
        codes = np.where(p < lo_t[k], 0, np.where(p >= hi_t[k], 2, 1))
        codes = np.where(np.isnan(p), -1, codes)
        note = np.full(len(frame), None, dtype=object)
        if (pop_all < 0).any():
            for code in np.unique(pop_all[pop_all < 0]):
                note[pop_all == code] = unmodelled_note(population_id(code))
        return pd.DataFrame(
            {
                "probability": p,
                "probability_low": expit(eta - Z95 * se),
                "probability_high": expit(eta + Z95 * se),
                "risk_category": pd.Categorical.from_codes(codes, CATEGORIES),
                "model_version": self.version,
                "note": note,
            },
            index=frame.index,
        )

    def predict_one(self, features: Mapping[str, Any], *, base_rate: float | None = None) -> RiskEstimate:
        """Probability of at least one fall in the next 12 months for one patient.

        Parameters
        ----------
        features : mapping
            ``mean_seconds`` (required), ``age``, ``sex``, ``population``,
            ``prior_falls`` (0 / 1 / 2+), ``walking_aid`` (yes/no),
            ``stay_independent_score``, ``tug_seconds``,
            ``chair_stand_count``, ``tandem_seconds``; None/"" = unknown.
        base_rate : float, optional
            0 < P < 1; replaces the population's pre-test rate.

        Raises
        ------
        InputError
            Naming the field and the allowed values.
        """
        parsed = parse_one(features)
        row = self.predict_frame(one_frame(parsed), base_rate=base_rate).iloc[0]
        pid = parsed["population"]
        if pid not in MODEL_POPULATIONS:
            return RiskEstimate(None, None, None, None, self.version, {}, row["note"], pid)
        note = None
        if base_rate is not None:
            note = f"Base rate set to {base_rate:.1%} (recalibration-in-the-large); the thresholds stay anchored to the published pre-test rate."
        return RiskEstimate(
            probability=float(row["probability"]),
            probability_low=float(row["probability_low"]),
            probability_high=float(row["probability_high"]),
            risk_category=str(row["risk_category"]),
            model_version=self.version,
            thresholds=self.thresholds(pid),
            note=note,
            population=pid,
        )


def check_base_rate(base_rate: Any) -> float | None:
    """None, or a float strictly between 0 and 1 (InputError otherwise)."""
    if base_rate is None:
        return None
    allowed = "allowed: a number strictly between 0 and 1 (e.g. 0.3), or none"
    if isinstance(base_rate, bool):
        raise InputError("base_rate", f"{base_rate!r} is not a number; {allowed}")
    try:
        value = float(base_rate)
    except (TypeError, ValueError):
        raise InputError("base_rate", f"{str(base_rate)[:40]!r} is not a number; {allowed}") from None
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise InputError("base_rate", f"{value:g} is out of range; {allowed}")
    return value
