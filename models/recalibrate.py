"""Recalibration on a clinic's own outcomes.

* ≥ ``min_events`` falls and ≥ ``min_nonevents`` non-falls (default 50 each):
  logistic recalibration — ``logit P = a + b × current logit`` (intercept and
  slope; b must be positive so the invariants survive).
* ≥ :data:`FULL_REFIT_MIN` of each (500): a full refit of every design
  coefficient seen in the local data (sklearn ``LogisticRegression``);
  coefficients of levels or populations absent locally keep their
  logistically recalibrated values. If the refit breaks an invariant
  (time coefficient ≤ 0, or "unknown" not between "yes" and "no"), the
  logistic recalibration is used instead and the card says why.

Both are compared with the current model by stratified K-fold
cross-validated log-loss and Brier score on the local outcomes. The result
is a new model (new version, card and metrics); storing and activating it
is the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from assessment.errors import InputError

from . import metrics as M
from .card import render_card
from .features import FEATURE_KEYS, design_matrix, parse_frame
from .model import FallRiskModel
from .train import check_invariants

#: Events and non-events (each) above which a full refit is attempted.
FULL_REFIT_MIN = 500
FOLDS = 5
_C = 1e6  # essentially unpenalised


class NotEnoughOutcomes(ValueError):
    """Too few local outcomes to recalibrate; says how many more are needed."""

    def __init__(self, events: int, nonevents: int, min_events: int, min_nonevents: int) -> None:
        self.events, self.nonevents = events, nonevents
        self.more_events = max(0, min_events - events)
        self.more_nonevents = max(0, min_nonevents - nonevents)
        super().__init__(
            f"not enough outcomes to recalibrate: {events} falls and {nonevents} non-falls recorded; "
            f"need {self.more_events} more falls and {self.more_nonevents} more non-falls "
            f"(at least {min_events} and {min_nonevents})"
        )


class RecalibrationRefused(ValueError):
    """The local outcomes show no positive association with the model's risk."""


def _outcome_frame(outcomes) -> tuple[pd.DataFrame, np.ndarray]:
    df = outcomes.copy() if isinstance(outcomes, pd.DataFrame) else pd.DataFrame(list(outcomes))
    if df.empty:  # no outcomes yet: the caller's count check says how many are needed
        return pd.DataFrame(columns=["mean_seconds"]), np.empty(0)
    if "fell" not in df.columns or "mean_seconds" not in df.columns:
        raise InputError("outcomes", "each outcome needs mean_seconds and fell (0 or 1)")
    fell = pd.to_numeric(df["fell"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(fell, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("fell", f"row {df.index[i]}: {df['fell'].iloc[i]!r} is not allowed; allowed: 0, 1")
    cols = [c for c in FEATURE_KEYS if c in df.columns]
    return df[cols].reset_index(drop=True), fell


def _logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (with intercept first) and their covariance (inverse Fisher information)."""
    lr = LogisticRegression(C=_C, max_iter=5000).fit(x, y)
    beta = np.concatenate([lr.intercept_, lr.coef_[0]])
    X1 = np.column_stack([np.ones(len(x)), x])
    p = expit(X1 @ beta)
    info = X1.T @ (X1 * (p * (1 - p))[:, None])
    return beta, np.linalg.pinv(info)


def _full_refit(X: np.ndarray, y: np.ndarray, fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Refit the design coefficients present locally; the others keep ``fallback``."""
    seen = X.any(axis=0)
    lr = LogisticRegression(C=_C, fit_intercept=False, max_iter=5000).fit(X[:, seen], y)
    coef = fallback.copy()
    coef[seen] = lr.coef_[0]
    p = expit(X @ coef)
    Xs = X[:, seen]
    info = Xs.T @ (Xs * (p * (1 - p))[:, None])
    cov = np.zeros((X.shape[1], X.shape[1]))
    cov[np.ix_(seen, seen)] = np.linalg.pinv(info)
    return coef, cov


def _cv(eta: np.ndarray, X: np.ndarray, y: np.ndarray, full: bool, coef_recal_fn, folds: int, seed: int) -> dict:
    """Pooled out-of-fold predictions of the current and the new model."""
    new = np.empty(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(eta, y):
        (a, b), _ = _logistic(eta[train, None], y[train])
        if full:
            coef, _ = _full_refit(X[train], y[train], coef_recal_fn(a, b))
            new[test] = expit(X[test] @ coef)
        else:
            new[test] = expit(a + b * eta[test])
    cur = expit(eta)
    return {
        "current": {"log_loss": round(M.log_loss(y, cur), 4), "brier": round(M.brier_score(y, cur), 4)},
        "new": {"log_loss": round(M.log_loss(y, new), 4), "brier": round(M.brier_score(y, new), 4)},
    }


def recalibrate(model: FallRiskModel, outcomes: Sequence[dict] | pd.DataFrame, *, min_events: int = 50,
                min_nonevents: int = 50, version: str | None = None, today: date | None = None,
                seed: int = 0) -> FallRiskModel:
    """Recalibrate ``model`` on local outcomes.

    Parameters
    ----------
    model : FallRiskModel
        The current model.
    outcomes : list of dict or DataFrame
        One row per assessment with a known 12-month outcome: the predictor
        keys of :meth:`FallRiskModel.predict_one` and ``fell`` (0/1); other
        keys (e.g. ``assessment_id``) are ignored. Rows of populations
        without a probability are excluded and counted.
    min_events, min_nonevents : int
        Minimum falls and non-falls for a logistic recalibration.
    version : str, optional
        Version of the result; default ``"<current>+local.<YYYYMMDD>.n<N>"``.
    today : date, optional
        Date used in the default version.
    seed : int
        Seed of the cross-validation folds.

    Returns
    -------
    FallRiskModel
        ``kind`` "recalibrated" or "refit", with its own card and metrics
        (``metrics["local"]``: method, counts, CV log-loss and Brier of the
        current and the new model, ``better``).

    Raises
    ------
    NotEnoughOutcomes
        Too few falls or non-falls (says how many more are needed).
    RecalibrationRefused
        The fitted slope is not positive.
    InputError
        A row has an invalid predictor or outcome.
    """
    frame, fell = _outcome_frame(outcomes)
    canonical, pop_all = parse_frame(frame)
    used = pop_all >= 0
    y = fell[used]
    events, nonevents = int(y.sum()), int(len(y) - y.sum())
    if events < min_events or nonevents < min_nonevents:
        raise NotEnoughOutcomes(events, nonevents, min_events, min_nonevents)
    C = canonical[used]
    eta, _ = model.linear(C)
    (a, b), cov_ab = _logistic(eta[:, None], y)
    if b <= 0:
        raise RecalibrationRefused(
            f"the local outcomes show no positive association with the model's risk (slope {b:.3f}); "
            "the model was not recalibrated — review the recorded outcomes"
        )
    a1, b1 = model.recal
    J = np.array([[1.0, a1], [0.0, b1]])

    def recal_coef(a_: float, b_: float) -> np.ndarray:
        # a_ + b_·(a1 + b1·x·coef): every modelled row has exactly one intercept column
        coef = b_ * b1 * model.coef
        coef[:3] += a_ + b_ * a1
        return coef

    X = design_matrix(C, model.time_params)
    full = events >= FULL_REFIT_MIN and nonevents >= FULL_REFIT_MIN
    note = None
    new = replace(model, kind="recalibrated", recal=(a + b * a1, b * b1),
                  recal_cov=b * b * model.recal_cov + J.T @ cov_ab @ J, parent_version=model.version)
    method = "logistic recalibration (intercept and slope on the current logit)"
    if full:
        coef, coef_cov = _full_refit(X, y, recal_coef(a, b))
        bad = check_invariants(coef, model.time_params)
        if bad:
            full = False
            note = "A full refit was attempted (≥ 500 events and non-events) but broke the model's invariants (" + "; ".join(bad) + "); logistic recalibration used instead."
        else:
            new = replace(model, kind="refit", coef=coef, coef_cov=coef_cov, recal=(0.0, 1.0),
                          recal_cov=np.zeros((2, 2)), parent_version=model.version)
            method = "full refit of the design coefficients seen locally (others logistically recalibrated)"
    cv = _cv(eta, X, y, full, recal_coef, FOLDS, seed)
    # The rate a base_rate override replaces: the evidence rate passed through the
    # recalibration; after a full refit, the local fall rate of each population seen.
    pops = C[:, 0].astype(int)
    ref = []
    for k, r in enumerate(model.reference_rates):
        if new.kind == "refit" and (pops == k).any():
            ref.append(float(np.clip(y[pops == k].mean(), 0.01, 0.99)))
        else:
            ref.append(float(expit(a + b * np.log(r / (1 - r)))))
    ref = tuple(ref)
    n_used = int(used.sum())
    today = today or date.today()
    version = version or f"{model.version}+local.{today:%Y%m%d}.n{n_used}"
    local = {
        "method": method, "n_used": n_used, "events": events, "nonevents": nonevents,
        "excluded": int((~used).sum()), "folds": FOLDS, **cv,
        "better": cv["new"]["log_loss"] < cv["current"]["log_loss"],
        "recalibration": {"intercept": round(float(a), 4), "slope": round(float(b), 4)},
        "note": note,
    }
    metrics = {"local": local, "parent_metrics": {k: v for k, v in model.metrics.items() if k != "local"}}
    new = replace(new, version=version, reference_rates=ref, metrics=metrics, seed=None)
    return replace(new, card=render_card(new, metrics))
