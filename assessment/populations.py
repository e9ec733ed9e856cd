"""Populations, their published cut-offs, reference cohorts and MDC95.

All numbers live in ``assessment/data/*.csv`` with a ``source`` column that
names the row of ``shared/clinical-evidence.md`` they come from. This module
only turns those rows into typed, immutable objects.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from .tables import opt_float, read_table, yes

#: Identifiers of the supported populations, in display order.
POPULATION_IDS: tuple[str, ...] = (
    "community",
    "nursing_home",
    "parkinsons",
    "multiple_sclerosis",
    "stroke",
    "knee_arthroplasty",
    "hip_arthroplasty",
    "amputation",
    "dementia",
)

#: The population used when none is given.
DEFAULT_POPULATION = "community"

#: z for a two-sided 95 % interval, used in MDC95 = 1.96 × √2 × SEM
#: (clinical-evidence.md §4).
Z_95 = 1.96


@dataclass(frozen=True)
class Cutoff:
    """One published 3MBW cut-off (seconds)."""

    seconds: float
    comparison: str  # "le" (at or below) or "ge" (at or above)
    purpose: str
    defines_band: bool
    sensitivity: float | None
    specificity: float | None
    auc: float | None
    verified: bool
    source: str
    #: The least restrictive program tier a patient meeting this cut-off may
    #: get: ``supervised`` (a faller or high-risk cut-off), ``supported`` (a
    #: screening cut-off that cannot rule falls out) or ``none`` (not about
    #: falls, or the low-risk side). Read by :func:`assessment.program.decide`.
    program_signal: str = "none"

    def applies(self, seconds: float) -> bool:
        """True when ``seconds`` is on the cut-off's named side."""
        if self.comparison == "le":
            return seconds <= self.seconds
        return seconds >= self.seconds

    def describe(self) -> str:
        """Short text such as ``≥ 5.5 s: faller cut-off ... (Polo-Ferrero 2025)``."""
        sign = "≤" if self.comparison == "le" else "≥"
        text = f"{sign} {self.seconds:g} s: {self.purpose}"
        if not self.verified:
            text += " [unverified]"
        elif from_abstract(self.source):
            text += " [read from the abstract only]"
        return f"{text} ({short_source(self.source)})"


@dataclass(frozen=True)
class Band:
    """A cut-off band: an interval of times with a risk label."""

    name: str
    label: str
    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool
    source: str

    def contains(self, seconds: float) -> bool:
        """True when ``seconds`` lies in this band."""
        if self.lower is not None:
            if seconds < self.lower or (seconds == self.lower and not self.lower_inclusive):
                return False
        if self.upper is not None:
            if seconds > self.upper or (seconds == self.upper and not self.upper_inclusive):
                return False
        return True


@dataclass(frozen=True)
class ReferenceCohort:
    """A published cohort of 3MBW times, summarised by mean and SD (seconds).

    Percentiles are computed from a log-normal distribution with the same
    mean and SD (see :func:`assessment.scoring.lognormal_params`).
    """

    id: str
    label: str
    population: str
    setting: str
    n: int
    age: str
    protocol: str
    mean_seconds: float
    sd_seconds: float
    verified: bool
    source: str


@dataclass(frozen=True)
class Population:
    """A clinical population with everything published about its 3MBW."""

    id: str
    label: str
    description: str
    cutoffs: tuple[Cutoff, ...]
    bands: tuple[Band, ...]
    reference_cohort: ReferenceCohort | None
    mdc95_seconds: float | None
    mdc95_kind: str | None  # "published", "derived", "speed-based" or None
    mdc95_source: str | None
    mdc95_note: str | None
    pretest_fall_rate: float | None
    pretest_source: str | None
    mdc95_speed: float | None = None  # m/s, when the published MDC is speed-based
    age_min: int | None = None  # ages the population's evidence covers (None: no limit stated)
    age_max: int | None = None
    age_basis: str | None = None

    def age_outside(self, age: int | None) -> bool:
        """True when a known ``age`` is outside the ages the population's evidence covers."""
        if age is None:
            return False
        return (self.age_min is not None and age < self.age_min) or (self.age_max is not None and age > self.age_max)

    def age_note(self, age: int) -> str:
        """One line saying why no percentile and no probability are given at this age."""
        span = f"{self.age_min} and over" if self.age_max is None else f"{self.age_min} to {self.age_max}"
        return (f"Age {age} is outside the {self.label.lower()} evidence (ages {span}): no percentile and no fall "
                "probability; judge fall risk clinically.")

    def band_for(self, seconds: float) -> Band | None:
        """The band containing ``seconds``, or None when no cut-off is published."""
        for band in self.bands:
            if band.contains(seconds):
                return band
        return None


def from_abstract(source: str | None) -> bool:
    """True when the source cell says its numbers were read from an abstract only."""
    return "(abstract)" in (source or "")


def short_source(source: str) -> str:
    """The author-year part of a source cell (drops the 'clinical-evidence.md §n,' prefix)."""
    text = source.split(",", 1)[1].strip() if source.startswith("clinical-evidence.md") else source
    return text


def mdc95_from_sd_icc(sd: float, icc: float) -> float:
    """MDC95 = 1.96 × √2 × SEM with SEM = SD × √(1 − ICC) (clinical-evidence.md §4)."""
    return mdc95_from_sem(sd * math.sqrt(1.0 - icc))


def mdc95_from_sem(sem: float) -> float:
    """MDC95 = 1.96 × √2 × SEM (clinical-evidence.md §4)."""
    return Z_95 * math.sqrt(2.0) * sem


@functools.cache
def reference_cohorts() -> dict[str, ReferenceCohort]:
    """Every published reference cohort, by id."""
    out = {}
    for row in read_table("reference_cohorts"):
        out[row["id"]] = ReferenceCohort(
            id=row["id"],
            label=row["label"],
            population=row["population"],
            setting=row["setting"],
            n=int(row["n"]),
            age=row["age"],
            protocol=row["protocol"],
            mean_seconds=float(row["mean_seconds"]),
            sd_seconds=float(row["sd_seconds"]),
            verified=yes(row["verified"]),
            source=row["source"],
        )
    return out


@functools.cache
def populations() -> dict[str, Population]:
    """Every supported population, by id, in :data:`POPULATION_IDS` order."""
    cutoffs: dict[str, list[Cutoff]] = {pid: [] for pid in POPULATION_IDS}
    for row in read_table("cutoffs"):
        cutoffs[row["population"]].append(
            Cutoff(
                seconds=float(row["seconds"]),
                comparison=row["comparison"],
                purpose=row["purpose"],
                defines_band=yes(row["bands"]),
                sensitivity=opt_float(row["sensitivity"]),
                specificity=opt_float(row["specificity"]),
                auc=opt_float(row["auc"]),
                verified=yes(row["verified"]),
                source=row["source"],
                program_signal=row["program_signal"],
            )
        )
    bands: dict[str, list[Band]] = {pid: [] for pid in POPULATION_IDS}
    for row in read_table("bands"):
        bands[row["population"]].append(
            Band(
                name=row["band"],
                label=row["label"],
                lower=opt_float(row["lower_seconds"]),
                lower_inclusive=yes(row["lower_inclusive"]),
                upper=opt_float(row["upper_seconds"]),
                upper_inclusive=yes(row["upper_inclusive"]),
                source=row["source"],
            )
        )
    cohorts = reference_cohorts()
    rows = {row["id"]: row for row in read_table("populations")}
    out = {}
    for pid in POPULATION_IDS:
        row = rows[pid]
        kind = row["mdc95_kind"] or None
        mdc = opt_float(row["mdc95_seconds"])
        if kind == "derived" and row["mdc95_sem_seconds"]:
            mdc = mdc95_from_sem(float(row["mdc95_sem_seconds"]))
        elif kind == "derived":
            mdc = mdc95_from_sd_icc(float(row["mdc95_sd_seconds"]), float(row["mdc95_icc"]))
        out[pid] = Population(
            id=pid,
            label=row["label"],
            description=row["description"],
            cutoffs=tuple(sorted(cutoffs[pid], key=lambda c: c.seconds)),
            bands=tuple(bands[pid]),
            reference_cohort=cohorts[row["reference_cohort"]] if row["reference_cohort"] else None,
            mdc95_seconds=mdc,
            mdc95_kind=kind,
            mdc95_source=row["mdc95_source"] or None,
            mdc95_note=row["mdc95_note"] or None,
            pretest_fall_rate=opt_float(row["pretest_fall_rate"]),
            pretest_source=row["pretest_source"] or None,
            mdc95_speed=opt_float(row["mdc95_speed_m_per_s"]),
            age_min=int(row["age_min"]) if row["age_min"] else None,
            age_max=int(row["age_max"]) if row["age_max"] else None,
            age_basis=row["age_source"] or None,
        )
    return out


def get_population(population_id: str) -> Population:
    """The population with this id; ``KeyError`` if unknown (the gatekeeper checks first)."""
    return populations()[population_id]
