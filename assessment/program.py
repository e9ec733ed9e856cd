"""The safe starting backward-walking program (clinical-evidence.md §6).

A scored 3MBW, the model's risk category and a short safety screen are
turned into one of three tiers by the rules in
``assessment/data/program_rules.csv``; each matching rule sets a minimum
tier and the strictest one wins:

- ``supervised``: only with a physical therapist, holding parallel bars or a
  counter (high risk, any red flag, a neurological population, or a test
  that could not be completed safely);
- ``supported``: at home along a kitchen counter, one hand on it, short bouts
  (moderate risk, or risk unknown);
- ``independent``: a flat, open, checked indoor surface, then a treadmill with
  handrails and the safety key at a slow speed if the patient has one.

The week-by-week plans (``program_weeks.csv``), safety and stop rules
(``program_safety.csv``) and tier labels (``program_tiers.csv``) are data,
each row naming its source. Pure: no I/O beyond reading those tables.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .errors import InputError
from .gatekeeper import parse_bool, parse_choice, validate_population
from .protocol import StopReason
from .tables import read_table, yes

#: Keys of the safety screen, in the order they are asked.
SAFETY_SCREEN_KEYS: tuple[str, ...] = (
    "balance_disorder_or_vertigo",
    "neurological_condition",
    "acute_joint_injury_or_pain",
    "fall_with_injury_past_3_months",
    "needed_help_or_lost_balance_in_test",
    "uses_walking_aid",
    "has_treadmill_with_handrails",
)

#: The questions behind the safety-screen keys, as asked of the patient.
SAFETY_SCREEN_QUESTIONS: dict[str, str] = {
    "balance_disorder_or_vertigo": "Balance disorder or vertigo?",
    "neurological_condition": "Neurological condition (Parkinson's, stroke, MS, other)?",
    "acute_joint_injury_or_pain": "Acute joint injury or joint pain?",
    "fall_with_injury_past_3_months": "A fall with injury in the past 3 months?",
    "needed_help_or_lost_balance_in_test": "Needed help or lost balance in the test?",
    "uses_walking_aid": "Uses a walking aid?",
    "has_treadmill_with_handrails": "Has a treadmill with handrails at home?",
}

#: Screen answers that are red flags: any one means supervised only
#: (clinical-evidence.md §6, "who should not start alone").
RED_FLAG_KEYS: tuple[str, ...] = SAFETY_SCREEN_KEYS[:5]

#: Model risk categories accepted (None: no model probability for the population).
RISK_CATEGORIES: tuple[str, ...] = ("low", "moderate", "high")

#: Tier ids, least to most restrictive.
TIERS: tuple[str, ...] = ("independent", "supported", "supervised")


@dataclass(frozen=True)
class Week:
    """One week of the plan.

    ``supervised`` is True when every session of the week is with a
    physical therapist.
    """

    week: int
    minutes_per_session: int
    sessions_per_week: int
    surface: str
    support: str
    progress_rule: str
    supervised: bool = False


@dataclass(frozen=True)
class Rule:
    """A safety or stop rule with its pictogram key and source."""

    icon: str
    text: str
    source: str


@dataclass(frozen=True)
class Program:
    """A safe starting backward-walking program.

    ``reasons`` are the rules that set the tier, each ending with its source
    in brackets. ``supervised`` is True when no session may be done alone.
    """

    tier: str
    tier_label: str
    plain_label: str
    reasons: tuple[str, ...]
    weeks: tuple[Week, ...]
    safety_rules: tuple[Rule, ...]
    stop_rules: tuple[Rule, ...]
    reassess_on: date
    supervised: bool
    treadmill: bool

    @property
    def reason_sources(self) -> tuple[str, ...]:
        """The source part of each reason."""
        return tuple(r.rsplit(" [", 1)[1].rstrip("]") for r in self.reasons)


@dataclass(frozen=True)
class _Tier:
    id: str
    rank: int
    label: str
    plain_label: str
    supervised: bool
    reassess_weeks: int


@functools.cache
def _tiers() -> dict[str, _Tier]:
    return {
        r["tier"]: _Tier(r["tier"], int(r["rank"]), r["label"], r["plain_label"], yes(r["supervised"]), int(r["reassess_weeks"]))
        for r in read_table("program_tiers")
    }


@functools.cache
def band_names() -> tuple[str, ...]:
    """Every cut-off band name used in ``bands.csv`` (low, intermediate, high)."""
    return tuple(dict.fromkeys(r["band"] for r in read_table("bands")))


def validate_safety_screen(raw: Any) -> dict[str, bool]:
    """Validate the safety screen: every key answered yes/no, nothing else.

    Parameters
    ----------
    raw : Mapping
        The seven :data:`SAFETY_SCREEN_KEYS` mapped to booleans (or yes/no,
        true/false, 1/0 strings).

    Returns
    -------
    dict
        Key → bool, in :data:`SAFETY_SCREEN_KEYS` order.

    Raises
    ------
    InputError
        Naming ``safety_screen.<key>`` for a missing, unknown or non-yes/no answer.
    """
    if not isinstance(raw, Mapping):
        raise InputError("safety_screen", f"must be a set of yes/no answers; allowed keys: {', '.join(SAFETY_SCREEN_KEYS)}")
    extra = sorted(str(k) for k in raw if k not in SAFETY_SCREEN_KEYS)
    if extra:
        raise InputError(f"safety_screen.{extra[0]}", f"unknown question; allowed: {', '.join(SAFETY_SCREEN_KEYS)}")
    out = {}
    for key in SAFETY_SCREEN_KEYS:
        if key not in raw or raw[key] is None:
            raise InputError(f"safety_screen.{key}", "must be answered; allowed: yes, no, true, false")
        out[key] = parse_bool(f"safety_screen.{key}", raw[key])
    return out


def _matches(rule: Mapping[str, str], facts: Mapping[str, str]) -> bool:
    return facts.get(rule["key"]) == rule["value"]


def build_program(
    *,
    risk_category: str | None,
    band: str | None,
    population: str,
    safety_screen: Mapping[str, Any] | None,
    stop_reason: str | StopReason | None,
    valid_trials: int,
    loss_of_balance: bool,
    hands_on_assistance: bool,
    assessed_on: date,
) -> Program:
    """Build the safe starting program for one scored assessment.

    Parameters
    ----------
    risk_category : {"low", "moderate", "high"} or None
        From the fall-risk model; None when it has no probability for the
        population, in which case the 3MBW ``band`` is used conservatively.
    band : {"low", "intermediate", "high"} or None
        ``ScoreResult.band``; None when the population has no cut-off or no
        valid trial.
    population : str
        A population id (``assessment.POPULATION_IDS``).
    safety_screen : Mapping or None
        The seven yes/no answers, see :func:`validate_safety_screen`. None
        when the screen was not recorded (e.g. an assessment entered on the
        command line): the program is then supervised until it is done.
    stop_reason : str or StopReason or None
        Why the test was stopped, if it was.
    valid_trials : int
        Number of valid timed trials (0 or more).
    loss_of_balance, hands_on_assistance : bool
        Whether any trial had a loss of balance / needed hands-on help.
    assessed_on : date
        The assessment date; the reassessment date counts from it.

    Returns
    -------
    Program

    Raises
    ------
    InputError
        Naming the argument at fault and the allowed values.
    """
    if risk_category is not None and risk_category not in RISK_CATEGORIES:
        raise InputError("risk_category", f"{str(risk_category)[:40]!r} is not allowed; allowed: {', '.join(RISK_CATEGORIES)} or none")
    if band is not None and band not in band_names():
        raise InputError("band", f"{str(band)[:40]!r} is not allowed; allowed: {', '.join(band_names())} or none")
    population = validate_population(population)
    screened = safety_screen is not None
    screen = validate_safety_screen(safety_screen) if screened else dict.fromkeys(SAFETY_SCREEN_KEYS, False)
    stop = None if stop_reason in (None, "") else parse_choice("stop_reason", stop_reason, StopReason)
    if isinstance(valid_trials, bool) or not isinstance(valid_trials, int) or valid_trials < 0:
        raise InputError("valid_trials", f"{valid_trials!r} is not allowed; allowed: a whole number, 0 or more")
    lob = parse_bool("loss_of_balance", loss_of_balance)
    hands = parse_bool("hands_on_assistance", hands_on_assistance)
    if not isinstance(assessed_on, date):
        raise InputError("assessed_on", f"{assessed_on!r} is not a date; allowed: a date")

    facts: dict[str, str] = {"population": population}
    if risk_category is not None:
        facts["risk_category"] = risk_category
    else:
        facts["band"] = band or "none"
    facts.update({k: "yes" for k, v in screen.items() if v})
    if not screened:
        facts["safety_screen_missing"] = "yes"
    if stop is not None:
        facts["stop_reason"] = "yes"
    if valid_trials == 0:
        facts["no_valid_trial"] = "yes"
    if lob:
        facts["loss_of_balance"] = "yes"
    if hands:
        facts["hands_on_assistance"] = "yes"

    tiers = _tiers()
    matched = [r for r in read_table("program_rules") if _matches(r, facts)]
    # Every input matches exactly one risk or band row, so ``matched`` is never empty.
    tier = max((tiers[r["min_tier"]] for r in matched), key=lambda t: t.rank)
    reasons = tuple(f"{r['reason']} [{r['source']}]" for r in matched if tiers[r["min_tier"]].rank == tier.rank)
    treadmill = tier.id == "independent" and screen["has_treadmill_with_handrails"]
    return Program(
        tier=tier.id,
        tier_label=tier.label,
        plain_label=tier.plain_label,
        reasons=reasons,
        weeks=_weeks(tier.id, treadmill),
        safety_rules=_rules("safety", tier.id, treadmill),
        stop_rules=_rules("stop", tier.id, treadmill),
        reassess_on=assessed_on + timedelta(weeks=tier.reassess_weeks),
        supervised=tier.supervised,
        treadmill=treadmill,
    )


def _weeks(tier: str, treadmill: bool) -> tuple[Week, ...]:
    wanted = {"any", "yes" if treadmill else "no"}
    rows = [r for r in read_table("program_weeks") if r["tier"] == tier and r["treadmill"] in wanted]
    weeks = tuple(
        Week(
            week=int(r["week"]),
            minutes_per_session=int(r["minutes_per_session"]),
            sessions_per_week=int(r["sessions_per_week"]),
            surface=r["surface"],
            support=r["support"],
            progress_rule=r["progress_rule"],
            supervised=yes(r["supervised"]),
        )
        for r in rows
    )
    return tuple(sorted(weeks, key=lambda w: w.week))


def _rules(kind: str, tier: str, treadmill: bool) -> tuple[Rule, ...]:
    return tuple(
        Rule(r["icon"], r["text"], r["source"])
        for r in read_table("program_safety")
        if r["kind"] == kind
        and r["tier"] in ("all", tier)
        and (r["treadmill"] == "any" or (r["treadmill"] == "yes" and treadmill))
    )


def program_for(record: Any) -> Program:
    """The program of a scored, stored assessment.

    ``record`` is anything with the stored assessment's attributes
    (``risk_category``, ``score`` (``ScoreResult.to_dict()``), ``population``,
    ``safety_screen``, ``stop_reason``, ``trials`` with ``loss_of_balance`` and
    ``hands_on_assistance``, ``assessed_on``): the database row when it is
    finalised, the view when a report or page shows it. One mapping for both.
    """
    score = record.score or {}
    return build_program(
        risk_category=record.risk_category,
        band=score.get("band"),
        population=record.population,
        safety_screen=record.safety_screen,
        stop_reason=record.stop_reason,
        valid_trials=int(score.get("valid_trials") or 0),
        loss_of_balance=any(t.loss_of_balance for t in record.trials),
        hands_on_assistance=any(t.hands_on_assistance for t in record.trials),
        assessed_on=record.assessed_on,
    )
