"""Evaluation on an independent evidence cohort and against the published figures."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from . import metrics as M
from .evidence import (
    CARTER_PD_AUC,
    KAPAN_FUTURE_AUC,
    MODEL_POPULATIONS,
    POLO_AUC,
    POLO_CUTOFF_SECONDS,
    POLO_SENSITIVITY,
    POLO_SPECIFICITY,
    UNKNOWN,
    evidence_cohort,
)
from .model import FallRiskModel

#: Evaluation cohort size per population (independent seed).
EVAL_N_PER_POPULATION = 40_000


def summary(y: np.ndarray, p: np.ndarray) -> dict:
    """AUC, Brier, log-loss, calibration intercept/slope, ECE and reliability table."""
    return {
        "n": int(len(y)),
        "events": int(y.sum()),
        "auc": round(M.roc_auc(y, p), 4),
        "brier": round(M.brier_score(y, p), 4),
        "log_loss": round(M.log_loss(y, p), 4),
        "calibration_intercept": round(M.calibration_intercept(y, p), 4),
        "calibration_slope": round(M.calibration_slope(y, p), 4),
        "ece": round(M.expected_calibration_error(y, p), 4),
        "reliability": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in M.reliability_table(y, p)],
    }


def time_only(canonical: np.ndarray) -> np.ndarray:
    """The same patients with every predictor but the time hidden."""
    out = canonical.copy()
    out[:, 2] = 0
    out[:, 3:] = UNKNOWN
    return out


def evaluate(model: FallRiskModel, seed: int, n_per_population: int = EVAL_N_PER_POPULATION) -> dict:
    """Metrics of ``model`` on an independent evidence cohort drawn with ``seed``.

    Parameters
    ----------
    model : FallRiskModel
    seed : int
        Seed of the evaluation cohort (use one the model was not trained on).
    n_per_population : int
        Patients per modelled population.

    Returns
    -------
    dict
        JSON-able: ``overall`` and ``by_population`` summaries (all
        predictors, MCAR-masked as in training) and ``published_checks``:
        time-only AUCs and the sensitivity/specificity at Polo-Ferrero's
        5.5 s next to the published figures.
    """
    X, y = evidence_cohort(seed, n_per_population)
    eta, _ = model.linear(X)
    p = expit(eta)
    out = {"model_version": model.version, "seed": seed, "n_per_population": n_per_population,
           "overall": summary(y, p), "by_population": {}}
    eta_t, _ = model.linear(time_only(X))
    p_t = expit(eta_t)
    checks = {}
    published = {"community": POLO_AUC, "nursing_home": KAPAN_FUTURE_AUC, "parkinsons": CARTER_PD_AUC}
    for k, pid in enumerate(MODEL_POPULATIONS):
        m = X[:, 0] == k
        out["by_population"][pid] = summary(y[m], p[m])
        checks[pid] = {"time_only_auc": round(M.roc_auc(y[m], p_t[m]), 4), "published_auc": published[pid]}
    m = X[:, 0] == 0
    # the model's time-only probability at 5.5 s used as the positivity threshold
    cut = np.array([[0.0, np.log(POLO_CUTOFF_SECONDS), 0.0, UNKNOWN, UNKNOWN, UNKNOWN]])
    threshold = float(expit(model.linear(cut)[0][0]))
    sens, spec = M.sensitivity_specificity(y[m], p_t[m], threshold)
    checks["community"].update(
        cutoff_seconds=POLO_CUTOFF_SECONDS, probability_at_cutoff=round(threshold, 4),
        sensitivity=round(sens, 4), specificity=round(spec, 4),
        published_sensitivity=POLO_SENSITIVITY, published_specificity=POLO_SPECIFICITY,
    )
    out["published_checks"] = checks
    return out
