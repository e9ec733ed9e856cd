"""Validated assessment input: plain, immutable dataclasses.

Build these only through :func:`assessment.gatekeeper.validate_assessment`,
which guarantees every field is in range.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from .protocol import (
    TRIAL_FLAG_SECONDS,
    AssistiveDevice,
    Footwear,
    StartConvention,
    StopReason,
    TimingSource,
)


class Sex(str, enum.Enum):
    FEMALE = "female"
    MALE = "male"


@dataclass(frozen=True)
class Trial:
    """One timed 3MBW walk."""

    seconds: float
    timing_source: TimingSource = TimingSource.STOPWATCH
    start: StartConvention = StartConvention.STANDING
    valid: bool = True
    invalid_reason: str | None = None
    loss_of_balance: bool = False
    hands_on_assistance: bool = False
    steps: int | None = None

    @property
    def flagged_slow(self) -> bool:
        """Accepted, but slower than 30 s: check it was typed right (issue #2)."""
        return self.seconds > TRIAL_FLAG_SECONDS


@dataclass(frozen=True)
class SteadiInputs:
    """Optional CDC STEADI screening items (clinical-evidence.md §5).

    ``stay_independent`` maps each of the 12 item keys to yes/no when the
    whole brochure was answered; ``stay_independent_score`` holds the total
    (0–14), given directly or summed from the items.
    """

    stay_independent: tuple[tuple[str, bool], ...] | None = None
    stay_independent_score: int | None = None
    tug_seconds: float | None = None
    chair_stand_count: int | None = None
    tandem_seconds: float | None = None

    @property
    def empty(self) -> bool:
        return (
            self.stay_independent_score is None
            and self.tug_seconds is None
            and self.chair_stand_count is None
            and self.tandem_seconds is None
        )


@dataclass(frozen=True)
class Assessment:
    """A valid 3MBW assessment, ready to score."""

    population: str
    trials: tuple[Trial, ...]
    age: int | None = None
    sex: Sex | None = None
    assessed_on: date | None = None
    start: StartConvention = StartConvention.STANDING
    footwear: Footwear | None = None
    assistive_device: AssistiveDevice = AssistiveDevice.NONE
    practice_walk_done: bool = True
    stop_reason: StopReason | None = None
    steadi: SteadiInputs = field(default_factory=SteadiInputs)
    previous_seconds: float | None = None

    @property
    def valid_trials(self) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if t.valid)
