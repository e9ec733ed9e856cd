"""Scoring a 3MBW: mean time, speed, band, percentile, z and change.

Percentiles use a log-normal distribution fitted to a reference cohort's
published mean ``m`` and SD ``s`` by the method of moments:

    σ² = ln(1 + s²/m²),  μ = ln m − σ²/2,
    z = (ln t − μ) / σ,  percentile = 100 · Φ(z).

The percentile is the share of the reference cohort whose time is at or
below the patient's: a *higher* percentile means a *slower* walk than more
of the cohort. Times are right-skewed (fallers 6.8 ± 3.4 s, Polo-Ferrero
2025), which is why a log-normal, not a normal, is fitted.

The math functions accept floats or NumPy arrays so the batch scorer and
the single-assessment scorer share one implementation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import ndtr

from .inputs import Assessment
from .populations import Population, get_population, short_source
from .protocol import COURSE_METRES, SCORING_RULE, AssistiveDevice
from .steadi import SteadiItemResult, score_steadi

#: Change classes.
IMPROVED = "improved"
NO_REAL_CHANGE = "no_real_change"
WORSE = "worse"

#: Times are recorded to 0.01 s; changes are compared with the MDC95 after
#: rounding to this many decimals so float noise cannot flip a class.
CHANGE_DECIMALS = 3


def lognormal_params(mean, sd):
    """(μ, σ) of the log-normal with the given mean and SD (method of moments)."""
    sigma2 = np.log1p((np.asarray(sd, dtype=float) / mean) ** 2)
    return np.log(mean) - sigma2 / 2.0, np.sqrt(sigma2)


def z_score(seconds, mean, sd):
    """z of ``seconds`` against a log-normal fitted to ``mean`` ± ``sd``."""
    mu, sigma = lognormal_params(mean, sd)
    return (np.log(seconds) - mu) / sigma


def percentile_from_z(z):
    """Percentile (0–100) of the cohort at or below the patient's time."""
    return 100.0 * ndtr(z)


def speed(seconds):
    """Walking speed, m/s, over the 3 m course."""
    return COURSE_METRES / np.asarray(seconds, dtype=float)


def classify_change(change_seconds, mdc95):
    """improved / no_real_change / worse for a change in seconds (current − previous).

    A change counts as real when its size reaches the MDC95; a shorter
    time is an improvement. Works on floats or arrays (array in, array out).
    """
    change = np.round(np.asarray(change_seconds, dtype=float), CHANGE_DECIMALS)
    out = np.where(change <= -mdc95, IMPROVED, np.where(change >= mdc95, WORSE, NO_REAL_CHANGE))
    return out.item() if out.ndim == 0 else out


@dataclass(frozen=True)
class CutoffResult:
    seconds: float
    side: str  # "≤" or "≥"
    purpose: str
    met: bool
    verified: bool
    sensitivity: float | None
    specificity: float | None
    auc: float | None
    source: str


@dataclass(frozen=True)
class Change:
    previous_seconds: float
    change_seconds: float
    mdc95: float | None
    mdc95_kind: str | None
    change: str | None  # None when no MDC95 is published for the population
    note: str | None


@dataclass(frozen=True)
class ScoreResult:
    """A scored 3MBW. ``mean_seconds`` is None when no valid timed trial exists."""

    population: str
    population_label: str
    scoring_rule: str
    valid_trials: int
    mean_seconds: float | None
    speed_m_per_s: float | None
    band: str | None
    band_label: str | None
    cutoffs: tuple[CutoffResult, ...]
    reference_cohort: str | None
    reference_cohort_label: str | None
    percentile: float | None
    z: float | None
    change: Change | None
    steadi: tuple[SteadiItemResult, ...]
    flags: tuple[str, ...]
    stop_reason: str | None
    #: Cumulative change since the patient's first assessment, against the
    #: same MDC95 (None without a first assessment other than the previous).
    change_from_first: Change | None = None

    def to_dict(self) -> dict:
        """Flat, JSON-ready dict using the CLI's field names."""
        out = {
            "mean_seconds": self.mean_seconds,
            "speed_m_per_s": self.speed_m_per_s,
            "valid_trials": self.valid_trials,
            "scoring_rule": self.scoring_rule,
            "population": self.population,
            "band": self.band,
            "band_label": self.band_label,
            "cutoffs": [asdict(c) for c in self.cutoffs],
            "reference_cohort": self.reference_cohort,
            "reference_cohort_label": self.reference_cohort_label,
            "percentile": self.percentile,
            "z": self.z,
            "steadi": [asdict(s) for s in self.steadi],
            "flags": list(self.flags),
            "stop_reason": self.stop_reason,
        }
        if self.change is not None:
            out.update(
                previous_seconds=self.change.previous_seconds,
                change_seconds=self.change.change_seconds,
                mdc95=self.change.mdc95,
                mdc95_kind=self.change.mdc95_kind,
                change=self.change.change,
                change_note=self.change.note,
            )
        if self.change_from_first is not None:
            out.update(
                first_seconds=self.change_from_first.previous_seconds,
                change_from_first_seconds=self.change_from_first.change_seconds,
                change_from_first=self.change_from_first.change,
            )
        return out


def cutoff_results(pop: Population, seconds: float | None) -> tuple[CutoffResult, ...]:
    """Every published cut-off of the population and whether ``seconds`` meets it."""
    return tuple(
        CutoffResult(
            seconds=c.seconds,
            side="≤" if c.comparison == "le" else "≥",
            purpose=c.purpose,
            met=seconds is not None and c.applies(seconds),
            verified=c.verified,
            sensitivity=c.sensitivity,
            specificity=c.specificity,
            auc=c.auc,
            source=short_source(c.source),
        )
        for c in pop.cutoffs
    )


def speed_mdc_seconds(mdc_speed, previous, current):
    """A speed-based MDC (m/s) as seconds at this patient's own two times.

    Over the 3 m course the speed change is ``3/current − 3/previous =
    3·(previous − current)/(previous·current)``, so ``|Δspeed| ≥ MDC`` exactly
    when ``|Δtime| ≥ MDC · previous · current / 3``.
    """
    return mdc_speed * np.asarray(previous, dtype=float) * np.asarray(current, dtype=float) / COURSE_METRES


def compare(pop: Population, current: float, previous: float) -> Change:
    """Change from ``previous`` to ``current`` judged against the population's MDC95.

    A speed-based MDC (dementia, Chan 2022) is converted to seconds at the
    patient's own previous and current times (:func:`speed_mdc_seconds`).
    """
    delta = round(current - previous, CHANGE_DECIMALS)
    if pop.mdc95_speed is not None:
        mdc = float(speed_mdc_seconds(pop.mdc95_speed, previous, current))
        note = (f"{pop.mdc95_note} Here: {pop.mdc95_speed:g} m/s ≈ {mdc:.2f} s "
                f"(from {float(speed(previous)):.2f} to {float(speed(current)):.2f} m/s).")
        return Change(previous, delta, round(mdc, 3), pop.mdc95_kind, classify_change(delta, mdc), note)
    if pop.mdc95_seconds is None:
        return Change(previous, delta, None, None, None, pop.mdc95_note or "No published MDC95 for this population.")
    return Change(
        previous_seconds=previous,
        change_seconds=delta,
        mdc95=round(pop.mdc95_seconds, 3),
        mdc95_kind=pop.mdc95_kind,
        change=classify_change(delta, pop.mdc95_seconds),
        note=pop.mdc95_note,
    )


def score(assessment: Assessment, previous_seconds: float | None = None,
          first_seconds: float | None = None) -> ScoreResult:
    """Score a validated assessment.

    Parameters
    ----------
    assessment : Assessment
        From :func:`assessment.validate_assessment`.
    previous_seconds : float, optional
        Mean time of the previous assessment; defaults to
        ``assessment.previous_seconds``.
    first_seconds : float, optional
        Mean time of the patient's first assessment: the cumulative change
        since it is judged against the MDC95 too (small changes that each
        stay under the MDC95 can add up to a real one).
    """
    pop = get_population(assessment.population)
    valid = assessment.valid_trials
    previous = previous_seconds if previous_seconds is not None else assessment.previous_seconds
    flags = []
    if any(t.flagged_slow for t in assessment.trials):
        flags.append("A trial took longer than 30 s: check the time was entered correctly.")
    if assessment.assistive_device is not AssistiveDevice.NONE:
        flags.append(
            "Walked with an assistive device: the published cut-offs come from people walking without one "
            "(Carter 2019)."
        )
    if not assessment.practice_walk_done:
        flags.append("No practice walk: a learning effect may make the first timed trial slower (Unver 2020; Özden 2021).")
    if any(t.loss_of_balance for t in assessment.trials):
        flags.append("Loss of balance observed during the test.")
    if len(valid) == 1 and len(assessment.trials) >= 1:
        flags.append("Scored from a single valid timed trial.")
    age_outside = pop.age_outside(assessment.age)
    if age_outside:
        flags.append(pop.age_note(assessment.age))

    mean = percentile = z = spd = None
    band = change = cumulative = None
    cohort = pop.reference_cohort
    if valid:
        mean = round(sum(t.seconds for t in valid) / len(valid), 4)
        spd = round(float(speed(mean)), 4)
        band = pop.band_for(mean)
        if cohort is not None and not age_outside:
            z = round(float(z_score(mean, cohort.mean_seconds, cohort.sd_seconds)), 4)
            percentile = round(float(percentile_from_z(z)), 2)
        if previous is not None:
            change = compare(pop, mean, previous)
        if first_seconds is not None:
            cumulative = compare(pop, mean, first_seconds)
    rule = f"{SCORING_RULE} ({len(valid)} of {len(assessment.trials)} timed trials valid)"
    return ScoreResult(
        population=pop.id,
        population_label=pop.label,
        scoring_rule=rule,
        valid_trials=len(valid),
        mean_seconds=mean,
        speed_m_per_s=spd,
        band=band.name if band else None,
        band_label=band.label if band else ("No published fall cut-off for this population" if not pop.bands else None),
        cutoffs=cutoff_results(pop, mean),
        reference_cohort=cohort.id if cohort else None,
        reference_cohort_label=cohort.label if cohort else None,
        percentile=percentile,
        z=z,
        change=change,
        steadi=score_steadi(assessment.steadi, assessment.age, assessment.sex),
        flags=tuple(flags),
        stop_reason=assessment.stop_reason.value if assessment.stop_reason else None,
        change_from_first=cumulative,
    )
