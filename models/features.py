"""Raw predictors → canonical codes → design matrix.

One implementation serves a single patient (:func:`parse_one`), a batch
(:func:`parse_frame`), the evidence cohort and the fitted pipeline
(:func:`design_matrix` is the pipeline's first step).

STEADI items enter as one derived level, following the structure of the
CDC STEADI algorithm (screen, then gait/strength/balance), without the
fall-history step (fall history is its own predictor):

* screen positive: Stay Independent ≥ 4 points;
* gait/strength/balance problem: TUG ≥ 12 s, or chair stands below the
  age-and-sex norm (with sex unknown: below both sexes' norms; not at risk
  when at or above both), or tandem stance held < 10 s (thresholds from
  :mod:`assessment.steadi`);
* level "at risk" (moderate-or-higher) = screen positive and a problem;
  "low" = screen negative, or all three tests recorded and none at risk;
  anything not determined by the recorded items is "unknown".
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from assessment.errors import InputError
from assessment.gatekeeper import (
    AGE_MAX,
    AGE_MIN,
    CHAIR_STAND_MAX,
    TANDEM_MAX_SECONDS,
    TUG_MAX_SECONDS,
    TUG_MIN_SECONDS,
    is_blank,
    parse_whole,
    validate_population,
    validate_prior_falls,
    validate_sex,
    validate_walking_aid,
)
from assessment.gatekeeper import parse_number as gk_parse_number
from assessment.inputs import Sex
from assessment.populations import POPULATION_IDS
from assessment.protocol import TRIAL_MAX_SECONDS, TRIAL_MIN_SECONDS
from assessment.steadi import (
    STAY_INDEPENDENT_AT_RISK,
    TANDEM_HOLD_SECONDS,
    TUG_AT_RISK_SECONDS,
    chair_stand_threshold,
    stay_independent_max,
)

from .evidence import MODEL_POPULATIONS, UNKNOWN, time_params

#: Keys accepted by :meth:`FallRiskModel.predict_one` and columns read by ``predict_frame``.
FEATURE_KEYS: tuple[str, ...] = (
    "mean_seconds", "age", "sex", "population", "prior_falls", "walking_aid",
    "stay_independent_score", "tug_seconds", "chair_stand_count", "tandem_seconds",
)
#: Centre of ln(seconds) in the design (numerical conditioning only, not a clinical value).
LOG_SECONDS_CENTRE = float(np.log(5.0))
N_POP = len(MODEL_POPULATIONS)
#: Design columns, in order.
DESIGN_COLUMNS: tuple[str, ...] = (
    tuple(f"intercept[{p}]" for p in MODEL_POPULATIONS)
    + tuple(f"time_llr[{p}]" for p in MODEL_POPULATIONS)
    + ("sex_contrast[community]",)
    + tuple(f"{name}[{p}]" for name in ("prior_fall_no", "prior_fall_yes") for p in MODEL_POPULATIONS)
    + tuple(f"{name}[{p}]" for name in ("walking_aid_no", "walking_aid_yes") for p in MODEL_POPULATIONS)
    + tuple(f"{name}[{p}]" for name in ("steadi_low", "steadi_at_risk") for p in MODEL_POPULATIONS)
    + tuple(f"time_llr_prior_known[{p}]" for p in MODEL_POPULATIONS)
)
TIME_COLUMNS = slice(N_POP, 2 * N_POP)
#: The time term's change when fall history is known (0 under scenario A, −time_llr under B).
TIME_KNOWN_COLUMNS = slice(len(DESIGN_COLUMNS) - N_POP, len(DESIGN_COLUMNS))


@functools.cache
def default_time_params() -> tuple[tuple[float, ...], ...]:
    """Time-transform constants derived from the evidence (:func:`models.evidence.time_params`)."""
    return time_params()


def time_feature(log_seconds: np.ndarray, pop: np.ndarray, params=None) -> np.ndarray:
    """Monotone time transform g(ln seconds) of each row's population (0 for unmodelled rows).

    ``g(z) = c2·(max(z', z*) − z*)² + b1·(z' − ln 5)``, ``z' = clip(z, z_lo, z_hi)``;
    constants per population from :func:`models.evidence.time_params`
    (non-decreasing in z, constant outside the support limits).
    """
    p = np.asarray(params if params is not None else default_time_params(), dtype=float)
    k = np.where(pop >= 0, pop, 0).astype(int)
    c2, z_star, b1 = p[k, 0], p[k, 1], p[k, 2]
    z = np.clip(log_seconds, p[k, 3], p[k, 4])
    g = c2 * (np.maximum(z, z_star) - z_star) ** 2 + b1 * (z - LOG_SECONDS_CENTRE)
    return np.where(pop >= 0, g, 0.0)


def design_matrix(canonical: np.ndarray, time_params=None, time_values: np.ndarray | None = None) -> np.ndarray:
    """Expand canonical codes (see :data:`models.evidence.CANONICAL`) to the design matrix.

    Every block is interacted with the population; an unknown predictor is
    the reference level (all its columns 0). The time term has a second
    column that is non-zero only when fall history is known: under the
    scenario where the time tracks fall history (see :mod:`models.evidence`)
    the time adds little once the history is known. Rows of populations
    that are not modelled (code −1) are all zero. ``time_params`` (stored with the
    fitted pipeline) defaults to the evidence-derived constants;
    ``time_values`` is :func:`time_feature` of the rows when the caller has it.
    """
    c = np.asarray(canonical, dtype=float)
    pop = c[:, 0]
    onehot = np.stack([pop == k for k in range(N_POP)], axis=1).astype(float)
    g = time_feature(c[:, 1], pop, time_params) if time_values is None else time_values
    z = g[:, None] * onehot
    community = onehot[:, :1]
    # +1 female, −1 male, 0 unknown: the small published sex effect (OR 1.15) is one
    # symmetric contrast, so "unknown" lies between female and male whatever the fit.
    sex = ((c[:, 2] == 1).astype(float) - (c[:, 2] == 2))[:, None] * community
    blocks = [onehot, z, sex]
    for col in (3, 4, 5):
        v = c[:, col]
        blocks.append((v == 0)[:, None] * onehot)
        blocks.append((v == 1)[:, None] * onehot)
    blocks.append(z * (c[:, 3] != UNKNOWN)[:, None])
    return np.hstack(blocks)


# ------------------------------------------------------------ single record
def parse_number(field: str, value: Any, lo: float, hi: float, unit: str, whole: bool = False) -> float:
    """The gatekeeper's number rules (:mod:`assessment.gatekeeper`), whole or not."""
    if whole:
        return float(parse_whole(field, value, int(lo), int(hi), unit))
    return gk_parse_number(field, value, lo, hi, unit)


def parse_prior_falls(value: Any, field: str = "prior_falls") -> int:
    """0, 1 or 2 (2 = two or more); UNKNOWN (−1) when blank."""
    falls = validate_prior_falls(value, field)
    return UNKNOWN if falls is None else falls


def parse_walking_aid(value: Any, field: str = "walking_aid") -> int:
    """1 yes, 0 no, UNKNOWN (−1) when blank."""
    aid = validate_walking_aid(value, field)
    return UNKNOWN if aid is None else int(aid)


def parse_one(features: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one patient's predictors into plain values (None = unknown).

    Raises
    ------
    InputError
        Naming the field and the allowed values.
    """
    if not isinstance(features, Mapping):
        raise InputError("features", f"must be a set of named fields; allowed: {', '.join(FEATURE_KEYS)}")
    extra = sorted(str(k) for k in features if k not in FEATURE_KEYS)
    if extra:
        raise InputError(extra[0], f"unknown field; allowed: {', '.join(FEATURE_KEYS)}")
    get = features.get
    if is_blank(get("mean_seconds")):
        raise InputError("mean_seconds", f"required; allowed: a number from {TRIAL_MIN_SECONDS:g} to {TRIAL_MAX_SECONDS:g} seconds")
    out: dict[str, Any] = {
        "mean_seconds": parse_number("mean_seconds", get("mean_seconds"), TRIAL_MIN_SECONDS, TRIAL_MAX_SECONDS, "seconds"),
        "population": validate_population(get("population")),
        "sex": validate_sex(get("sex")),
        "age": None if is_blank(get("age")) else parse_number("age", get("age"), AGE_MIN, AGE_MAX, "years", whole=True),
        "prior_falls": parse_prior_falls(get("prior_falls")),
        "walking_aid": parse_walking_aid(get("walking_aid")),
    }
    specs = {
        "stay_independent_score": (0, stay_independent_max(), "points", True),
        "tug_seconds": (TUG_MIN_SECONDS, TUG_MAX_SECONDS, "seconds", False),
        "chair_stand_count": (0, CHAIR_STAND_MAX, "stands", True),
        "tandem_seconds": (0.0, TANDEM_MAX_SECONDS, "seconds", False),
    }
    for key, (lo, hi, unit, whole) in specs.items():
        out[key] = None if is_blank(get(key)) else parse_number(key, get(key), lo, hi, unit, whole)
    return out


# ------------------------------------------------------------------ batch
_NUMERIC_SPECS = {
    "mean_seconds": (TRIAL_MIN_SECONDS, TRIAL_MAX_SECONDS, "seconds", False),
    "age": (AGE_MIN, AGE_MAX, "years", True),
    "stay_independent_score": (0, None, "points", True),  # max filled lazily
    "tug_seconds": (TUG_MIN_SECONDS, TUG_MAX_SECONDS, "seconds", False),
    "chair_stand_count": (0, CHAIR_STAND_MAX, "stands", True),
    "tandem_seconds": (0.0, TANDEM_MAX_SECONDS, "seconds", False),
}


def _numeric_column(frame: pd.DataFrame, key: str) -> np.ndarray:
    """Float array with NaN for blank; InputError naming the field and first bad row."""
    n = len(frame)
    if key not in frame.columns:
        return np.full(n, np.nan)
    col = frame[key]
    lo, hi, unit, whole = _NUMERIC_SPECS[key]
    if hi is None:
        hi = stay_independent_max()
    if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
        stripped = col.astype("string").str.strip()
        blank = col.isna().to_numpy() | (stripped == "").fillna(True).to_numpy()
        values = pd.to_numeric(stripped.where(~blank), errors="coerce").to_numpy(dtype=float)
        bad = ~blank & np.isnan(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(key, f"{where(frame, i)}: {str(col.iloc[i])[:40]!r} is not a number; allowed: a number from {lo:g} to {hi:g} {unit}, or blank")
    elif col.dtype == bool:
        raise InputError(key, f"yes/no values are not numbers; allowed: a number from {lo:g} to {hi:g} {unit}")
    else:
        values = col.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(values)
    bad = known & ((values < lo) | (values > hi) | ~np.isfinite(values))
    if whole:
        bad |= known & (values != np.floor(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "a whole number" if whole else "a number"
        raise InputError(key, f"{where(frame, i)}: {values[i]:g} is not allowed; allowed: {kind} from {lo:g} to {hi:g} {unit}, or blank")
    return values


def ages_of(frame: pd.DataFrame) -> np.ndarray:
    """The validated ``age`` column (NaN = unknown; all NaN when there is no such column)."""
    return _numeric_column(frame, "age")


def where(frame: pd.DataFrame, i: int) -> str:
    """Names the ``i``-th row for an error: ``row <label>``, or ``line <n>`` when the
    caller indexed the frame by CSV line (``frame.index.name == "line"``)."""
    return f"{frame.index.name or 'row'} {frame.index[i]}"


def _coded_column(frame: pd.DataFrame, key: str, parse, default) -> np.ndarray:
    """Map a categorical column through ``parse`` once per distinct value."""
    if key not in frame.columns:
        return np.full(len(frame), default)
    codes, uniques = pd.factorize(frame[key], use_na_sentinel=True)
    mapped = []
    for i, value in enumerate(uniques):
        try:
            mapped.append(parse(value))
        except InputError as exc:
            raise InputError(exc.field, f"{where(frame, int(np.flatnonzero(codes == i)[0]))}: {exc.message}") from None
    table = np.array(mapped + [parse(None)], dtype=float)
    return table[codes]  # code −1 (missing) picks the last entry


def _population_code(value: Any) -> int:
    pid = validate_population(value)
    return MODEL_POPULATIONS.index(pid) if pid in MODEL_POPULATIONS else -1 - POPULATION_IDS.index(pid)


def _sex_code(value: Any) -> int:
    sex = validate_sex(value)
    return 0 if sex is None else (1 if sex is Sex.FEMALE else 2)


@functools.cache
def _chair_thresholds() -> np.ndarray:
    """(121, 3) table: threshold by age (0–120) and sex code (1 female, 2 male); NaN = no norm."""
    table = np.full((AGE_MAX + 1, 3), np.nan)
    for age in range(AGE_MAX + 1):
        for code, sex in ((1, Sex.FEMALE), (2, Sex.MALE)):
            t = chair_stand_threshold(age, sex)
            table[age, code] = np.nan if t is None else t
    return table


def _tri(known: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """−1 unknown, 1 at risk, 0 not at risk."""
    return np.where(known, at_risk.astype(float), float(UNKNOWN))


def steadi_level(si: np.ndarray, tug: np.ndarray, chair: np.ndarray, tandem: np.ndarray,
                 age: np.ndarray, sex_code: np.ndarray) -> np.ndarray:
    """STEADI level from the items (module docstring): 1 at risk, 0 low, −1 unknown."""
    screen = _tri(~np.isnan(si), si >= STAY_INDEPENDENT_AT_RISK)
    tug_r = _tri(~np.isnan(tug), tug >= TUG_AT_RISK_SECONDS)
    tandem_r = _tri(~np.isnan(tandem), tandem < TANDEM_HOLD_SECONDS)
    # Chair stands are judged against the age-and-sex norm. With sex unknown the
    # count is judged only if it is on the same side of both sexes' norms.
    table = _chair_thresholds()
    age_idx = np.where(np.isnan(age), 0, age).astype(int)
    female, male = table[age_idx, 1], table[age_idx, 2]
    sex_known = sex_code > 0
    own = np.where(sex_code == 2, male, female)
    lo = np.where(sex_known, own, np.fmin(female, male))  # below this: at risk
    hi = np.where(sex_known, own, np.fmax(female, male))  # at or above this: not at risk
    usable = ~np.isnan(chair) & ~np.isnan(age) & ~np.isnan(lo)
    at_risk = usable & (chair < np.nan_to_num(lo))
    not_at_risk = usable & (chair >= np.nan_to_num(hi))
    chair_r = np.where(at_risk, 1.0, np.where(not_at_risk, 0.0, float(UNKNOWN)))
    items = np.column_stack([tug_r, chair_r, tandem_r])
    gsb = np.where((items == 1).any(axis=1), 1.0, np.where((items == 0).all(axis=1), 0.0, float(UNKNOWN)))
    return np.where((screen == 0) | (gsb == 0), 0.0, np.where((screen == 1) & (gsb == 1), 1.0, float(UNKNOWN)))


def parse_frame(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch and return (canonical codes, population codes incl. unmodelled).

    Columns are the :data:`FEATURE_KEYS` (``mean_seconds`` required; other
    columns optional, blank/NaN = unknown; extra columns are ignored).
    Population codes: 0..2 for modelled populations, negative for others.
    """
    if "mean_seconds" not in frame.columns:
        raise InputError("mean_seconds", "required column is missing")
    seconds = _numeric_column(frame, "mean_seconds")
    if np.isnan(seconds).any():
        i = int(np.flatnonzero(np.isnan(seconds))[0])
        raise InputError("mean_seconds", f"{where(frame, i)}: required; allowed: a number from {TRIAL_MIN_SECONDS:g} to {TRIAL_MAX_SECONDS:g} seconds")
    pop_all = _coded_column(frame, "population", _population_code, 0.0).astype(float)
    sex = _coded_column(frame, "sex", _sex_code, 0.0).astype(float)
    prior = _coded_column(frame, "prior_falls", parse_prior_falls, float(UNKNOWN)).astype(float)
    aid = _coded_column(frame, "walking_aid", parse_walking_aid, float(UNKNOWN)).astype(float)
    age = _numeric_column(frame, "age")
    steadi = steadi_level(
        _numeric_column(frame, "stay_independent_score"), _numeric_column(frame, "tug_seconds"),
        _numeric_column(frame, "chair_stand_count"), _numeric_column(frame, "tandem_seconds"), age, sex,
    )
    prior = np.where(prior == 2, 1.0, prior)  # 2+ carries the same published OR as 1 (see card)
    canonical = np.column_stack([np.where(pop_all >= 0, pop_all, -1.0), np.log(seconds), sex, prior, aid, steadi])
    return canonical, pop_all


def one_frame(parsed: Mapping[str, Any]) -> pd.DataFrame:
    """A one-row frame of already-validated values (from :func:`parse_one`)."""
    row = dict(parsed)
    row["sex"] = None if row["sex"] is None else row["sex"].value
    row["prior_falls"] = None if row["prior_falls"] == UNKNOWN else row["prior_falls"]
    row["walking_aid"] = None if row["walking_aid"] == UNKNOWN else bool(row["walking_aid"])
    return pd.DataFrame([{k: row.get(k) for k in FEATURE_KEYS}])


def population_id(code: float) -> str:
    """Population id from a code of :func:`parse_frame`."""
    code = int(code)
    return MODEL_POPULATIONS[code] if code >= 0 else POPULATION_IDS[-1 - code]
