"""Pure evaluation metrics: arrays in, numbers (or plain lists) out."""

from __future__ import annotations

import numpy as np
from scipy.special import logit
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression

#: Probabilities are clipped to [EPS, 1 − EPS] before taking logits or logs.
EPS = 1e-12


def _arrays(y, p):
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError("y and p must be 1-D arrays of the same length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must contain only 0 and 1")
    return y, p


def roc_auc(y, score) -> float:
    """Area under the ROC curve (Mann–Whitney; ties count one half)."""
    y, s = _arrays(y, score)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("AUC needs both outcomes")
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier_score(y, p) -> float:
    """Mean squared difference between probability and outcome."""
    y, p = _arrays(y, p)
    return float(np.mean((p - y) ** 2))


def log_loss(y, p) -> float:
    """Mean negative log-likelihood (natural log)."""
    y, p = _arrays(y, p)
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def calibration_slope(y, p) -> float:
    """Slope b of ``logit P(y) = a + b·logit p`` (1 = ideal; < 1 = too extreme)."""
    y, p = _arrays(y, p)
    lp = logit(np.clip(p, EPS, 1 - EPS))[:, None]
    fit = LogisticRegression(C=1e10, max_iter=1000).fit(lp, y)
    return float(fit.coef_[0, 0])


def calibration_intercept(y, p, iterations: int = 50) -> float:
    """Calibration-in-the-large: a in ``logit P(y) = a + logit p`` (slope fixed at 1; 0 = ideal).

    Solved by Newton's method on the one-parameter likelihood.
    """
    y, p = _arrays(y, p)
    lp = logit(np.clip(p, EPS, 1 - EPS))
    a = 0.0
    for _ in range(iterations):
        q = 1.0 / (1.0 + np.exp(-(lp + a)))
        step = (y - q).sum() / max((q * (1 - q)).sum(), EPS)
        a += step
        if abs(step) < 1e-12:
            break
    return float(a)


def reliability_table(y, p, n_bins: int = 10) -> list[dict]:
    """Equal-width probability bins: n, mean predicted, observed rate (empty bins omitted)."""
    y, p = _arrays(y, p)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            rows.append({
                "bin_low": float(edges[b]), "bin_high": float(edges[b + 1]), "n": int(mask.sum()),
                "mean_predicted": float(p[mask].mean()), "observed_rate": float(y[mask].mean()),
            })
    return rows


def expected_calibration_error(y, p, n_bins: int = 10) -> float:
    """Σ (n_bin / n) · |observed rate − mean predicted| over equal-width bins."""
    y, _ = _arrays(y, p)
    return float(sum(r["n"] * abs(r["observed_rate"] - r["mean_predicted"]) for r in reliability_table(y, p, n_bins)) / len(y))


def sensitivity_specificity(y, score, threshold: float) -> tuple[float, float]:
    """(sensitivity, specificity) of the rule ``score ≥ threshold``."""
    y, s = _arrays(y, score)
    positive = s >= threshold
    return float(positive[y == 1].mean()), float((~positive[y == 0]).mean())


def interval_coverage(y, p, low, high, n_bins: int = 10) -> list[dict]:
    """Deciles of predicted risk: does the mean 95 % interval contain the observed rate?

    Patients are sorted by ``p`` and cut into ``n_bins`` groups of equal size;
    a group is covered when mean(low) ≤ observed rate ≤ mean(high).
    """
    y, p = _arrays(y, p)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    order = np.argsort(p, kind="stable")
    rows = []
    for idx in np.array_split(order, n_bins):
        observed = float(y[idx].mean())
        lo, hi = float(low[idx].mean()), float(high[idx].mean())
        rows.append({"n": int(idx.size), "mean_predicted": float(p[idx].mean()), "observed_rate": observed,
                     "mean_low": lo, "mean_high": hi, "covered": bool(lo <= observed <= hi)})
    return rows
