"""Vectorised scoring of many walks at once (the CSV batch).

Input columns: ``age``, ``sex``, ``population``, ``trial_1`` … ``trial_n``
and optional ``previous``; any other column is passed through untouched.
Each row is one walk; its trials are taken as valid timed trials with the
default protocol. The rules are the gatekeeper's: the first bad cell is
re-checked by the gatekeeper's own scalar validator so the error message
is identical to the one a single assessment would get, with the CSV line.

Scoring uses the same functions as :func:`assessment.score`
(:mod:`assessment.scoring`), applied to arrays. Importing this module
imports pandas; ``import assessment`` does not.
"""

from __future__ import annotations

import re
import numpy as np
import pandas as pd

from . import gatekeeper as gk
from .errors import InputError
from .populations import DEFAULT_POPULATION, POPULATION_IDS, populations
from .protocol import MAX_TIMED_TRIALS, TRIAL_FLAG_SECONDS, TRIAL_MAX_SECONDS, TRIAL_MIN_SECONDS
from .scoring import CHANGE_DECIMALS, classify_change, percentile_from_z, speed, speed_mdc_seconds, z_score

TRIAL_COLUMN = re.compile(r"^trial_([1-9][0-9]*)$")

#: Result columns, named as in ``stepback score --json``.
RESULT_COLUMNS = (
    "mean_seconds", "speed_m_per_s", "valid_trials", "band", "cutoffs", "reference_cohort",
    "percentile", "z", "change_seconds", "mdc95", "change", "flags",
)


def _line(index: int) -> int:
    """CSV line of a 0-based data row (line 1 is the header)."""
    return index + 2


def _fail(field: str, row: int, check) -> None:
    """Re-run the scalar check on the bad cell so the message is the gatekeeper's."""
    try:
        check()
    except InputError as err:
        raise InputError(field, f"line {_line(row)}: {err.message}") from None
    raise InputError(field, f"line {_line(row)}: invalid value")  # pragma: no cover - rules disagree


def _blank_mask(col: pd.Series) -> np.ndarray:
    if col.dtype == object:
        return (col.isna() | (col.astype(str).str.strip() == "")).to_numpy()
    return col.isna().to_numpy()


def _numeric(df: pd.DataFrame, name: str, lo: float, hi: float, unit: str, whole: bool = False) -> np.ndarray:
    """Column as floats (NaN = blank), every non-blank cell checked against [lo, hi]."""
    col = df[name]
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    blank = _blank_mask(col)
    bad = ~blank & ~((values >= lo) & (values <= hi))  # NaN from a bad string fails too
    if whole:
        bad |= ~blank & (values != np.floor(values))
    if col.dtype == bool:
        bad |= ~blank
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raw = col.iloc[row]
        if whole:
            _fail(name, row, lambda: gk.parse_whole(name, raw, int(lo), int(hi), unit))
        _fail(name, row, lambda: gk.parse_number(name, raw, lo, hi, unit))
    return values


def _categorical(df: pd.DataFrame, name: str, allowed: tuple[str, ...], default: str | None, validate) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), default, dtype=object)
    col = df[name]
    blank = _blank_mask(col)
    text = col.astype(str).str.strip().str.lower().to_numpy(dtype=object)
    text[blank] = default
    bad = ~blank & ~np.isin(text, allowed)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        _fail(name, row, lambda: validate(col.iloc[row], name))
    return text


def compact_cutoffs(p) -> str:
    """The population's cut-offs as ``≤3|≥3.5|≥4.5|≥5.5`` (seconds); sources are in the JSON output and README."""
    return "|".join(f"{'≤' if c.comparison == 'le' else '≥'}{c.seconds:g}" for c in p.cutoffs)


def trial_columns(columns) -> list[str]:
    """The ``trial_N`` columns, in N order."""
    found = sorted((int(m.group(1)), c) for c in columns if (m := TRIAL_COLUMN.match(str(c))))
    return [c for _, c in found]


def score_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Score every row of ``df``; returns ``df`` with the result columns added.

    Raises
    ------
    InputError
        For the first bad cell, naming the column and the CSV line.
    """
    trials = trial_columns(df.columns)
    if not trials:
        raise InputError("trial_1", "column missing; allowed: columns trial_1 … trial_n with times in seconds")
    if len(trials) > MAX_TIMED_TRIALS:
        raise InputError("trials", f"{len(trials)} trial columns; allowed: 1 to {MAX_TIMED_TRIALS}")
    n = len(df)
    age = (_numeric(df, "age", gk.AGE_MIN, gk.AGE_MAX, "years", whole=True)
           if "age" in df.columns else np.full(n, np.nan))
    _categorical(df, "sex", ("female", "male", "unknown"), "unknown", gk.validate_sex)
    pop = _categorical(df, "population", POPULATION_IDS, DEFAULT_POPULATION, gk.validate_population)
    times = np.column_stack([
        _numeric(df, c, TRIAL_MIN_SECONDS, TRIAL_MAX_SECONDS, "seconds") for c in trials
    ]) if n else np.empty((0, len(trials)))
    count = (~np.isnan(times)).sum(axis=1)
    if n and (count == 0).any():
        row = int(np.flatnonzero(count == 0)[0])
        raise InputError("trial_1", f"line {_line(row)}: at least one timed trial is required "
                                    f"({TRIAL_MIN_SECONDS:g}–{TRIAL_MAX_SECONDS:g} s)")
    previous = (_numeric(df, "previous", TRIAL_MIN_SECONDS, TRIAL_MAX_SECONDS, "seconds")
                if "previous" in df.columns else np.full(n, np.nan))

    with np.errstate(invalid="ignore"):
        mean = np.round(np.nansum(times, axis=1) / np.maximum(count, 1), 4)
    out = df.copy()
    out["mean_seconds"] = mean
    out["speed_m_per_s"] = np.round(speed(mean), 4)
    out["valid_trials"] = count
    band = np.full(n, None, dtype=object)
    cutoffs = np.full(n, "", dtype=object)
    cohort = np.full(n, None, dtype=object)
    z = np.full(n, np.nan)
    mdc = np.full(n, np.nan)
    age_flag = np.full(n, "", dtype=object)
    for pid, p in populations().items():
        rows = pop == pid
        if not rows.any():
            continue
        t = mean[rows]
        pb = np.full(rows.sum(), None, dtype=object)
        for b in p.bands:
            inside = np.ones(len(t), dtype=bool)
            if b.lower is not None:
                inside &= (t >= b.lower) if b.lower_inclusive else (t > b.lower)
            if b.upper is not None:
                inside &= (t <= b.upper) if b.upper_inclusive else (t < b.upper)
            pb[inside] = b.name
        band[rows] = pb
        cutoffs[rows] = compact_cutoffs(p)
        a = age[rows]
        outside = ((a < p.age_min) if p.age_min is not None else False) | ((a > p.age_max) if p.age_max is not None else False)
        if p.reference_cohort is not None:
            cohort[rows] = p.reference_cohort.id
            z[rows] = np.where(outside, np.nan, z_score(t, p.reference_cohort.mean_seconds, p.reference_cohort.sd_seconds))
        if np.any(outside):
            age_flag[np.flatnonzero(rows)[outside]] = "age outside the population's evidence: no percentile"
        if p.mdc95_speed is not None:
            mdc[rows] = speed_mdc_seconds(p.mdc95_speed, previous[rows], t)
        elif p.mdc95_seconds is not None:
            mdc[rows] = p.mdc95_seconds
    out["band"] = band
    out["cutoffs"] = cutoffs
    out["reference_cohort"] = cohort
    out["z"] = np.round(z, 4)
    out["percentile"] = np.round(percentile_from_z(out["z"].to_numpy()), 2)
    change = np.round(mean - previous, CHANGE_DECIMALS)
    out["change_seconds"] = change
    out["mdc95"] = np.round(mdc, 3)
    known = ~np.isnan(change) & ~np.isnan(mdc)
    cls = np.full(n, None, dtype=object)
    if known.any():
        cls[known] = classify_change(change[known], mdc[known])
    out["change"] = cls
    slow = np.where((times > TRIAL_FLAG_SECONDS).any(axis=1), "trial over 30 s: check entry", "").astype(object)
    out["flags"] = np.where(age_flag == "", slow, np.where(slow == "", age_flag, slow + "; " + age_flag))
    return out


def read_csv(in_path) -> pd.DataFrame:
    """Read a batch CSV; the index is the CSV line of each row (named ``line``)."""
    try:
        df = pd.read_csv(in_path, dtype={"sex": str, "population": str}, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError("csv", f"cannot read {in_path}: {str(err).splitlines()[0][:120]}") from None
    df.index = pd.RangeIndex(2, len(df) + 2, name="line")
    return df


def score_csv(in_path, out_path) -> int:
    """Score a CSV file into another; returns the number of walks scored.

    Nothing is written when any row is bad.
    """
    scored = score_frame(read_csv(in_path))
    write_csv(scored, out_path)
    return len(scored)


def write_csv(df: pd.DataFrame, out_path) -> None:
    """Write ``df`` as CSV with Arrow's writer (several times faster than
    :meth:`DataFrame.to_csv` on float columns); falls back to pandas for a
    column Arrow cannot type (mixed values in a passed-through column)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        df.to_csv(out_path, index=False)
        return
    pa_csv.write_csv(table, out_path, write_options=pa_csv.WriteOptions(quoting_style="needed"))
