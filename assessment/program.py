"""The safe starting backward-walking program: one safety decision (clinical-evidence.md §6).

:func:`decide` is the one place that turns every signal StepBack holds about a
patient into a program tier, with the reasons, and into the risk level the
patient is told about. The rules are the rows of
``assessment/data/program_rules.csv``; each signal that is present matches a
row, each row sets a minimum tier, and the strictest one wins:

- ``supervised``: only with a physical therapist, holding parallel bars or a
  counter (high band or a faller cut-off met, model category high, two or more
  falls, a walking aid or a device used on the test, a red flag, a
  neurological population, a test that could not be completed safely, an
  unscreened or partly screened patient);
- ``supported``: at home along a kitchen counter, one hand on it, with another
  adult present (never alone);
- ``independent``: only when every signal is clear: short bouts on a flat,
  checked indoor floor, no treadmill or incline in the first six weeks.

Signals: the 3MBW band and every published cut-off of the population (their
``program_signal`` column), the model's category, falls in the past year,
walking aid (daily life and on the test), the safety screen, what happened on
the walks, STEADI items, the population of the assessment and of the patient.
``records`` applies the decision on every write that can change an input, so a
stored program is never less restrictive than the rule applied to the stored
facts. The patient-facing message comes from the same decision
(:attr:`Decision.risk_level`), so band, category and program never contradict.

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


#: What the decision tells the patient about the chance of falling, least to
#: most concerning; ``unknown`` when no signal says anything about it.
RISK_LEVELS: tuple[str, ...] = ("unknown", "low", "moderate", "high")

#: Values of ``prior_falls``: 0, 1, 2 (two or more) or None (not recorded).
PRIOR_FALLS_VALUES: tuple[int | None, ...] = (0, 1, 2, None)

#: STEADI items that feed the decision (``ScoreResult.steadi`` item names).
STEADI_SIGNAL_ITEMS: tuple[str, ...] = ("stay_independent", "tug_seconds", "chair_stand_count", "tandem_seconds")


@dataclass(frozen=True)
class Signal:
    """One signal that matched a rule: what it forces and why.

    ``reason`` ends with its source in brackets; ``risk`` is what it says
    about the chance of falling (``high``, ``moderate`` or None).
    """

    key: str
    value: str
    min_tier: str
    risk: str | None
    reason: str
    #: The same signal in words for the patient ("" for a clear signal).
    plain: str = ""


@dataclass(frozen=True)
class Decision:
    """The one safety decision: tier, reasons and the risk level shown to the patient.

    ``signals`` lists every matched rule (what each signal forced), strictest
    first; ``reasons`` are the ones that set the tier. ``risk_level`` is
    ``low`` only when the walk (or, with no band, the model) is low and no
    other signal raises the chance of falling.
    """

    tier: str
    reasons: tuple[str, ...]
    signals: tuple[Signal, ...]
    risk_level: str


@dataclass(frozen=True)
class Program:
    """A safe starting backward-walking program.

    ``reasons`` are the rules that set the tier, each ending with its source
    in brackets; ``signals`` every rule that matched ("why this program").
    ``supervised`` is True when no session may be done alone.
    ``risk_level`` (:data:`RISK_LEVELS`) chooses the patient-facing risk
    message. ``treadmill`` is always False: no unsupervised treadmill or
    incline in the first six weeks (§6 safety practice).
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
    risk_level: str = "unknown"
    signals: tuple[Signal, ...] = ()

    @property
    def reason_sources(self) -> tuple[str, ...]:
        """The source part of each reason."""
        return tuple(r.rsplit(" [", 1)[1].rstrip("]") for r in self.reasons)

    @property
    def plain_why(self) -> tuple[str, ...]:
        """Why the program is not less restrictive, in the patient's words (each once)."""
        rank = _tiers()[self.tier].rank
        return tuple(dict.fromkeys(s.plain for s in self.signals if s.plain and _tiers()[s.min_tier].rank == rank))

    @property
    def why(self) -> tuple[str, ...]:
        """Every signal and what it forced, for "why this program" (strictest first)."""
        return tuple(f"{s.reason} → " + ("clear" if s.min_tier == "independent" else f"at least {s.min_tier}")
                     for s in self.signals)


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


def _check_screen_keys(raw: Any) -> None:
    """A screen is a mapping of :data:`SAFETY_SCREEN_KEYS` only (answers are checked by the caller)."""
    if not isinstance(raw, Mapping):
        raise InputError("safety_screen", f"must be a set of yes/no answers; allowed keys: {', '.join(SAFETY_SCREEN_KEYS)}")
    extra = sorted(str(k) for k in raw if k not in SAFETY_SCREEN_KEYS)
    if extra:
        raise InputError(f"safety_screen.{extra[0]}", f"unknown question; allowed: {', '.join(SAFETY_SCREEN_KEYS)}")


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
    _check_screen_keys(raw)
    out = {}
    for key in SAFETY_SCREEN_KEYS:
        if key not in raw or raw[key] is None:
            raise InputError(f"safety_screen.{key}", "must be answered; allowed: yes, no, true, false")
        out[key] = parse_bool(f"safety_screen.{key}", raw[key])
    return out


def _screen_facts(safety_screen: Any) -> set[tuple[str, str]]:
    """Facts from the safety screen: red flags and aid answered yes, or missing / partly answered.

    A screen with some questions unanswered (None or absent) is *partly*
    screened, which is never clear; any answer that is not yes/no is refused.
    """
    if safety_screen is None:
        return {("safety_screen_missing", "yes")}
    _check_screen_keys(safety_screen)
    facts = set()
    for key in SAFETY_SCREEN_KEYS:
        value = safety_screen.get(key)
        if value is None:
            facts.add(("safety_screen_partial", "yes"))
        elif parse_bool(f"safety_screen.{key}", value):
            facts.add(("walking_aid", "yes") if key == "uses_walking_aid" else (key, "yes"))
    return facts


def _cutoffs_met(population: str, mean_seconds: Any) -> dict[str, list[str]]:
    """Program signal → the published cut-offs of the population that the time meets."""
    if mean_seconds is None:
        return {}
    if isinstance(mean_seconds, bool) or not isinstance(mean_seconds, (int, float)) or not mean_seconds > 0:
        raise InputError("mean_seconds", f"{mean_seconds!r} is not allowed; allowed: seconds above 0, or none")
    from .populations import get_population

    met: dict[str, list[str]] = {}
    for cut in get_population(population).cutoffs:
        if cut.program_signal != "none" and cut.applies(float(mean_seconds)):
            met.setdefault(cut.program_signal, []).append(cut.describe())
    return met


def decide(
    *,
    population: str,
    band: str | None,
    risk_category: str | None,
    safety_screen: Mapping[str, Any] | None,
    stop_reason: str | StopReason | None,
    valid_trials: int,
    loss_of_balance: bool,
    hands_on_assistance: bool,
    mean_seconds: float | None = None,
    prior_falls: int | None = None,
    walking_aid: bool | None = None,
    assistive_device: str = "none",
    steadi_at_risk: Mapping[str, Any] | None = None,
    patient_population: str | None = None,
) -> Decision:
    """The one safety decision: the program tier from every signal, with reasons.

    The tier is the most restrictive that any signal asks for; independent only
    when every signal is clear (low band, or no band and a low model category;
    no fall in the past year; no walking aid in daily life or on the test; a
    full, clear safety screen; no stop, loss of balance or hands-on help;
    no STEADI item at risk; not a neurological or nursing-home population).
    Signals left out count as unknown, never as clear.

    Parameters
    ----------
    population : str
        The population the assessment was scored for.
    band : {"low", "intermediate", "high"} or None
        ``ScoreResult.band``.
    risk_category : {"low", "moderate", "high"} or None
        The model's category (None: no probability for this population).
    safety_screen : Mapping or None
        The seven yes/no answers (:data:`SAFETY_SCREEN_KEYS`); None: not
        screened; a missing or None answer: partly screened.
    stop_reason : str or StopReason or None
    valid_trials : int
    loss_of_balance, hands_on_assistance : bool
        On any walk.
    mean_seconds : float, optional
        The scored time; every cut-off of the population it meets is a signal.
    prior_falls : {0, 1, 2} or None
        Falls in the past 12 months (2 = two or more); None: not recorded.
    walking_aid : bool or None
        Uses a walking aid in daily life (besides the screen's answer).
    assistive_device : str
        The device used on the test (``none``, ``cane``, ``walker``, ``other``).
    steadi_at_risk : Mapping, optional
        STEADI item name (:data:`STEADI_SIGNAL_ITEMS`) → at risk (True/False/None).
    patient_population : str, optional
        The patient's current population when it differs from the assessment's
        (a later change of population): its rules apply too.

    Returns
    -------
    Decision

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
    pops = {population}
    if patient_population is not None:
        pops.add(validate_population(patient_population, "patient_population"))
    stop = None if stop_reason in (None, "") else parse_choice("stop_reason", stop_reason, StopReason)
    if isinstance(valid_trials, bool) or not isinstance(valid_trials, int) or valid_trials < 0:
        raise InputError("valid_trials", f"{valid_trials!r} is not allowed; allowed: a whole number, 0 or more")
    if prior_falls not in PRIOR_FALLS_VALUES or isinstance(prior_falls, bool):
        raise InputError("prior_falls", f"{prior_falls!r} is not allowed; allowed: 0, 1, 2 (two or more) or none")
    if walking_aid is not None:
        walking_aid = parse_bool("walking_aid", walking_aid)
    from .protocol import AssistiveDevice

    device = parse_choice("assistive_device", assistive_device, AssistiveDevice)

    facts: set[tuple[str, str]] = {("population", p) for p in pops}
    if band is not None:
        facts.add(("band", band))
    elif risk_category == "low":
        facts.add(("band_and_category", "no_band_low_category"))
    elif risk_category is None:
        facts.add(("band_and_category", "none"))
    if risk_category is not None:
        facts.add(("risk_category", risk_category))
    cutoffs = _cutoffs_met(population, mean_seconds)
    facts |= {("cutoff_signal", signal) for signal in cutoffs}
    facts |= _screen_facts(safety_screen)
    facts.add(("prior_falls", "unknown" if prior_falls is None else str(prior_falls)))
    if walking_aid:
        facts.add(("walking_aid", "yes"))
    if device is not AssistiveDevice.NONE:
        facts.add(("assistive_device_used", "yes"))
    if stop is not None:
        facts.add(("stop_reason", "yes"))
    if valid_trials == 0:
        facts.add(("no_valid_trial", "yes"))
    if parse_bool("loss_of_balance", loss_of_balance):
        facts.add(("loss_of_balance", "yes"))
    if parse_bool("hands_on_assistance", hands_on_assistance):
        facts.add(("hands_on_assistance", "yes"))
    for item, at_risk in (steadi_at_risk or {}).items():
        if item in STEADI_SIGNAL_ITEMS and at_risk is True:
            facts.add((item, "yes"))

    tiers = _tiers()
    signals = []
    for rule in read_table("program_rules"):
        if (rule["key"], rule["value"]) not in facts:
            continue
        reason = rule["reason"]
        if rule["key"] == "cutoff_signal":
            reason += " (" + "; ".join(cutoffs[rule["value"]]) + ")"
        signals.append(Signal(rule["key"], rule["value"], rule["min_tier"], rule["risk"] or None,
                              f"{reason} [{rule['source']}]", rule["plain"]))
    signals.sort(key=lambda sig: -tiers[sig.min_tier].rank)
    # The band (or its absence) always matches one row, so ``signals`` is never empty.
    top = tiers[signals[0].min_tier]
    reasons = tuple(sig.reason for sig in signals if tiers[sig.min_tier].rank == top.rank)
    raised = {sig.risk for sig in signals if sig.risk}
    if "high" in raised:
        level = "high"
    elif "moderate" in raised:
        level = "moderate"
    elif facts & {("band", "low"), ("band_and_category", "no_band_low_category")}:
        level = "low"
    else:
        level = "unknown"
    return Decision(tier=top.id, reasons=reasons, signals=tuple(signals), risk_level=level)


def build_program(*, assessed_on: date, stored_tier: str | None = None, stored_reasons: Any = (), **signals: Any) -> Program:
    """Build the safe starting program for one scored assessment.

    Parameters
    ----------
    assessed_on : date
        The assessment date; the reassessment date counts from it.
    stored_tier : str, optional
        A tier already stored for the assessment (e.g. set when the
        patient's population changed): the program is never less restrictive
        than it.
    stored_reasons : sequence of str
        The reasons stored with ``stored_tier``.
    **signals
        Every keyword of :func:`decide`.

    Returns
    -------
    Program

    Raises
    ------
    InputError
        Naming the argument at fault and the allowed values.
    """
    if not isinstance(assessed_on, date):
        raise InputError("assessed_on", f"{assessed_on!r} is not a date; allowed: a date")
    decision = decide(**signals)
    tiers = _tiers()
    tier, reasons = tiers[decision.tier], decision.reasons
    if stored_tier is not None:
        if stored_tier not in tiers:
            raise InputError("program_tier", f"{str(stored_tier)[:40]!r} is not allowed; allowed: {', '.join(TIERS)}")
        if tiers[stored_tier].rank > tier.rank:
            tier, reasons = tiers[stored_tier], tuple(str(r) for r in stored_reasons)
        elif tiers[stored_tier].rank == tier.rank:
            reasons = tuple(dict.fromkeys([*reasons, *(str(r) for r in stored_reasons)]))
    return Program(
        tier=tier.id,
        tier_label=tier.label,
        plain_label=tier.plain_label,
        reasons=reasons,
        weeks=_weeks(tier.id),
        safety_rules=_rules("safety", tier.id),
        stop_rules=_rules("stop", tier.id),
        reassess_on=assessed_on + timedelta(weeks=tier.reassess_weeks),
        supervised=tier.supervised,
        treadmill=False,
        risk_level=decision.risk_level,
        signals=decision.signals,
    )


def _weeks(tier: str) -> tuple[Week, ...]:
    rows = [r for r in read_table("program_weeks") if r["tier"] == tier]
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


def _rules(kind: str, tier: str) -> tuple[Rule, ...]:
    return tuple(
        Rule(r["icon"], r["text"], r["source"])
        for r in read_table("program_safety")
        if r["kind"] == kind and r["tier"] in ("all", tier)
    )


def _steadi_flags(items: Any) -> dict[str, Any]:
    """``{item: at_risk}`` from scored STEADI items (dicts or ``SteadiItemResult``)."""
    out = {}
    for item in items or ():
        name = item["item"] if isinstance(item, Mapping) else item.item
        out[name] = item["at_risk"] if isinstance(item, Mapping) else item.at_risk
    return out


def signals_for(record: Any, *, patient_population: str | None = None) -> dict[str, Any]:
    """The :func:`decide` keywords of a scored, stored assessment.

    ``record`` is anything with the stored assessment's attributes
    (``risk_category``, ``score`` (``ScoreResult.to_dict()``), ``population``,
    ``safety_screen``, ``stop_reason``, ``trials`` with ``loss_of_balance`` and
    ``hands_on_assistance``, ``prior_falls``, ``walking_aid``,
    ``assistive_device``): the database row or its view.
    """
    score = record.score or {}
    return dict(
        risk_category=record.risk_category,
        band=score.get("band"),
        mean_seconds=score.get("mean_seconds"),
        population=record.population,
        patient_population=patient_population,
        safety_screen=record.safety_screen,
        stop_reason=record.stop_reason,
        valid_trials=int(score.get("valid_trials") or 0),
        loss_of_balance=any(t.loss_of_balance for t in record.trials),
        hands_on_assistance=any(t.hands_on_assistance for t in record.trials),
        prior_falls=getattr(record, "prior_falls", None),
        walking_aid=getattr(record, "walking_aid", None),
        assistive_device=getattr(record, "assistive_device", None) or "none",
        steadi_at_risk=_steadi_flags(score.get("steadi")),
    )


def program_for(record: Any, *, patient_population: str | None = None) -> Program:
    """The program of a scored, stored assessment: the rule on its facts, never below what is stored.

    One mapping for the database row (at finalising, amending, importing and
    on a population change) and the view (when a page or report shows it).
    A stored ``program_tier`` stricter than the rule (set when the patient's
    population changed) is kept with its ``program_reasons``.
    """
    return build_program(
        assessed_on=record.assessed_on,
        stored_tier=getattr(record, "program_tier", None),
        stored_reasons=getattr(record, "program_reasons", None) or (),
        **signals_for(record, patient_population=patient_population),
    )
