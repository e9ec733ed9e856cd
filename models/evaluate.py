"""Evaluation on independent simulated cohorts and against the published figures.

Every cohort here is simulated from the model's own assumptions
(:mod:`models.evidence`): its metrics check that the model does what those
assumptions imply, under each structural scenario; they are **not** a
validation, which needs observed patients' outcomes.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from . import metrics as M
from .evidence import (
    CARTER_PD_AUC,
    KAPAN_FUTURE_AUC,
    MASK_RATE,
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
#: Scenarios evaluated, with the words every display uses for them.
SCENARIO_LABELS = {
    "A": "A: time independent of fall history given the future fall",
    "B": "B: time tracks fall history; future falls follow history (OR 2.8)",
    "mix": "mix: half of the patients from A, half from B",
}


def cohort_label(scenario: str, seed: int, n_per_population: int) -> str:
    """What a metric was computed on, in words (shown wherever the metric is)."""
    return (f"simulated cohort, scenario {SCENARIO_LABELS[scenario]}; {n_per_population:,} per population, "
            f"seed {seed}, {MASK_RATE:.0%} of predictors unknown. A check of the model's own assumptions, "
            "not a validation")


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


def scenario_block(model: FallRiskModel, X: np.ndarray, y: np.ndarray) -> dict:
    """Per population: summary, time-only ECE, and decile coverage of the 95 % interval."""
    eta, lo, hi, _ = model.interval(X)
    p = expit(eta)
    p_t = expit(model.linear(time_only(X))[0])
    out = {}
    for k, pid in enumerate(MODEL_POPULATIONS):
        m = X[:, 0] == k
        block = summary(y[m], p[m])
        block["time_only_ece"] = round(M.expected_calibration_error(y[m], p_t[m]), 4)
        cov = M.interval_coverage(y[m], p[m], expit(lo[m]), expit(hi[m]))
        block["deciles_covered"] = sum(r["covered"] for r in cov)
        block["coverage"] = [{k2: (round(v, 4) if isinstance(v, float) else v) for k2, v in r.items()} for r in cov]
        out[pid] = block
    return out


def evaluate(model: FallRiskModel, seed: int, n_per_population: int = EVAL_N_PER_POPULATION) -> dict:
    """Metrics of ``model`` on independent simulated cohorts drawn with ``seed``.

    Parameters
    ----------
    model : FallRiskModel
    seed : int
        Seed of the evaluation cohorts (use one the model was not trained on).
    n_per_population : int
        Patients per modelled population and scenario.

    Returns
    -------
    dict
        JSON-able. ``cohort``: what the metrics come from (simulated from the
        model's assumptions: a check, not a validation). ``overall`` and
        ``by_population``: the half-and-half mix cohort. ``scenarios``: per
        scenario ("A", "B", "mix") and population, the summary, time-only
        ECE and how many of 10 deciles of predicted risk have the observed
        rate inside the mean 95 % interval. ``published_checks``: time-only
        AUCs and the sensitivity/specificity at Polo-Ferrero's 5.5 s under
        scenario A (the scenario in which the published groups are future
        fallers) next to the published figures.
    """
    out = {"model_version": model.version, "seed": seed, "n_per_population": n_per_population,
           "scenario_labels": dict(SCENARIO_LABELS), "scenarios": {}}
    cohorts = {}
    for j, scenario in enumerate(("A", "B", "mix")):
        X, y = evidence_cohort(seed + 1000 * j, n_per_population, scenario=scenario)  # three independent cohorts
        cohorts[scenario] = (X, y)
        out["scenarios"][scenario] = {"cohort": cohort_label(scenario, seed + 1000 * j, n_per_population),
                                      "by_population": scenario_block(model, X, y)}
    out["cohort"] = out["scenarios"]["mix"]["cohort"]
    X, y = cohorts["mix"]
    p = expit(model.linear(X)[0])
    out["overall"] = summary(y, p)
    out["by_population"] = {pid: {k: v for k, v in block.items() if k != "coverage"}
                            for pid, block in out["scenarios"]["mix"]["by_population"].items()}
    X, y = cohorts["A"]
    p_t = expit(model.linear(time_only(X))[0])
    checks = {"cohort": cohort_label("A", seed, n_per_population) + "; every predictor but the time unknown"}
    published = {"community": POLO_AUC, "nursing_home": KAPAN_FUTURE_AUC, "parkinsons": CARTER_PD_AUC}
    for k, pid in enumerate(MODEL_POPULATIONS):
        m = X[:, 0] == k
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
