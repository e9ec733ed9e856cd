"""The 3-meter backward walk test protocol, as data.

Sources: clinical-evidence.md §1 (Carter 2019; Shirley Ryan AbilityLab
instructions; Unver 2020; Özden 2021). Where the literature is silent
(number of practice and timed trials, mean or best), the product's
default is one practice walk and two timed trials scored as the mean of
the valid timed trials, and that rule is shown with every result.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: Length of the walk, metres. source: clinical-evidence.md §1, Carter 2019.
COURSE_METRES = 3.0

#: Plausible range of one timed trial, seconds. Product plausibility limits
#: (issue #2), not clinical norms: a time outside is rejected as a typo.
TRIAL_MIN_SECONDS = 1.0
TRIAL_MAX_SECONDS = 120.0
#: Times above this are accepted but flagged for review (issue #2).
TRIAL_FLAG_SECONDS = 30.0

#: Product default (clinical-evidence.md §1: unverified in Carter 2019).
DEFAULT_PRACTICE_WALKS = 1
DEFAULT_TIMED_TRIALS = 2
#: Upper bound on timed trials in one assessment (product limit).
MAX_TIMED_TRIALS = 10

SCORING_RULE = "mean of the valid timed trials"


class StartConvention(str, enum.Enum):
    """How the stopwatch is started (clinical-evidence.md §1)."""

    STANDING = "standing"
    ROLLING = "rolling"


class TimingSource(str, enum.Enum):
    """Where a trial time came from."""

    STOPWATCH = "stopwatch"  # the built-in stopwatch
    MANUAL = "manual"  # typed in from another stopwatch
    CAMERA = "camera"  # the tablet's camera timing, chosen by the clinician over the stopwatch


def camera_time_can_be_scored(start: StartConvention | str) -> bool:
    """Whether a walk with this start convention may be scored by its camera time: rolling only.

    The standing start's camera time begins at the feet's first movement. Pose
    jitter once set that off early (one e2e run on the synthetic clip measured
    4.68 s for a 3.56 s walk, issue 16); the rule is steadier now (a movement
    confirmed at 15 cm, static/camera/timing.mjs) but has been measured only on a
    synthetic figure, never on a real patient's standing start. Its camera time
    is shown beside the stopwatch, never scored, until a clinic has measured it.
    """
    return StartConvention(start) is StartConvention.ROLLING


class Footwear(str, enum.Enum):
    """What the patient wore on their feet."""

    SHOES = "shoes"
    BAREFOOT = "barefoot"
    OTHER = "other"


class AssistiveDevice(str, enum.Enum):
    """Assistive device used during the walk.

    Carter 2019 tested people walking without a device
    (clinical-evidence.md §1), so a walk with a device is flagged.
    """

    NONE = "none"
    CANE = "cane"
    WALKER = "walker"
    OTHER = "other"


class StopReason(str, enum.Enum):
    """Stop rules: any one ends the test at once."""

    CANNOT_CONTINUE_SAFELY = "cannot_continue_safely"
    NEEDS_HANDS_ON_HELP = "needs_hands_on_help"
    PAIN = "pain"
    DIZZINESS = "dizziness"


STOP_REASON_TEXT: dict[StopReason, str] = {
    StopReason.CANNOT_CONTINUE_SAFELY: "Patient cannot continue safely",
    StopReason.NEEDS_HANDS_ON_HELP: "Patient needs hands-on help",
    StopReason.PAIN: "Patient reports pain",
    StopReason.DIZZINESS: "Patient reports dizziness",
}


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    text: str
    source: str


#: Set-up checklist, confirmed before the first walk.
SETUP_CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        "course_taped",
        "Two tape lines 3 m apart on a smooth, hard floor (not carpet or grass)",
        "clinical-evidence.md §1, Carter 2019",
    ),
    ChecklistItem(
        "path_clear",
        "Path behind the patient clear of obstacles, with room past the finish line",
        "clinical-evidence.md §6, safety practice",
    ),
    ChecklistItem(
        "footwear_recorded",
        "Footwear checked and recorded (shoes or barefoot)",
        "clinical-evidence.md §3, Arora 2024 (times differ with and without shoes)",
    ),
    ChecklistItem(
        "device_recorded",
        "Assistive device recorded (the cut-offs come from people walking without one)",
        "clinical-evidence.md §1, Carter 2019",
    ),
    ChecklistItem(
        "guard_ready",
        "Examiner ready to walk beside/behind the patient for the whole walk, ready to catch",
        "clinical-evidence.md §1, Carter 2019; Shirley Ryan AbilityLab",
    ),
)

#: The verbal script. source: clinical-evidence.md §1 (clinical in-service material).
VERBAL_SCRIPT = (
    "When I say go, walk backwards as quickly as you safely can until I say stop. "
    "I will walk behind you the whole time."
)

#: Pace instruction. source: clinical-evidence.md §1, Carter 2019 (fast pace).
PACE = "as quickly as you safely can (fast pace; the fall cut-offs come from fast-pace testing)"

#: Guarding. source: clinical-evidence.md §1, Carter 2019; Shirley Ryan AbilityLab.
GUARDING = "The examiner walks beside/behind the patient for the whole walk, ready to catch."

#: Timing for each start convention (clinical-evidence.md §1).
START_TIMING: dict[StartConvention, str] = {
    StartConvention.STANDING: (
        "Heels on the start line; start the timer on 'go', stop it when the patient "
        "has crossed the 3 m line (Carter 2019, as described in secondary sources: not verified in the original)."
    ),
    StartConvention.ROLLING: (
        "Patient starts 0.3–0.6 m before the start line; start the timer when they cross "
        "the start line, stop it when they fully cross the finish line "
        "(Shirley Ryan AbilityLab instructions)."
    ),
}

#: What a camera time measures (issue 16: the camera times the walk beside the stopwatch;
#: the rule is static/camera/timing.mjs's, also in README "Camera timing").
CAMERA_CROSSING_RULE = (
    "Camera time (a second timer beside the stopwatch, from a side-on video, in the browser): "
    "a line is crossed when the leading foot point (the ankle, heel or toe landmark furthest "
    "towards the finish) reaches the tape, interpolated between the video frames' timestamps."
)

#: The camera time for each start convention, and how it differs from the stopwatch's.
CAMERA_START_TIMING: dict[StartConvention, str] = {
    StartConvention.STANDING: (
        "Standing start: from the first movement of the feet after 'go' (the leading foot point "
        "leaving 5 cm of where it stood, on its way to 15 cm) to the leading foot reaching the "
        "finish tape (the stopwatch also counts the reaction time after 'go')."
    ),
    StartConvention.ROLLING: (
        "Rolling start: from the leading foot reaching the start tape (up to 1 s before the Start "
        "tap) to it reaching the finish tape (the stopwatch stops when the patient has fully "
        "crossed the finish line)."
    ),
}

#: Why the camera could not time a walk (codes from static/camera/timing.mjs).
CAMERA_NOTES: dict[str, str] = {
    "no-lines": "The start and finish tapes were not marked on the camera image",
    "no-person": "No person was found in the walkway",
    "more-than-one": "More than one person was in the walkway",
    "not-crossed-start": "The start line was not crossed",
    "not-crossed-finish": "The finish line was not crossed",
    "no-movement": "No movement of the feet was seen after Start",
    "moving-at-go": "The feet were already moving at Start",
    "low-fps": "The frame rate was too low to time to 0.1 s",
    "no-camera": "The camera was not running",
    # (set by the app, not the camera page: the clinician chose to go on before the camera's time came)
    "left-early": "The step was left before the camera had finished timing the walk",
}


def camera_rule(start: StartConvention | str) -> str:
    """The camera's crossing rule and its start and stop points for ``start`` (one paragraph)."""
    return f"{CAMERA_CROSSING_RULE} {CAMERA_START_TIMING[StartConvention(start)]}"


@dataclass(frozen=True)
class Protocol:
    """One variant of the 3MBW protocol."""

    start: StartConvention = StartConvention.STANDING
    practice_walks: int = DEFAULT_PRACTICE_WALKS
    timed_trials: int = DEFAULT_TIMED_TRIALS
    course_metres: float = COURSE_METRES
    pace: str = PACE
    guarding: str = GUARDING
    script: str = VERBAL_SCRIPT
    checklist: tuple[ChecklistItem, ...] = SETUP_CHECKLIST
    scoring_rule: str = SCORING_RULE

    @property
    def timing(self) -> str:
        """How to start and stop the stopwatch for this start convention."""
        return START_TIMING[self.start]

    @property
    def camera_timing(self) -> str:
        """What the camera time (beside the stopwatch) measures for this start convention."""
        return camera_rule(self.start)

    def steps(self) -> tuple[str, ...]:
        """The test, step by step, as read by the clinician."""
        return (
            "Confirm the set-up checklist.",
            f'Read the script: "{self.script}"',
            f"{self.practice_walks} practice walk (not timed).",
            f"{self.timed_trials} timed walks, resting between them. {self.timing}",
            "Stop at once if the patient cannot continue safely, needs hands-on help, "
            "or reports pain or dizziness.",
        )
