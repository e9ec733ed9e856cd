"""CDC STEADI screening items, scored (clinical-evidence.md §5)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .inputs import Sex, SteadiInputs
from .tables import read_table

#: Stay Independent total at or above which a person "may be at risk".
#: source: clinical-evidence.md §5, CDC STEADI; Rubenstein et al. 2011.
STAY_INDEPENDENT_AT_RISK = 4
#: Timed Up and Go, seconds, at or above which a person is at risk.
#: source: clinical-evidence.md §5, CDC STEADI.
TUG_AT_RISK_SECONDS = 12.0
#: 4-stage balance: unable to hold tandem stance this long = increased risk.
#: source: clinical-evidence.md §5, CDC STEADI.
TANDEM_HOLD_SECONDS = 10.0


@dataclass(frozen=True)
class StayIndependentItem:
    key: str
    points: int
    text: str
    source: str


@functools.cache
def stay_independent_items() -> tuple[StayIndependentItem, ...]:
    """The 12 Stay Independent items in brochure order, with their points."""
    return tuple(
        StayIndependentItem(r["key"], int(r["points"]), r["text"], r["source"])
        for r in read_table("steadi_stay_independent")
    )


def stay_independent_max() -> int:
    """Highest possible Stay Independent total (14)."""
    return sum(item.points for item in stay_independent_items())


def stay_independent_score(answers: dict[str, bool]) -> int:
    """Total points for a complete set of yes/no answers."""
    return sum(item.points for item in stay_independent_items() if answers[item.key])


def chair_stand_threshold(age: int, sex: Sex) -> int | None:
    """Count below which a 30-s chair stand is "below average" (at risk).

    None when the STEADI table has no row for this age (it covers 60–94).
    source: clinical-evidence.md §5, CDC STEADI form; Rikli & Jones norms.
    """
    for row in read_table("steadi_chair_stand"):
        if int(row["age_min"]) <= age <= int(row["age_max"]):
            return int(row["male_below"] if sex is Sex.MALE else row["female_below"])
    return None


@dataclass(frozen=True)
class SteadiItemResult:
    """One scored STEADI item."""

    item: str
    value: float | int
    at_risk: bool | None  # None: cannot be judged (e.g. no norm for this age)
    rule: str


def score_steadi(steadi: SteadiInputs, age: int | None, sex: Sex | None) -> tuple[SteadiItemResult, ...]:
    """Score every STEADI item that was recorded."""
    out = []
    if steadi.stay_independent_score is not None:
        out.append(
            SteadiItemResult(
                "stay_independent",
                steadi.stay_independent_score,
                steadi.stay_independent_score >= STAY_INDEPENDENT_AT_RISK,
                f"≥ {STAY_INDEPENDENT_AT_RISK} of {stay_independent_max()} points = may be at risk (CDC STEADI)",
            )
        )
    if steadi.tug_seconds is not None:
        out.append(
            SteadiItemResult(
                "tug_seconds",
                steadi.tug_seconds,
                steadi.tug_seconds >= TUG_AT_RISK_SECONDS,
                f"≥ {TUG_AT_RISK_SECONDS:g} s = at risk (CDC STEADI)",
            )
        )
    if steadi.chair_stand_count is not None:
        threshold = chair_stand_threshold(age, sex) if age is not None and sex is not None else None
        if threshold is None:
            why = "age and sex needed" if age is None or sex is None else f"no STEADI norm for age {age}"
            out.append(
                SteadiItemResult("chair_stand_count", steadi.chair_stand_count, None, f"not judged: {why} (table covers 60–94)")
            )
        else:
            out.append(
                SteadiItemResult(
                    "chair_stand_count",
                    steadi.chair_stand_count,
                    steadi.chair_stand_count < threshold,
                    f"< {threshold} stands for a {sex.value} aged {age} = below average, at risk (CDC STEADI; Rikli & Jones)",
                )
            )
    if steadi.tandem_seconds is not None:
        out.append(
            SteadiItemResult(
                "tandem_seconds",
                steadi.tandem_seconds,
                steadi.tandem_seconds < TANDEM_HOLD_SECONDS,
                f"tandem stance held < {TANDEM_HOLD_SECONDS:g} s = increased risk (CDC STEADI)",
            )
        )
    return tuple(out)
