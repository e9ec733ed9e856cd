"""Saving and loading models with skops (never pickle).

The artifact is a skops dump of ``{"estimator": <fitted CalibratedClassifierCV>,
"state": <JSON text>}``. Loading trusts exactly :data:`TRUSTED_TYPES` (beyond
skops' own defaults); anything else in a file is refused.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

import numpy as np
import skops.io as sio

from .features import DESIGN_COLUMNS
from .model import FallRiskModel

FORMAT = 2
#: Older formats still read (format 1: before the structural scenarios, see :func:`_upgrade_v1`).
READABLE_FORMATS = (1, 2)
DEFAULT_ARTIFACT = "evidence-2.0.0.skops"
#: The only non-default types a model file may contain.
TRUSTED_TYPES: tuple[str, ...] = (
    "models.features.design_matrix",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)


def _state(model: FallRiskModel) -> dict:
    return {
        "format": FORMAT,
        "version": model.version,
        "kind": model.kind,
        "coef": model.coef.tolist(),
        "time_cov": model.time_cov.tolist(),
        "var_terms": model.var_terms.tolist(),
        "scenario_coef": None if model.scenario_coef is None else model.scenario_coef.tolist(),
        "reference_rates": list(model.reference_rates),
        "pretest_rates": list(model.pretest_rates),
        "time_params": [list(r) for r in model.time_params],
        "recal": list(model.recal),
        "recal_cov": model.recal_cov.tolist(),
        "coef_cov": None if model.coef_cov is None else model.coef_cov.tolist(),
        "parent_version": model.parent_version,
        "seed": model.seed,
        "card": model.card,
        "metrics": model.metrics,
    }


def to_bytes(model: FallRiskModel) -> bytes:
    """Serialise a model with skops."""
    return sio.dumps({"estimator": model.estimator, "state": json.dumps(_state(model))})


def from_bytes(data: bytes) -> FallRiskModel:
    """Load a model saved by :func:`to_bytes`, trusting only :data:`TRUSTED_TYPES`.

    Raises
    ------
    ValueError
        When the file is not a model of this format.
    skops.io.exceptions.UntrustedTypesFoundException
        When it holds any type outside the trusted list.
    """
    obj = sio.loads(data, trusted=list(TRUSTED_TYPES))
    if not isinstance(obj, dict) or "state" not in obj:
        raise ValueError("not a StepBack model file")
    s = json.loads(obj["state"])
    if s.get("format") not in READABLE_FORMATS:
        raise ValueError(f"unsupported model format {s.get('format')!r}; allowed: {', '.join(map(str, READABLE_FORMATS))}")
    if s["format"] == 1:
        s = _upgrade_v1(s)
    return FallRiskModel(
        version=s["version"], kind=s["kind"], estimator=obj["estimator"],
        coef=np.asarray(s["coef"], dtype=float), time_cov=np.asarray(s["time_cov"], dtype=float),
        var_terms=np.asarray(s["var_terms"], dtype=float),
        scenario_coef=None if s["scenario_coef"] is None else np.asarray(s["scenario_coef"], dtype=float),
        reference_rates=tuple(s["reference_rates"]),
        pretest_rates=tuple(s["pretest_rates"]), time_params=tuple(tuple(r) for r in s["time_params"]),
        recal=tuple(s["recal"]), recal_cov=np.asarray(s["recal_cov"], dtype=float),
        coef_cov=None if s["coef_cov"] is None else np.asarray(s["coef_cov"], dtype=float),
        parent_version=s["parent_version"], seed=s["seed"], card=s["card"], metrics=s["metrics"],
    )


def _upgrade_v1(s: dict) -> dict:
    """A format-1 state (model ``evidence-1.0.0`` and its recalibrations) in format-2 terms.

    Format 1 had no time-by-known-history columns (zero coefficients here:
    the same predictions), only the STEADI term in its interval (var_terms
    with the full STEADI variance, nothing else) and no scenario refits.
    Its ``estimator`` predates the new design and is not used for predictions.
    """
    n_new = len(DESIGN_COLUMNS) - len(s["coef"])
    s = dict(s)
    s["coef"] = list(s["coef"]) + [0.0] * n_new
    if s.get("coef_cov") is not None:
        s["coef_cov"] = np.pad(np.asarray(s["coef_cov"]), (0, n_new)).tolist()
    v = float(s.pop("steadi_var"))
    s["var_terms"] = [[0.0, 0.0, 0.0, 0.0, v, v, 0.0]] * len(s["time_cov"])
    s["scenario_coef"] = None
    return s


def save(model: FallRiskModel, path: str | Path) -> Path:
    """Write a model file; returns the path."""
    path = Path(path)
    path.write_bytes(to_bytes(model))
    return path


def load(path: str | Path) -> FallRiskModel:
    """Read a model file written by :func:`save`."""
    return from_bytes(Path(path).read_bytes())


def default_artifact_path() -> Path:
    """Where the shipped default artifact lives inside the package."""
    return Path(str(resources.files("models") / "artifacts" / DEFAULT_ARTIFACT))


@functools.cache
def load_default_model() -> FallRiskModel:
    """The shipped evidence model (loaded once per process; read-only)."""
    return load(default_artifact_path())
