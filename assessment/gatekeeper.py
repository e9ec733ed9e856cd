"""The one gatekeeper: raw input → a valid :class:`Assessment`, or one :class:`InputError`.

Every caller (CLI, app, CSV batch, records import) goes through
:func:`validate_assessment`. Raw values may be strings (from a command line
or a CSV cell), numbers, booleans or ``None``; an empty string means "not
recorded". The first problem found raises an :class:`InputError` naming the
field and what is allowed.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from numpy import bool_ as np_bool, floating as np_floating, integer as np_integer

from .errors import InputError
from .inputs import Assessment, Sex, SteadiInputs, Trial
from .populations import DEFAULT_POPULATION, POPULATION_IDS
from .protocol import (
    MAX_TIMED_TRIALS,
    TRIAL_MAX_SECONDS,
    TRIAL_MIN_SECONDS,
    AssistiveDevice,
    Footwear,
    StartConvention,
    StopReason,
    TimingSource,
    camera_time_can_be_scored,
)
from .steadi import stay_independent_items, stay_independent_max, stay_independent_score

#: Plausible age, whole years (product limit, issue #2; not a clinical norm).
AGE_MIN, AGE_MAX = 18, 120
#: Plausible STEADI values (product limits, not clinical norms).
TUG_MIN_SECONDS, TUG_MAX_SECONDS = 1.0, 300.0
CHAIR_STAND_MAX = 60
TANDEM_MAX_SECONDS = 60.0
STEPS_MAX = 200
#: Earliest assessment date accepted.
EARLIEST_DATE = date(1990, 1, 1)

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_KNOWN_TOP = {
    "population", "age", "sex", "trials", "assessed_on", "start", "footwear",
    "assistive_device", "practice_walk_done", "stop_reason", "steadi", "previous_seconds",
}
_KNOWN_TRIAL = {
    "seconds", "timing_source", "start", "valid", "invalid_reason",
    "loss_of_balance", "hands_on_assistance", "steps",
}


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str) and value.strip() == "":
        return True
    return isinstance(value, float) and math.isnan(value)


def brief(value: Any) -> str:
    """At most 40 characters of ``value`` for an error message; never raises.

    ``str``/``repr`` can fail on raw input (an int of more than 4,300 digits
    raises ``ValueError``), and the gatekeeper must raise only InputError.
    """
    try:
        return (value if isinstance(value, str) else repr(value))[:40]
    except Exception:  # noqa: BLE001 - any failure to render falls back to the type name
        return f"<{type(value).__name__}>"


#: A decimal number written with ASCII digits only (Python's float() also takes
#: "1_0", other scripts' digits, "inf" and "nan").
_ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def parse_number(field: str, value: Any, lo: float, hi: float, unit: str) -> float:
    allowed = f"a number from {lo:g} to {hi:g} {unit}".rstrip()
    if isinstance(value, bool):
        raise InputError(field, f"{value!r} is not a number; allowed: {allowed}")
    if isinstance(value, str):
        if not _ASCII_NUMBER.fullmatch(value.strip()):  # only ASCII digits: not "1_0", "²", "٣" or "nan"
            raise InputError(field, f"{value.strip()[:40]!r} is not a number; allowed: {allowed}")
        number = float(value.strip())
    elif isinstance(value, numbers.Real):  # int, float, and NumPy/pandas scalars such as int64
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            raise InputError(field, f"too large; allowed: {allowed}") from None
    else:
        raise InputError(field, f"{type(value).__name__} is not a number; allowed: {allowed}")
    if not math.isfinite(number) or not lo <= number <= hi:
        shown = f"{number:g}" if math.isfinite(number) else str(number)
        raise InputError(field, f"{shown} is outside the plausible range; allowed: {allowed}")
    return number


def parse_whole(field: str, value: Any, lo: int, hi: int, unit: str) -> int:
    number = parse_number(field, value, lo, hi, unit)
    if number != int(number):
        raise InputError(field, f"{number:g} is not a whole number; allowed: a whole number from {lo} to {hi} {unit}".rstrip())
    return int(number)


def parse_choice(field: str, value: Any, enum_type):
    allowed = ", ".join(m.value for m in enum_type)
    if isinstance(value, enum_type):
        return value
    text = str(value).strip().lower() if isinstance(value, str) else None
    for member in enum_type:
        if text == member.value:
            return member
    shown = value.strip()[:40] if isinstance(value, str) else brief(value)
    raise InputError(field, f"{shown!r} is not allowed; allowed: {allowed}")


def parse_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise InputError(field, f"{brief(value)!r} is not yes/no; allowed: yes, no, true, false")


def parse_text(field: str, value: Any, max_len: int = 500) -> str:
    if not isinstance(value, str):
        raise InputError(field, f"must be text of 1 to {max_len} characters")
    text = value.strip()
    if not 1 <= len(text) <= max_len:
        raise InputError(field, f"must be text of 1 to {max_len} characters")
    return text


def parse_iso_date(field: str, value: Any, allowed: str) -> date:
    """A date, a datetime (its date) or a ``YYYY-MM-DD`` string, as a date; no range check."""
    if isinstance(value, datetime):  # a datetime is a date subclass that cannot be compared with one
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(field, f"{value.strip()[:40]!r} is not a date; allowed: {allowed}") from None
    raise InputError(field, f"{brief(value)!r} is not a date; allowed: {allowed}")


def parse_date(field: str, value: Any, today: date) -> date:
    """An assessment-type date: from :data:`EARLIEST_DATE` to ``today``."""
    allowed = f"a date YYYY-MM-DD from {EARLIEST_DATE.isoformat()} to today ({today.isoformat()})"
    parsed = parse_iso_date(field, value, allowed)
    if not EARLIEST_DATE <= parsed <= today:
        raise InputError(field, f"{parsed.isoformat()} is out of range; allowed: {allowed}")
    return parsed


def _unknown_keys(field_prefix: str, raw: Mapping, known: set[str]) -> None:
    extra = sorted(brief(k) for k in raw if k not in known)
    if extra:
        # A blank key cannot name a field: name its container (assessment, trial_N, steadi).
        name = f"{field_prefix}{extra[0]}" if extra[0].strip() else (field_prefix.rstrip(".") or "assessment")
        raise InputError(name, f"unknown field {extra[0]!r}; allowed: {', '.join(sorted(known))}")


def validate_trial(raw: Any, number: int, default_start: StartConvention) -> Trial:
    """Validate one trial; ``number`` is 1-based and names the field (``trial_2``)."""
    name = f"trial_{number}"
    trial_range = f"{TRIAL_MIN_SECONDS:g}–{TRIAL_MAX_SECONDS:g} s"
    if not isinstance(raw, Mapping):
        raw = {"seconds": raw}
    _unknown_keys(f"{name}.", raw, _KNOWN_TRIAL)
    if is_blank(raw.get("seconds")):
        raise InputError(name, f"a time is required; allowed: a number of seconds, {trial_range}")
    seconds = parse_number(name, raw["seconds"], TRIAL_MIN_SECONDS, TRIAL_MAX_SECONDS, "seconds")
    get = raw.get
    source = TimingSource.STOPWATCH if is_blank(get("timing_source")) else parse_choice(f"{name}.timing_source", get("timing_source"), TimingSource)
    start = default_start if is_blank(get("start")) else parse_choice(f"{name}.start", get("start"), StartConvention)
    valid = True if is_blank(get("valid")) else parse_bool(f"{name}.valid", get("valid"))
    reason = None if is_blank(get("invalid_reason")) else parse_text(f"{name}.invalid_reason", get("invalid_reason"))
    lob = False if is_blank(get("loss_of_balance")) else parse_bool(f"{name}.loss_of_balance", get("loss_of_balance"))
    hands = False if is_blank(get("hands_on_assistance")) else parse_bool(f"{name}.hands_on_assistance", get("hands_on_assistance"))
    steps = None if is_blank(get("steps")) else parse_whole(f"{name}.steps", get("steps"), 0, STEPS_MAX, "steps")
    if source is TimingSource.CAMERA and not camera_time_can_be_scored(start):
        raise InputError(f"{name}.timing_source", "a standing-start walk's camera time is not yet reliable "
                                                  "(it is shown, never scored); allowed: stopwatch, manual")
    if not valid and reason is None:
        raise InputError(f"{name}.invalid_reason", "an invalid trial needs a reason (1 to 500 characters)")
    if valid and hands:
        raise InputError(
            f"{name}.valid",
            "a walk that needed hands-on assistance cannot count as a valid timed trial; "
            "allowed: mark it invalid with a reason (and apply the stop rule)",
        )
    return Trial(seconds, source, start, valid, reason, lob, hands, steps)


def validate_steadi(raw: Any, field: str = "steadi") -> SteadiInputs:
    """Validate the optional STEADI items."""
    if is_blank(raw):
        return SteadiInputs()
    if not isinstance(raw, Mapping):
        raise InputError(field, "must be a set of STEADI items")
    known = {"stay_independent", "stay_independent_score", "tug_seconds", "chair_stand_count", "tandem_seconds"}
    _unknown_keys(f"{field}.", raw, known)
    answers = None
    total = None
    si = raw.get("stay_independent")
    if not is_blank(si):
        items = stay_independent_items()
        keys = [item.key for item in items]
        if isinstance(si, Mapping):
            missing = [k for k in keys if k not in si]
            if missing:
                raise InputError(f"{field}.stay_independent.{missing[0]}", "every one of the 12 items must be answered yes or no")
            extra = sorted(brief(k) for k in si if k not in keys)
            if extra:
                raise InputError(f"{field}.stay_independent.{extra[0]}", f"unknown item; allowed: {', '.join(keys)}")
            values = [parse_bool(f"{field}.stay_independent.{k}", si[k]) for k in keys]
        elif isinstance(si, (list, tuple)):
            if len(si) != len(keys):
                raise InputError(f"{field}.stay_independent", f"{len(si)} answers given; allowed: exactly {len(keys)} yes/no answers")
            values = [parse_bool(f"{field}.stay_independent.{k}", v) for k, v in zip(keys, si)]
        else:
            raise InputError(f"{field}.stay_independent", f"allowed: {len(keys)} yes/no answers")
        answers = tuple(zip(keys, values))
        total = stay_independent_score(dict(answers))
    score_raw = raw.get("stay_independent_score")
    if not is_blank(score_raw):
        given = parse_whole(f"{field}.stay_independent_score", score_raw, 0, stay_independent_max(), "points")
        if total is not None and given != total:
            raise InputError(f"{field}.stay_independent_score", f"{given} does not match the answers, which total {total}")
        total = given
    tug = None if is_blank(raw.get("tug_seconds")) else parse_number(f"{field}.tug_seconds", raw["tug_seconds"], TUG_MIN_SECONDS, TUG_MAX_SECONDS, "seconds")
    chair = None if is_blank(raw.get("chair_stand_count")) else parse_whole(f"{field}.chair_stand_count", raw["chair_stand_count"], 0, CHAIR_STAND_MAX, "stands")
    tandem = None if is_blank(raw.get("tandem_seconds")) else parse_number(f"{field}.tandem_seconds", raw["tandem_seconds"], 0.0, TANDEM_MAX_SECONDS, "seconds")
    return SteadiInputs(answers, total, tug, chair, tandem)


def validate_age(value: Any, field: str = "age") -> int | None:
    """Age in whole years, or None when not recorded."""
    return None if is_blank(value) else parse_whole(field, value, AGE_MIN, AGE_MAX, "years")


def validate_sex(value: Any, field: str = "sex") -> Sex | None:
    """female / male, or None when not recorded ('' or 'unknown')."""
    if is_blank(value) or (isinstance(value, str) and value.strip().lower() == "unknown"):
        return None
    return parse_choice(field, value, Sex)


#: Allowed values of ``prior_falls`` (falls in the past 12 months).
PRIOR_FALLS_ALLOWED = "0, 1, 2+ (falls in the past 12 months; 2 or more count as 2+), blank = unknown"


def validate_prior_falls(value: Any, field: str = "prior_falls") -> int | None:
    """Falls in the past 12 months: 0, 1 or 2 (two or more); None when not recorded."""
    if is_blank(value):
        return None
    if isinstance(value, str) and value.strip() == "2+":
        return 2
    number: int | None = None
    if isinstance(value, (int, np_integer)) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, (float, np_floating)) and float(value).is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip(), re.ASCII):
        digits = value.strip().lstrip("0") or "0"
        number = int(digits) if len(digits) <= 6 else 2  # "two or more", without parsing 4,300 digits
    if number is None or number < 0:
        raise InputError(field, f"{brief(value)!r} is not allowed; allowed: {PRIOR_FALLS_ALLOWED}")
    return min(number, 2)


def validate_walking_aid(value: Any, field: str = "walking_aid") -> bool | None:
    """Uses a walking aid in daily life: yes / no; None when not recorded.

    A yes/no CSV column with blanks arrives as 0.0 / 1.0, which is accepted.
    """
    if is_blank(value):
        return None
    if isinstance(value, np_bool):
        return bool(value)
    if isinstance(value, (float, np_floating, np_integer)) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return parse_bool(field, value)


def validate_population(value: Any, field: str = "population") -> str:
    """A population id (default: community)."""
    if is_blank(value):
        return DEFAULT_POPULATION
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in POPULATION_IDS:
        shown = value.strip()[:40] if isinstance(value, str) else brief(value)
        raise InputError(field, f"{shown!r} is not allowed; allowed: {', '.join(POPULATION_IDS)}")
    return text


def validate_assessment(raw: Mapping[str, Any], *, today: date | None = None) -> Assessment:
    """Turn raw input into a valid :class:`Assessment` or raise :class:`InputError`.

    Parameters
    ----------
    raw : Mapping
        Keys: ``population`` (default community), ``age``, ``sex``,
        ``trials`` (list of seconds or of trial mappings), ``assessed_on``,
        ``start`` (standing | rolling), ``footwear``, ``assistive_device``,
        ``practice_walk_done``, ``stop_reason``, ``steadi``,
        ``previous_seconds``. Unknown keys are rejected.
    today : date, optional
        The date against which future assessment dates are rejected.

    Raises
    ------
    InputError
        Naming the first field at fault and the allowed values.
    """
    if not isinstance(raw, Mapping):
        raise InputError("assessment", "must be a set of named fields")
    _unknown_keys("", raw, _KNOWN_TOP)
    today = today or date.today()
    population = validate_population(raw.get("population"))
    age = validate_age(raw.get("age"))
    sex = validate_sex(raw.get("sex"))
    if not is_blank(raw.get("start")):
        start = parse_choice("start", raw["start"], StartConvention)
    else:  # not given: the first trial's own convention, else standing
        first = raw.get("trials")[0] if isinstance(raw.get("trials"), (list, tuple)) and raw.get("trials") else None
        given = first.get("start") if isinstance(first, Mapping) else None
        start = StartConvention.STANDING if is_blank(given) else parse_choice("trial_1.start", given, StartConvention)
    stop = None if is_blank(raw.get("stop_reason")) else parse_choice("stop_reason", raw["stop_reason"], StopReason)
    raw_trials = raw.get("trials")
    if is_blank(raw_trials):
        raw_trials = []
    if isinstance(raw_trials, (str, bytes)) or not isinstance(raw_trials, (list, tuple)):
        raise InputError("trials", f"must be a list of 1 to {MAX_TIMED_TRIALS} timed trials")
    if len(raw_trials) > MAX_TIMED_TRIALS:
        raise InputError("trials", f"{len(raw_trials)} trials given; allowed: 1 to {MAX_TIMED_TRIALS}")
    trials = tuple(validate_trial(t, i, start) for i, t in enumerate(raw_trials, start=1))
    if not trials and stop is None:
        raise InputError("trial_1", f"at least one timed trial is required ({TRIAL_MIN_SECONDS:g}–{TRIAL_MAX_SECONDS:g} s), unless the test was stopped with a stop_reason")
    for i, t in enumerate(trials, start=1):
        if t.start is not start:
            raise InputError(
                f"trial_{i}.start",
                f"{t.start.value!r} differs from the assessment's start convention {start.value!r}; "
                "allowed: one start convention for all trials of an assessment",
            )
    footwear = None if is_blank(raw.get("footwear")) else parse_choice("footwear", raw["footwear"], Footwear)
    device = AssistiveDevice.NONE if is_blank(raw.get("assistive_device")) else parse_choice("assistive_device", raw["assistive_device"], AssistiveDevice)
    practice = True if is_blank(raw.get("practice_walk_done")) else parse_bool("practice_walk_done", raw["practice_walk_done"])
    assessed_on = None if is_blank(raw.get("assessed_on")) else parse_date("assessed_on", raw["assessed_on"], today)
    steadi = validate_steadi(raw.get("steadi"))
    previous = None
    if not is_blank(raw.get("previous_seconds")):
        previous = parse_number("previous_seconds", raw["previous_seconds"], TRIAL_MIN_SECONDS, TRIAL_MAX_SECONDS, "seconds")
    return Assessment(
        population=population,
        trials=trials,
        age=age,
        sex=sex,
        assessed_on=assessed_on,
        start=start,
        footwear=footwear,
        assistive_device=device,
        practice_walk_done=practice,
        stop_reason=stop,
        steadi=steadi,
        previous_seconds=previous,
    )
