"""The fitted fall-risk model and its predictions.

A :class:`FallRiskModel` wraps a fitted scikit-learn estimator (a
``CalibratedClassifierCV`` around a ``Pipeline``) fitted on the "mix"
evidence cohort (:mod:`models.evidence`: half of it simulated under each
structural scenario). Its calibrated output is a logistic function of the
design matrix, so predictions are computed from the effective logit
coefficients (``coef``) in one vectorised NumPy pass; a test checks they
equal ``estimator.predict_proba``. The same design refitted under each
scenario alone (``scenario_coef``) bounds the 95 % interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from assessment import get_population
from assessment.errors import InputError

from .evidence import MODEL_POPULATIONS
from .features import (
    ages_of,
    design_matrix,
    one_frame,
    parse_frame,
    parse_one,
    population_id,
    time_feature,
)

#: What every probability is a probability of.
HORIZON = "a fall in the next 12 months"
#: Variance columns of ``FallRiskModel.var_terms``: added to the logit variance when the
#: predictor has that value (delta method: a known value moves the logit by a share of ln OR).
VAR_TERMS = ("prior_fall_no", "prior_fall_yes", "walking_aid_no", "walking_aid_yes",
             "steadi_low", "steadi_at_risk", "sex_known")

#: z for a two-sided 95 % interval.
Z95 = 1.959963984540054
CATEGORIES = ("low", "moderate", "high")
#: Category thresholds are a product choice (not published): "low" when the
#: probability is below the one whose odds are half the population's
#: pre-test odds; "high" from the one whose odds are double it.
THRESHOLD_ODDS_FACTOR = 2.0

UNMODELLED_NOTES = {
    "multiple_sclerosis": ("a faller cut-off of 7.86 s is published (Söke 2022, read from the abstract only; shown as a "
                           "band) but no sensitivity, specificity or AUC"),
    "stroke": "Kapan 2023 (n = 35, ≤ 1 month after stroke) found no difference in 3MBW time by fall history",
    "dementia": ("Chan 2022 (n = 30, read from the abstract only) found fallers' and non-fallers' 3MBW times not "
                 "different (p = 0.13)"),
    "knee_arthroplasty": "no published 3MBW times of fallers vs non-fallers after knee arthroplasty",
    "hip_arthroplasty": "no published 3MBW times of fallers vs non-fallers after hip arthroplasty",
    "amputation": ("the published 3.11 s cut-off (Şahan 2023, read from the abstract only) separates people with "
                   "amputation from healthy adults; it is not a fall cut-off"),
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
    population has no published faller data or the age is outside the
    population's evidence; ``note`` then says why. ``horizon`` says what the
    probability is of; ``inputs`` lists the inputs the model used
    (``known``, with their values) and those it averaged over
    (``unknown``); ``scenario_probabilities`` gives the estimate under each
    structural scenario (A: time independent of fall history given the
    future fall; B: time tracks fall history), between which the point
    estimate averages.
    """

    probability: float | None
    probability_low: float | None
    probability_high: float | None
    risk_category: str | None
    model_version: str
    thresholds: dict
    note: str | None
    population: str
    horizon: str = HORIZON
    inputs: dict = field(default_factory=dict)
    scenario_probabilities: dict = field(default_factory=dict)

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
    var_terms : ndarray, shape (3, 7)
        Per population, logit variance added for each known predictor value
        (:data:`VAR_TERMS`), from the uncertainty of its odds ratio.
    scenario_coef : ndarray, shape (2, n_design) or None
        The design refitted on cohorts of scenario A and of scenario B alone;
        the 95 % interval spans the point estimate's and both scenarios'
        intervals.
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
    var_terms: np.ndarray
    reference_rates: tuple[float, ...]
    pretest_rates: tuple[float, ...]
    time_params: tuple = ()
    recal: tuple[float, float] = (0.0, 1.0)
    recal_cov: np.ndarray = field(default_factory=lambda: np.zeros((2, 2)))
    coef_cov: np.ndarray | None = None
    scenario_coef: np.ndarray | None = None
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
        """Logit of the point estimate and its sampling standard error (NaN for unmodelled rows)."""
        eta, se, _ = self._logits(canonical, base_rate)
        return eta, se

    def _logits(self, canonical: np.ndarray, base_rate: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(point logit, sampling SE, scenario logits of shape (n, 2) or None)."""
        pop = canonical[:, 0].astype(int)
        modelled = pop >= 0
        k = np.where(modelled, pop, 0)
        z = time_feature(canonical[:, 1], canonical[:, 0], self.time_params)
        X = design_matrix(canonical, self.time_params, z)
        coefs = self.coef[:, None] if self.scenario_coef is None else np.column_stack([self.coef, *self.scenario_coef])
        etas = X @ coefs
        eta0 = etas[:, 0]
        tc = self.time_cov
        var0 = tc[:, 0, 0][k] + z * (2 * tc[:, 0, 1][k] + z * tc[:, 1, 1][k])
        # known-predictor terms: one lookup per predictor, index = population × (unknown, no, yes)
        n_pop = len(self.var_terms)
        for j, col in enumerate((3, 4, 5)):
            table = np.column_stack([np.zeros(n_pop), self.var_terms[:, 2 * j], self.var_terms[:, 2 * j + 1]]).ravel()
            var0 = var0 + table[k * 3 + canonical[:, col].astype(int) + 1]
        var0 = var0 + np.where(canonical[:, 2] > 0, self.var_terms[k, 6], 0.0)
        scen = etas[:, 1:] if self.scenario_coef is not None else None
        if self.coef_cov is not None:
            # full refit: the local data estimate the combination directly for the populations
            # seen locally (their intercept has a variance): local covariance, no scenario spread
            seen = (np.diag(self.coef_cov)[: len(MODEL_POPULATIONS)] > 0)[k]
            var0 = np.where(seen, np.einsum("ij,jk,ik->i", X, self.coef_cov, X), var0)
            if scen is not None:
                scen = np.where(seen[:, None], eta0[:, None], scen)
        alpha, beta = self.recal
        eta = alpha + beta * eta0
        rc = self.recal_cov
        var = beta * beta * var0 + rc[0, 0] + 2 * eta0 * rc[0, 1] + eta0 * eta0 * rc[1, 1]
        shift = 0.0
        if base_rate is not None:
            ref = np.asarray(self.reference_rates)[k]
            shift = logit(base_rate) - logit(ref)
            eta = eta + shift
        if scen is not None:
            scen = alpha + beta * scen + (shift[:, None] if np.ndim(shift) else shift)
            scen = np.where(modelled[:, None], scen, np.nan)
        eta = np.where(modelled, eta, np.nan)
        return eta, np.sqrt(np.where(modelled, var, np.nan)), scen

    def interval(self, canonical: np.ndarray, base_rate: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(point logit, lower, upper, scenario logits) of the 95 % interval on the logit scale.

        The interval is the union of ± 1.96 sampling SE around the point
        estimate and around each scenario's estimate: it contains the
        estimate under A, under B and (the logit being monotone in the
        mixing weight) anything between.
        """
        eta, se, scen = self._logits(canonical, base_rate)
        lo_c, hi_c = eta, eta
        if scen is not None:
            lo_c = np.minimum(eta, scen.min(axis=1))
            hi_c = np.maximum(eta, scen.max(axis=1))
        return eta, lo_c - Z95 * se, hi_c + Z95 * se, scen

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
        out_of_age = self._age_outside(frame, pop_all)
        canonical[out_of_age, 0] = -1.0
        eta, lo_eta, hi_eta, scen = self.interval(canonical, base_rate)
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
        if out_of_age.any():
            ages = ages_of(frame)
            for i in np.flatnonzero(out_of_age):
                note[i] = get_population(population_id(pop_all[i])).age_note(int(ages[i]))
        scen = np.full((len(frame), 2), np.nan) if scen is None else scen
        return pd.DataFrame(
            {
                "probability": p,
                "probability_low": expit(lo_eta),
                "probability_high": expit(hi_eta),
                "risk_category": pd.Categorical.from_codes(codes, CATEGORIES),
                "model_version": self.version,
                "note": note,
                "probability_scenario_a": expit(scen[:, 0]),
                "probability_scenario_b": expit(scen[:, 1]),
            },
            index=frame.index,
        )

    @staticmethod
    def _age_outside(frame: pd.DataFrame, pop_all: np.ndarray) -> np.ndarray:
        """Rows of a modelled population whose known age is outside that population's evidence."""
        out = np.zeros(len(frame), dtype=bool)
        if "age" not in frame.columns:
            return out
        ages = ages_of(frame)
        for k, pid in enumerate(MODEL_POPULATIONS):
            pop = get_population(pid)
            lo, hi = pop.age_min, pop.age_max
            rows = pop_all == k
            if lo is not None:
                out |= rows & (ages < lo)
            if hi is not None:
                out |= rows & (ages > hi)
        return out

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
        inputs = inputs_of(parsed)
        if pid not in MODEL_POPULATIONS or pd.isna(row["probability"]):
            return RiskEstimate(None, None, None, None, self.version, {}, row["note"], pid, inputs=inputs)
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
            inputs=inputs,
            scenario_probabilities=({} if pd.isna(row["probability_scenario_a"]) else
                                    {"A": round(float(row["probability_scenario_a"]), 4),
                                     "B": round(float(row["probability_scenario_b"]), 4)}),
        )


def inputs_of(parsed: Mapping[str, Any]) -> dict:
    """The inputs as the model used them: ``known`` (label and value) and ``unknown`` (labels).

    The STEADI level counts as known only when the recorded items decide it
    (see :mod:`models.features`); age only checks the population's age range
    and the chair-stand norm.
    """
    canonical, _ = parse_frame(one_frame(parsed))
    c = canonical[0]
    known: dict[str, str] = {"3MBW time": f"{parsed['mean_seconds']:.2f} s", "population": parsed["population"]}
    unknown: list[str] = []
    age = parsed.get("age")
    (known.__setitem__("age", f"{age:g} years") if age is not None else unknown.append("age"))
    values = {
        "sex": {1: "female", 2: "male"}.get(int(c[2])),
        "prior falls": {0: "none", 1: "1", 2: "2 or more"}.get(parsed.get("prior_falls")),
        "walking aid": {0: "no", 1: "yes"}.get(int(c[4])),
        "STEADI level": {0: "low", 1: "at risk"}.get(int(c[5])),
    }
    for label, value in values.items():
        (known.__setitem__(label, value) if value is not None else unknown.append(label))
    return {"known": known, "unknown": unknown}


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
