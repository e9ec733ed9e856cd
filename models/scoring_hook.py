"""The model as a scoring hook for a stored assessment.

``records`` calls ``risk_fn(assessment, score, predictors)`` while it
finalises an assessment; this module builds that function from a fitted
model, so the CLI and the app score stored assessments the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from assessment import Assessment, ScoreResult

from .model import FallRiskModel


def features_of(assessment: Assessment, result: ScoreResult, predictors: Mapping[str, Any]) -> dict[str, Any]:
    """The model's predictors for a validated, scored assessment (None = unknown)."""
    steadi = assessment.steadi
    return {
        "mean_seconds": result.mean_seconds,
        "age": assessment.age,
        "sex": assessment.sex.value if assessment.sex else None,
        "population": assessment.population,
        "prior_falls": predictors.get("prior_falls"),
        "walking_aid": predictors.get("walking_aid"),
        "stay_independent_score": steadi.stay_independent_score,
        "tug_seconds": steadi.tug_seconds,
        "chair_stand_count": steadi.chair_stand_count,
        "tandem_seconds": steadi.tandem_seconds,
    }


def risk_function(model: FallRiskModel, *, base_rate: float | None = None) -> Callable[..., dict | None]:
    """``risk_fn(assessment, score, predictors)`` for :mod:`records`.

    Returns None (no risk stored) when the walk has no valid timed trial.
    """

    def risk_fn(assessment: Assessment, result: ScoreResult, predictors: Mapping[str, Any]) -> dict | None:
        if result.mean_seconds is None:
            return None
        return model.predict_one(features_of(assessment, result, predictors), base_rate=base_rate).to_dict()

    return risk_fn
