"""Services for assessments: drafts, trials, STEADI, finalizing, amendments.

A draft collects trials, each committed the moment it is recorded, so a
lost browser tab loses nothing (:func:`open_drafts` offers it again).
Finalizing validates the whole draft through the clinical gatekeeper
(:func:`assessment.validate_assessment`), scores it and stores a snapshot
of the score. A final row is never edited: :func:`amend_assessment` writes
a new version that supersedes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from assessment import Assessment, InputError, ScoreResult, score, validate_assessment
from assessment.gatekeeper import (
    brief,
    is_blank,
    parse_choice,
    validate_age,
    validate_prior_falls,
    validate_sex,
    validate_steadi,
    validate_trial,
    validate_walking_aid,
)
from assessment.inputs import SteadiInputs, Trial
from assessment.program import RISK_CATEGORIES, build_program, signals_for
from assessment.protocol import MAX_TIMED_TRIALS, AssistiveDevice, Footwear, StartConvention, StopReason

from .audit import now, write_audit
from .db import Database
from .errors import Conflict, NotFound
from .patients import LIST_LIMIT_MAX, patient_row, validate_clinic
from .schema import DRAFT, FINAL, AssessmentLineage, AssessmentRow, Patient, SteadiRow, TrialRow
from .validation import (
    validate_event_date,
    validate_reason,
    validate_safety_screen,
)
from .views import AssessmentView, DueReport, PatientSummary, PatientView, TrialView, age_on, steadi_raw

#: Keys the records layer accepts besides the gatekeeper's; stripped before it.
EXTRA_KEYS = ("prior_falls", "walking_aid", "safety_screen")
#: Keys an amendment may change. Age and sex always come from the patient.
AMENDABLE = (
    "trials", "assessed_on", "start", "footwear", "assistive_device", "practice_walk_done",
    "stop_reason", "steadi", "population", *EXTRA_KEYS,
)
#: Risk keys stored from a fall-risk model's output.
RISK_KEYS = ("probability", "probability_low", "probability_high", "risk_category", "model_version")

#: How a risk value from an imported file is labelled wherever it is kept.
EXTERNAL_RISK_LABEL = "external: from an imported file, not computed by this StepBack; not used for the program"

#: ``risk_fn(assessment, score, predictors) -> dict | None``: the fall-risk
#: model, injected by the caller (records does not import models).
#: ``predictors`` holds the stored predictors the gatekeeper does not see:
#: ``prior_falls`` (0, 1, 2 = 2+ or None) and ``walking_aid`` (bool or None).
RiskFn = Callable[[Assessment, ScoreResult, Mapping[str, Any]], "Mapping[str, Any] | None"]


def _risk(risk_fn: RiskFn | None, valid: Assessment, result: ScoreResult, row: AssessmentRow):
    if risk_fn is None:
        return None
    return risk_fn(valid, result, {"prior_falls": row.prior_falls, "walking_aid": row.walking_aid})


# ----------------------------------------------------------------- helpers


def _load(session: Session, assessment_id: Any, *, lock: bool = False) -> AssessmentRow:
    if isinstance(assessment_id, bool) or not isinstance(assessment_id, int):
        raise InputError("assessment_id", f"{assessment_id!r} is not an assessment id; allowed: a whole number")
    query = sa.select(AssessmentRow).where(AssessmentRow.id == assessment_id)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound("assessment_id", f"no assessment with id {assessment_id}")
    return row


def _successor_id(session: Session, row_id: int) -> int | None:
    return session.scalar(sa.select(AssessmentRow.id).where(AssessmentRow.supersedes_id == row_id))


def _current_final_query():
    """Final rows that no other row supersedes (the current versions)."""
    newer = aliased(AssessmentRow)
    return sa.select(AssessmentRow).where(
        AssessmentRow.status == FINAL,
        ~sa.exists().where(newer.supersedes_id == AssessmentRow.id),
    )


def _draft(session: Session, assessment_id: Any, *, for_trials: bool = False) -> AssessmentRow:
    row = _load(session, assessment_id, lock=True)
    if row.status != DRAFT:
        raise Conflict("assessment_id", f"assessment {row.id} is final; change it with an amendment")
    if for_trials and row.stop_reason is not None:
        raise Conflict("assessment_id", f"assessment {row.id} was stopped ({row.stop_reason}); no more trials")
    return row


def _earlier_seconds(
    session: Session, patient_id: int, assessed_on: date, lineage_id: int | None
) -> tuple[float | None, float | None]:
    """(previous, first): mean times of the patient's current final assessments before this one.

    Earlier means an earlier date, or the same date and recorded before
    (a lower lineage id; every stored one when ``lineage_id`` is None, i.e.
    the assessment is not stored yet). ``first`` is the earliest, given only
    when it is not also the previous one. Assessments without a mean time
    (stopped before a valid trial) are skipped.
    """
    same_day_earlier = AssessmentRow.assessed_on == assessed_on
    if lineage_id is not None:
        same_day_earlier = sa.and_(same_day_earlier, AssessmentRow.lineage_id < lineage_id)
    base = _current_final_query().where(
        AssessmentRow.patient_id == patient_id,
        sa.or_(AssessmentRow.assessed_on < assessed_on, same_day_earlier),
        AssessmentRow.mean_seconds.is_not(None),
    )
    if lineage_id is not None:
        base = base.where(AssessmentRow.lineage_id != lineage_id)
    latest = session.scalar(base.order_by(AssessmentRow.assessed_on.desc(), AssessmentRow.lineage_id.desc()).limit(1))
    if latest is None:
        return None, None
    first = session.scalar(base.order_by(AssessmentRow.assessed_on, AssessmentRow.lineage_id).limit(1))
    return latest.mean_seconds, (first.mean_seconds if first.id != latest.id else None)


def _score_against_history(session: Session, valid: Assessment, patient_id: int, lineage_id: int | None) -> ScoreResult:
    """Score ``valid`` with its change from the previous and from the first assessment."""
    previous, first = _earlier_seconds(session, patient_id, valid.assessed_on, lineage_id)
    return score(valid, previous_seconds=previous, first_seconds=first)


def _split_extras(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(gatekeeper raw, validated extras) from a raw assessment mapping."""
    gate = {k: v for k, v in raw.items() if k not in EXTRA_KEYS}
    extras: dict[str, Any] = {}
    if "prior_falls" in raw:
        extras["prior_falls"] = validate_prior_falls(raw["prior_falls"])
    if "walking_aid" in raw:
        extras["walking_aid"] = validate_walking_aid(raw["walking_aid"])
    if "safety_screen" in raw:
        extras["safety_screen"] = validate_safety_screen(raw["safety_screen"])
    return gate, extras


def _with_patient(raw: dict[str, Any], patient: Patient, default_population: str) -> dict[str, Any]:
    """``raw`` with the patient's age (on the assessment date), sex and population merged in."""
    if "previous_seconds" in raw and not is_blank(raw["previous_seconds"]):
        raise InputError(
            "previous_seconds",
            "comes from the patient's previous final assessment; allowed: leave it out",
        )
    merged = {k: v for k, v in raw.items() if k != "previous_seconds"}
    assessed_on = (
        date.today() if is_blank(merged.get("assessed_on")) else validate_event_date("assessed_on", merged["assessed_on"])
    )
    merged["assessed_on"] = assessed_on
    age = age_on(patient.birth_date, assessed_on)
    given_sex = validate_sex(merged.get("sex"))
    checks = (
        ("age", validate_age(merged.get("age")), age),
        ("sex", given_sex.value if given_sex is not None else None, patient.sex),
    )
    for key, given, stored in checks:
        if given is not None and given != stored:
            raise InputError(
                key,
                f"{given!r} differs from the patient's record ({stored or 'not recorded'}); "
                "allowed: leave it out, or update the patient",
            )
        merged[key] = stored
    if is_blank(merged.get("population")):
        merged["population"] = default_population
    return merged


def _raw_from_row(row: AssessmentRow) -> dict[str, Any]:
    """The stored assessment as gatekeeper input (age and sex are added from the patient)."""
    raw: dict[str, Any] = {
        "population": row.population,
        "trials": [TrialView.of(t).as_raw() for t in row.trials],
        "assessed_on": row.assessed_on,
        "start": row.start,
        "footwear": row.footwear,
        "assistive_device": row.assistive_device,
        "practice_walk_done": row.practice_walk_done,
        "stop_reason": row.stop_reason,
    }
    if row.steadi is not None:
        raw["steadi"] = steadi_raw(row.steadi)
    return raw


def _trial_row(trial: Trial, number: int) -> TrialRow:
    return TrialRow(
        number=number,
        seconds=trial.seconds,
        timing_source=trial.timing_source.value,
        start=trial.start.value,
        valid=trial.valid,
        invalid_reason=trial.invalid_reason,
        loss_of_balance=trial.loss_of_balance,
        hands_on_assistance=trial.hands_on_assistance,
        steps=trial.steps,
        recorded_at=now(),
    )


def _steadi_row(steadi: SteadiInputs) -> SteadiRow | None:
    if steadi.empty and steadi.stay_independent is None:
        return None
    return SteadiRow(
        stay_independent=dict(steadi.stay_independent) if steadi.stay_independent is not None else None,
        stay_independent_score=steadi.stay_independent_score,
        tug_seconds=steadi.tug_seconds,
        chair_stand_count=steadi.chair_stand_count,
        tandem_seconds=steadi.tandem_seconds,
        recorded_at=now(),
    )


def _apply_validated(row: AssessmentRow, valid: Assessment) -> None:
    row.assessed_on = valid.assessed_on
    row.start = valid.start.value
    row.footwear = valid.footwear.value if valid.footwear is not None else None
    row.assistive_device = valid.assistive_device.value
    row.practice_walk_done = valid.practice_walk_done
    row.stop_reason = valid.stop_reason.value if valid.stop_reason is not None else None
    row.age = valid.age
    row.sex = valid.sex.value if valid.sex is not None else None
    row.population = valid.population


def _apply_score(row: AssessmentRow, result: ScoreResult) -> None:
    row.mean_seconds = result.mean_seconds
    row.speed_m_per_s = result.speed_m_per_s
    row.band = result.band
    row.percentile = result.percentile
    row.z = result.z
    row.reference_cohort = result.reference_cohort
    change = result.change
    row.previous_seconds = change.previous_seconds if change else None
    row.change_seconds = change.change_seconds if change else None
    row.mdc95 = change.mdc95 if change else None
    row.change = change.change if change else None
    row.score = result.to_dict()


def _probability(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(field, "allowed: a probability from 0 to 1")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(field, f"{brief(value)!r} is not a number; allowed: a probability from 0 to 1") from None
    if not 0.0 <= number <= 1.0:
        raise InputError(field, f"{number:g} is outside 0 to 1; allowed: a probability from 0 to 1")
    return number


def checked_risk(risk: Any, prefix: str = "risk") -> dict[str, Any]:
    """A fall-risk model's output, checked: probabilities 0–1, a known category, a version text.

    Returns the :data:`RISK_KEYS` (None where not given); other keys are ignored.
    """
    if not isinstance(risk, Mapping):
        raise InputError(prefix, f"must be a mapping with keys {', '.join(RISK_KEYS)}")
    out = {k: _probability(f"{prefix}.{k}", risk.get(k)) for k in ("probability", "probability_low", "probability_high")}
    category = risk.get("risk_category")
    if category is not None and category not in RISK_CATEGORIES:
        raise InputError(f"{prefix}.risk_category", f"{brief(category)!r} is not allowed; allowed: {', '.join(RISK_CATEGORIES)}")
    version = risk.get("model_version")
    if version is not None and (not isinstance(version, str) or not 1 <= len(version) <= 64):
        raise InputError(f"{prefix}.model_version", "allowed: text of 1 to 64 characters")
    return {**out, "risk_category": category, "model_version": version}


def _apply_risk(row: AssessmentRow, risk: Mapping[str, Any] | None, *, patient_population: str | None = None) -> None:
    """Store the model's output, then (on a scored row) the safe starting program.

    Keys other than :data:`RISK_KEYS` are ignored. The risk category must be
    one the safe starting program knows (``assessment.program.RISK_CATEGORIES``).
    Every path that stores a final row calls this last, after
    :func:`_apply_score`, so each final row gets its program tier, reasons and
    ``reassess_on`` from the one safety decision (``patient_population``: the
    patient's current population, whose rules apply too).
    """
    scored = row.score is not None
    if risk is not None:
        checked = checked_risk(risk)
        for key in RISK_KEYS:
            setattr(row, key, checked[key])
        # What the model said about its own result travels with the score snapshot.
        extra = {"risk_note": risk.get("note"), "risk_thresholds": risk.get("thresholds"),
                 "risk_horizon": risk.get("horizon"), "risk_inputs": risk.get("inputs"),
                 "risk_scenario_probabilities": risk.get("scenario_probabilities")}
        row.score = {**(row.score or {}), **{k: v for k, v in extra.items() if v is not None}}
    if scored:
        _apply_program(row, patient_population)


def _apply_program(row: AssessmentRow, patient_population: str | None) -> None:
    """Store the program the safety rule gives for the row's facts (tier, reasons, reassessment date).

    Derived afresh from the stored facts (never from an earlier stored tier),
    so a corrected population can also lift a restriction it had set.
    """
    program = build_program(assessed_on=row.assessed_on, **signals_for(row, patient_population=patient_population))
    row.program_tier = program.tier
    row.program_reasons = list(program.reasons)
    row.reassess_on = program.reassess_on


def _new_lineage(session: Session, patient: Patient) -> AssessmentLineage:
    lineage = AssessmentLineage(patient_id=patient.id, created_at=now())
    session.add(lineage)
    session.flush()
    return lineage


def _view(session: Session, row: AssessmentRow) -> AssessmentView:
    return AssessmentView.of(row, superseded=_successor_id(session, row.id) is not None)


def _add_final_row(
    session: Session,
    *,
    patient_id: int,
    lineage_id: int,
    valid: Assessment,
    result: ScoreResult,
    actor: str,
    version: int = 1,
    risk_fn: RiskFn | None = None,
    risk: Mapping[str, Any] | None = None,
    external_risk: Mapping[str, Any] | None = None,
    stamp=None,
    **columns: Any,
) -> AssessmentRow:
    """Add a new final row (never edited afterwards): the validated input, its
    trials and STEADI answers, the score snapshot and the model's risk
    (``risk``, or computed by ``risk_fn`` with the row's stored predictors).
    ``external_risk`` (a value from an imported file) is kept in the score
    snapshot under ``external_risk``, labelled, and used for nothing."""
    stamp = stamp or now()
    row = AssessmentRow(
        lineage_id=lineage_id,
        version=version,
        patient_id=patient_id,
        status=FINAL,
        created_by=actor,
        created_at=stamp,
        finalized_at=stamp,
        trials=[_trial_row(t, i) for i, t in enumerate(valid.trials, start=1)],
        steadi=_steadi_row(valid.steadi),
        **columns,
    )
    _apply_validated(row, valid)
    _apply_score(row, result)
    if external_risk is not None:
        row.score = {**row.score, "external_risk": {**checked_risk(external_risk), "label": EXTERNAL_RISK_LABEL}}
    _apply_risk(row, risk if risk is not None else _risk(risk_fn, valid, result, row),
                patient_population=session.get(Patient, patient_id).population)
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- services


def start_assessment(
    db: Database,
    mrn: str,
    *,
    assessed_on: date | str,
    start: str = "standing",
    footwear: str | None = None,
    assistive_device: str = "none",
    safety_screen: Mapping[str, Any] | None = None,
    practice_walk_done: bool = True,
    prior_falls: Any = None,
    walking_aid: Any = None,
    actor: str = "system",
) -> int:
    """Open a draft assessment for a patient.

    Parameters
    ----------
    db : Database
    mrn : str
    assessed_on : date or str
        YYYY-MM-DD, from 1990-01-01 to today.
    start : str
        ``standing`` or ``rolling`` (applies to every trial).
    footwear : str, optional
        ``shoes``, ``barefoot`` or ``other``.
    assistive_device : str
        ``none``, ``cane``, ``walker`` or ``other``.
    safety_screen : dict, optional
        The pre-test safety screen answers (item: yes/no, text, number).
    practice_walk_done : bool
    prior_falls : int or str, optional
        Falls in the past 12 months: 0, 1, 2+ (stored 0/1/2).
    walking_aid : bool or str, optional
        Uses a walking aid in daily life: yes/no.
    actor : str

    Returns
    -------
    int
        The draft's id.
    """
    when = validate_event_date("assessed_on", assessed_on)
    start_value = parse_choice("start", start, StartConvention).value
    footwear_value = None if is_blank(footwear) else parse_choice("footwear", footwear, Footwear).value
    device = parse_choice("assistive_device", assistive_device, AssistiveDevice).value
    screen = validate_safety_screen(safety_screen)
    falls = validate_prior_falls(prior_falls)
    aid = validate_walking_aid(walking_aid)
    if not isinstance(practice_walk_done, bool):
        raise InputError("practice_walk_done", "allowed: yes, no")
    with db.session(actor) as session:
        patient = patient_row(session, mrn)
        lineage = _new_lineage(session, patient)
        row = AssessmentRow(
            lineage_id=lineage.id,
            version=1,
            patient_id=patient.id,
            status=DRAFT,
            assessed_on=when,
            start=start_value,
            footwear=footwear_value,
            assistive_device=device,
            practice_walk_done=practice_walk_done,
            safety_screen=screen,
            prior_falls=falls,
            walking_aid=aid,
            population=patient.population,
            sex=patient.sex,
            created_by=actor,
            created_at=now(),
        )
        session.add(row)
        session.flush()
        write_audit(session, actor, "assessment.start", "assessment", row.id, {"patient_id": patient.id})
        return row.id


def record_trial(db: Database, assessment_id: int, raw_trial: Mapping[str, Any] | float, *, actor: str = "system") -> TrialView:
    """Validate one timed walk and save it to a draft at once (its own transaction).

    Parameters
    ----------
    db : Database
    assessment_id : int
        A draft's id.
    raw_trial : dict or float
        Seconds, or a trial mapping as accepted by
        ``assessment.gatekeeper.validate_trial``.
    actor : str

    Raises
    ------
    Conflict
        When the assessment is final or was stopped.
    InputError
        For a bad trial (field ``trial_N...``) or too many trials.
    """
    with db.session(actor) as session:
        row = _draft(session, assessment_id, for_trials=True)
        number = len(row.trials) + 1
        if number > MAX_TIMED_TRIALS:
            raise InputError("trials", f"{MAX_TIMED_TRIALS} trials already recorded; allowed: 1 to {MAX_TIMED_TRIALS}")
        start = StartConvention(row.start)
        trial = validate_trial(raw_trial, number, start)
        if trial.start is not start:
            raise InputError(
                f"trial_{number}.start",
                f"{trial.start.value!r} differs from the assessment's start convention {start.value!r}; "
                "allowed: one start convention for all trials of an assessment",
            )
        trial_row = _trial_row(trial, number)
        row.trials.append(trial_row)
        session.flush()
        write_audit(
            session, actor, "trial.record", "assessment", row.id, {"trial": number, "valid": trial.valid}
        )
        return TrialView.of(trial_row)


#: The observations of a saved walk that :func:`update_trial_observations` may change.
OBSERVATIONS = ("loss_of_balance", "hands_on_assistance", "valid", "invalid_reason", "steps")


def update_trial_observations(
    db: Database,
    assessment_id: int,
    number: int,
    *,
    loss_of_balance: bool | None = None,
    hands_on_assistance: bool | None = None,
    valid: bool | None = None,
    invalid_reason: str | None = None,
    steps: int | None = None,
    actor: str = "system",
) -> TrialView:
    """Set or correct what was observed during a saved walk of a draft.

    The time, timing source and start convention stay as recorded. The
    changed trial is validated again by the gatekeeper
    (``assessment.gatekeeper.validate_trial``): a walk that needed hands-on
    assistance must be marked not valid, and a walk marked not valid needs a
    reason. A final assessment changes only by :func:`amend_assessment`.

    Parameters
    ----------
    db : Database
    assessment_id : int
        A draft's id (a stopped draft too: its walks can still be described).
    number : int
        The walk's number, 1 to the number of saved walks.
    loss_of_balance, hands_on_assistance, valid : bool, optional
        None leaves the stored value.
    invalid_reason : str, optional
        Why the walk is not valid, 1–500 characters; None leaves the stored
        reason. Marking a walk valid again clears it.
    steps : int, optional
        Steps taken; None leaves the stored value.
    actor : str

    Returns
    -------
    TrialView
        The walk as now stored.

    Raises
    ------
    Conflict
        When the assessment is final.
    NotFound
        When the draft has no walk with this number.
    InputError
        ``trial_N.<field>`` for an observation the gatekeeper refuses, or
        ``observations`` when nothing is given.
    """
    if isinstance(number, bool) or not isinstance(number, int):
        raise InputError("number", f"{brief(number)!r} is not a walk number; allowed: a whole number from 1")
    given = {
        "loss_of_balance": loss_of_balance, "hands_on_assistance": hands_on_assistance, "valid": valid,
        "invalid_reason": invalid_reason, "steps": steps,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise InputError("observations", f"nothing to change; allowed: {', '.join(OBSERVATIONS)}")
    with db.session(actor) as session:
        row = _draft(session, assessment_id)
        trial_row = next((t for t in row.trials if t.number == number), None)
        if trial_row is None:
            raise NotFound(
                "number", f"assessment {row.id} has no walk {number}; allowed: 1 to {len(row.trials)}"
                if row.trials else f"assessment {row.id} has no saved walk yet",
            )
        raw = TrialView.of(trial_row).as_raw()
        if changes.get("valid") is True and "invalid_reason" not in changes:
            raw["invalid_reason"] = None  # a valid walk keeps no reason for being invalid
        raw.update(changes)
        trial = validate_trial(raw, number, StartConvention(row.start))
        before = {k: getattr(trial_row, k) for k in OBSERVATIONS}
        trial_row.loss_of_balance = trial.loss_of_balance
        trial_row.hands_on_assistance = trial.hands_on_assistance
        trial_row.valid = trial.valid
        trial_row.invalid_reason = trial.invalid_reason
        trial_row.steps = trial.steps
        changed = sorted(k for k in OBSERVATIONS if getattr(trial_row, k) != before[k])
        session.flush()
        # Codes only: the reason is free text and stays out of the audit trail.
        write_audit(
            session, actor, "trial.update", "assessment", row.id,
            {"trial": number, "changed": changed, "valid": trial.valid},
        )
        return TrialView.of(trial_row)


#: Why a saved walk of a draft is corrected or removed, or a draft discarded. Codes
#: only (no free text), so the audit trail that records them never holds a name.
CORRECTION_REASONS: dict[str, str] = {
    "typing_error": "The time was typed wrongly",
    "stopwatch_error": "The stopwatch was started or stopped at the wrong moment",
    "wrong_patient": "Recorded for the wrong patient",
    "wrong_walk": "Not a timed walk (a practice or a false start)",
    "test_not_done": "The test was not done after all",
    "other": "Another recording error",
    "stop_undone": "The test was ended by mistake and goes on",
}


def validate_correction_reason(value: Any, field: str = "reason") -> str:
    """One of :data:`CORRECTION_REASONS`."""
    if not isinstance(value, str) or value.strip() not in CORRECTION_REASONS:
        raise InputError(field, f"{brief(value)!r} is not allowed; allowed: {', '.join(CORRECTION_REASONS)}")
    return value.strip()


def _draft_trial(session: Session, assessment_id: Any, number: Any) -> tuple[AssessmentRow, TrialRow]:
    if isinstance(number, bool) or not isinstance(number, int):
        raise InputError("number", f"{brief(number)!r} is not a walk number; allowed: a whole number from 1")
    row = _draft(session, assessment_id)
    trial_row = next((t for t in row.trials if t.number == number), None)
    if trial_row is None:
        raise NotFound(
            "number", f"assessment {row.id} has no walk {number}; allowed: 1 to {len(row.trials)}"
            if row.trials else f"assessment {row.id} has no saved walk yet",
        )
    return row, trial_row


def correct_trial_time(db: Database, assessment_id: int, number: int, seconds: Any, *, reason: str,
                       actor: str = "system") -> TrialView:
    """Correct the time of a saved walk of a draft (audited with the reason and both times).

    The walk becomes a manual time (``timing_source`` ``manual``): it was
    typed, not measured by the stopwatch. A final assessment changes only by
    :func:`amend_assessment`.

    Raises
    ------
    Conflict, NotFound, InputError
    """
    code = validate_correction_reason(reason)
    with db.session(actor) as session:
        row, trial_row = _draft_trial(session, assessment_id, number)
        raw = {**TrialView.of(trial_row).as_raw(), "seconds": seconds, "timing_source": "manual"}
        trial = validate_trial(raw, number, StartConvention(row.start))
        before = trial_row.seconds
        trial_row.seconds = trial.seconds
        trial_row.timing_source = trial.timing_source.value
        session.flush()
        write_audit(session, actor, "trial.correct", "assessment", row.id,
                    {"trial": number, "reason": code, "from_seconds": before, "to_seconds": trial.seconds})
        return TrialView.of(trial_row)


def remove_trial(db: Database, assessment_id: int, number: int, *, reason: str, actor: str = "system") -> None:
    """Remove a saved walk from a draft; later walks move up one number (audited with the reason).

    Raises
    ------
    Conflict, NotFound, InputError
    """
    code = validate_correction_reason(reason)
    with db.session(actor) as session:
        row, trial_row = _draft_trial(session, assessment_id, number)
        seconds = trial_row.seconds
        row.trials.remove(trial_row)
        session.flush()  # the removed walk's number is free before the others move up
        for later in sorted((t for t in row.trials if t.number > number), key=lambda t: t.number):
            later.number -= 1
            session.flush()
        write_audit(session, actor, "trial.remove", "assessment", row.id,
                    {"trial": number, "reason": code, "seconds": seconds, "remaining": len(row.trials)})


def discard_draft(db: Database, assessment_id: int, *, reason: str, actor: str = "system") -> None:
    """Discard a draft that will not be finalised: its walks and STEADI answers are deleted.

    The audit row keeps what was discarded (counts and the reason code). A
    final assessment is never discarded; it changes only by an amendment.

    Raises
    ------
    Conflict, NotFound, InputError
    """
    code = validate_correction_reason(reason)
    with db.session(actor) as session:
        row = _draft(session, assessment_id)
        lineage_id, patient_id, walks = row.lineage_id, row.patient_id, len(row.trials)
        session.delete(row)
        session.flush()
        others = session.scalar(sa.select(sa.func.count()).where(AssessmentRow.lineage_id == lineage_id))
        if not others:
            session.execute(sa.delete(AssessmentLineage).where(AssessmentLineage.id == lineage_id))
        write_audit(session, actor, "assessment.discard", "assessment", assessment_id,
                    {"reason": code, "walks": walks, "patient_id": patient_id})


def record_steadi(db: Database, assessment_id: int, raw_steadi: Mapping[str, Any], *, actor: str = "system") -> None:
    """Save (or replace) the STEADI answers of a draft.

    Parameters
    ----------
    db : Database
    assessment_id : int
    raw_steadi : dict
        As accepted by ``assessment.gatekeeper.validate_steadi``.
    actor : str
    """
    steadi = validate_steadi(raw_steadi)
    with db.session(actor) as session:
        row = _draft(session, assessment_id)
        new = _steadi_row(steadi)
        if row.steadi is not None:
            session.delete(row.steadi)
            session.flush()
        row.steadi = new
        session.flush()
        write_audit(session, actor, "steadi.record", "assessment", row.id, {"recorded": new is not None})


def stop_assessment(db: Database, assessment_id: int, reason: str, *, actor: str = "system") -> None:
    """Apply the stop rule to a draft: no further trials; finalize it to score what was done.

    Parameters
    ----------
    db : Database
    assessment_id : int
    reason : str
        ``cannot_continue_safely``, ``needs_hands_on_help``, ``pain`` or ``dizziness``.
    actor : str
    """
    stop = parse_choice("stop_reason", reason, StopReason)
    with db.session(actor) as session:
        row = _draft(session, assessment_id)
        row.stop_reason = stop.value
        write_audit(session, actor, "assessment.stop", "assessment", row.id, {"stop_reason": stop.value})


def resume_assessment(db: Database, assessment_id: int, *, actor: str = "system") -> None:
    """Undo a stop rule applied to a draft by mistake: the test can go on (audited).

    Only a draft: once finalised, an assessment changes only by an amendment.
    """
    with db.session(actor) as session:
        row = _draft(session, assessment_id)
        if row.stop_reason is None:
            raise Conflict("assessment_id", f"assessment {row.id} was not stopped; nothing to undo")
        before = row.stop_reason
        row.stop_reason = None
        write_audit(session, actor, "assessment.resume", "assessment", row.id, {"undone_stop_reason": before})


def finalize_assessment(
    db: Database,
    assessment_id: int,
    *,
    risk: Mapping[str, Any] | None = None,
    risk_fn: RiskFn | None = None,
    actor: str = "system",
) -> AssessmentView:
    """Validate, score and close a draft; it is never edited again.

    The patient's age on the assessment date, sex and population are merged
    in; the change is computed against the patient's latest current final
    assessment dated before this one.

    Parameters
    ----------
    db : Database
    assessment_id : int
    risk : dict, optional
        The fall-risk model's output: ``probability``, ``probability_low``,
        ``probability_high``, ``risk_category``, ``model_version``.
    risk_fn : callable, optional
        Instead of ``risk``: computes it from the validated assessment and its
        score, as in :func:`record_assessment`.
    actor : str

    Raises
    ------
    Conflict
        When it is not a draft.
    InputError
        When the draft does not validate (e.g. no trial and no stop reason).
    """
    with db.session(actor) as session:
        row = _draft(session, assessment_id)
        raw = _raw_from_row(row)
        raw.pop("population")  # a draft is scored for the patient's population at finalizing
        raw = _with_patient(raw, row.patient, row.patient.population)
        valid = validate_assessment(raw)
        result = _score_against_history(session, valid, row.patient_id, row.lineage_id)
        _apply_validated(row, valid)
        _apply_score(row, result)
        if risk is not None and risk_fn is not None:
            raise InputError("risk", "give either risk or risk_fn, not both")
        _apply_risk(row, risk if risk is not None else _risk(risk_fn, valid, result, row),
                    patient_population=row.patient.population)
        row.status = FINAL
        row.finalized_at = now()
        session.flush()
        write_audit(session, actor, "assessment.finalize", "assessment", row.id, {"version": row.version, "band": row.band})
        return _view(session, row)


def record_assessment(
    db: Database,
    mrn: str,
    raw: Mapping[str, Any],
    *,
    risk_fn: RiskFn | None = None,
    actor: str = "system",
) -> tuple[AssessmentView, ScoreResult]:
    """Validate, score and store a whole assessment in one transaction.

    Parameters
    ----------
    db : Database
    mrn : str
    raw : dict
        Gatekeeper keys (``trials``, ``assessed_on`` (default today),
        ``start``, ``footwear``, ``assistive_device``, ``practice_walk_done``,
        ``stop_reason``, ``steadi``, ``population`` (default the patient's))
        plus ``prior_falls``, ``walking_aid``, ``safety_screen``. Age and sex
        come from the patient; if given they must match.
    risk_fn : callable, optional
        ``risk_fn(assessment, score) -> dict | None``: the model's output,
        stored as in :func:`finalize_assessment`.
    actor : str

    Returns
    -------
    (AssessmentView, ScoreResult)

    Raises
    ------
    InputError
        Nothing is written.
    """
    if not isinstance(raw, Mapping):
        raise InputError("assessment", "must be a set of named fields")
    gate, extras = _split_extras(raw)
    with db.session(actor) as session:
        patient = patient_row(session, mrn)
        valid = validate_assessment(_with_patient(gate, patient, patient.population))
        result = _score_against_history(session, valid, patient.id, None)
        lineage = _new_lineage(session, patient)
        row = _add_final_row(session, patient_id=patient.id, lineage_id=lineage.id, valid=valid, result=result,
                             actor=actor, risk_fn=risk_fn, **extras)
        write_audit(session, actor, "assessment.record", "assessment", row.id, {"version": 1, "band": row.band})
        return _view(session, row), result


#: A walk's camera timing (records/camera.py), kept beside its scored time.
CAMERA_COLUMNS = ("camera_seconds", "camera_note", "stopwatch_seconds")


def _carry_camera_times(old_trials: Sequence[TrialRow], new_trials: Sequence[TrialRow]) -> None:
    """Give each walk of an amended version the camera timing of the same walk in the version
    it amends, unless the amendment changed that walk's time (its seconds or timing source)."""
    before = {t.number: t for t in old_trials}
    for trial in new_trials:
        old = before.get(trial.number)
        if old is not None and (old.seconds, old.timing_source) == (trial.seconds, trial.timing_source):
            for column in CAMERA_COLUMNS:
                setattr(trial, column, getattr(old, column))


def amend_assessment(
    db: Database,
    assessment_id: int,
    raw_changes: Mapping[str, Any],
    *,
    reason: str,
    risk_fn: RiskFn | None = None,
    actor: str = "system",
) -> AssessmentView:
    """Amend a final assessment: a new version supersedes it; the old row is untouched.

    Parameters
    ----------
    db : Database
    assessment_id : int
        The current version of a final assessment.
    raw_changes : dict
        New values for any of :data:`AMENDABLE`; everything else is carried
        over. Changing ``start`` without new ``trials`` moves the stored
        trials to the new start convention. A walk whose time (seconds and
        timing source) is unchanged keeps its camera timing.
    reason : str
        Why, 1–500 characters (stored with the new version, not in the audit).
    risk_fn : callable, optional
        As in :func:`record_assessment`; without it the new version has no risk.
    actor : str

    Raises
    ------
    Conflict
        When the assessment is a draft or was already amended.
    InputError
        When the amended assessment does not validate.
    """
    if not isinstance(raw_changes, Mapping):
        raise InputError("changes", f"must be a set of named fields; allowed: {', '.join(AMENDABLE)}")
    for key in raw_changes:
        if key not in AMENDABLE:
            raise InputError(str(key), f"cannot be amended; allowed: {', '.join(AMENDABLE)}")
    reason = validate_reason(reason)
    gate_changes, extras = _split_extras(raw_changes)
    with db.session(actor) as session:
        old = _load(session, assessment_id, lock=True)
        if old.status != FINAL:
            raise Conflict("assessment_id", f"assessment {old.id} is a draft; finalize it instead of amending")
        newer = _successor_id(session, old.id)
        if newer is not None:
            raise Conflict("assessment_id", f"assessment {old.id} was amended by {newer}; amend the current version")
        raw = _raw_from_row(old)
        if "start" in gate_changes and "trials" not in gate_changes:
            for trial in raw["trials"]:
                trial["start"] = gate_changes["start"]
        raw.update(gate_changes)
        valid = validate_assessment(_with_patient(raw, old.patient, old.population))
        result = _score_against_history(session, valid, old.patient_id, old.lineage_id)
        carried = {
            "safety_screen": old.safety_screen,
            "prior_falls": old.prior_falls,
            "walking_aid": old.walking_aid,
            **extras,
        }
        row = _add_final_row(session, patient_id=old.patient_id, lineage_id=old.lineage_id, valid=valid,
                             result=result, actor=actor, version=old.version + 1, risk_fn=risk_fn,
                             supersedes_id=old.id, amendment_reason=reason, **carried)
        _carry_camera_times(old.trials, row.trials)
        write_audit(
            session, actor, "assessment.amend", "assessment", row.id,
            {"supersedes_id": old.id, "version": row.version, "changed": sorted(str(k) for k in raw_changes)},
        )
        return _view(session, row)


def rederive_programs(session: Session, patient: Patient, actor: str) -> None:
    """Apply the safety rule again to the patient's current final assessments (in ``session``).

    Called when a fact outside the assessment rows changes, the patient's
    population: each current version's stored program is re-derived with the
    new population's rules, and every change of tier is audited.
    """
    rows = session.scalars(_current_final_query().where(AssessmentRow.patient_id == patient.id)).all()
    for row in rows:
        before = row.program_tier
        _apply_program(row, patient.population)
        if row.program_tier != before:
            write_audit(session, actor, "program.rederive", "assessment", row.id,
                        {"from": before, "to": row.program_tier, "population": patient.population})


def history(db: Database, mrn: str, *, actor: str = "system") -> list[AssessmentView]:
    """The patient's final assessments, current version of each, oldest first.

    Each view's ``version`` and ``amended`` say whether it was amended;
    :func:`assessment_versions` gives the whole lineage.
    """
    with db.session(actor, read_only=True) as session:
        patient = patient_row(session, mrn)
        rows = session.scalars(
            _current_final_query()
            .where(AssessmentRow.patient_id == patient.id)
            .order_by(AssessmentRow.assessed_on, AssessmentRow.lineage_id)
        ).all()
        write_audit(session, actor, "assessment.history", "patient", patient.id, {"count": len(rows)})
        return [AssessmentView.of(r, superseded=False) for r in rows]


def final_assessments(
    db: Database,
    *,
    assessed_from: date | None = None,
    assessed_to: date | None = None,
    latest_per_patient: bool = False,
    actor: str = "system",
) -> list[tuple[PatientView, AssessmentView]]:
    """Current final assessments (with their patients), oldest first.

    Parameters
    ----------
    assessed_from, assessed_to : date, optional
        Inclusive bounds on the assessment date.
    latest_per_patient : bool
        Keep only each patient's most recent one (for "who is due").
    """
    with db.session(actor, read_only=True) as session:
        query = _current_final_query()
        if assessed_from is not None:
            query = query.where(AssessmentRow.assessed_on >= assessed_from)
        if assessed_to is not None:
            query = query.where(AssessmentRow.assessed_on <= assessed_to)
        rows = session.scalars(query.order_by(AssessmentRow.assessed_on, AssessmentRow.lineage_id)).all()
        if latest_per_patient:
            latest: dict[int, AssessmentRow] = {}
            for r in rows:  # ordered by date: the last one seen wins
                latest[r.patient_id] = r
            rows = sorted(latest.values(), key=lambda r: (r.assessed_on, r.lineage_id))
        patients = {r.patient_id: PatientView.of(r.patient) for r in rows}
        write_audit(session, actor, "assessment.list", "assessment", None, {"count": len(rows)})
        return [(patients[r.patient_id], AssessmentView.of(r, superseded=False)) for r in rows]


def assessment_versions(db: Database, assessment_id: int, *, actor: str = "system") -> list[AssessmentView]:
    """Every version of the assessment that ``assessment_id`` belongs to, oldest first."""
    with db.session(actor, read_only=True) as session:
        row = _load(session, assessment_id)
        rows = session.scalars(
            sa.select(AssessmentRow).where(AssessmentRow.lineage_id == row.lineage_id).order_by(AssessmentRow.version)
        ).all()
        superseded = {r.supersedes_id for r in rows if r.supersedes_id is not None}
        write_audit(session, actor, "assessment.versions", "assessment", row.id, {"count": len(rows)})
        return [AssessmentView.of(r, superseded=r.id in superseded) for r in rows]


def get_assessment(db: Database, assessment_id: int, *, actor: str = "system") -> AssessmentView:
    """One assessment version with its trials, STEADI answers, safety screen and score."""
    with db.session(actor, read_only=True) as session:
        row = _load(session, assessment_id)
        write_audit(session, actor, "assessment.view", "assessment", row.id)
        return _view(session, row)


#: Report kinds whose printing is audited.
REPORT_KINDS = ("patient", "clinician")


def record_report_printed(db: Database, assessment_id: int, kinds: tuple[str, ...] | list[str], *,
                          actor: str = "system") -> None:
    """Audit that reports of a final assessment were printed (rendered to PDF).

    Parameters
    ----------
    kinds : sequence of str
        ``patient`` and/or ``clinician``.
    """
    chosen = sorted(set(kinds)) if not isinstance(kinds, str) else []
    if not chosen or any(k not in REPORT_KINDS for k in chosen):
        raise InputError("kinds", f"allowed: one or more of {', '.join(REPORT_KINDS)}")
    with db.session(actor) as session:
        row = _load(session, assessment_id)
        if row.status != FINAL:
            raise Conflict("assessment_id", f"assessment {row.id} is a draft; only a final assessment is printed")
        write_audit(session, actor, "report.print", "assessment", row.id, {"kinds": chosen})


def open_drafts(db: Database, mrn: str | None = None, *, actor: str = "system") -> list[AssessmentView]:
    """Drafts not yet finalized (all patients, or one), oldest first, to resume."""
    with db.session(actor, read_only=True) as session:
        query = sa.select(AssessmentRow).where(AssessmentRow.status == DRAFT).order_by(AssessmentRow.id)
        patient_id = None
        if mrn is not None:
            patient_id = patient_row(session, mrn).id
            query = query.where(AssessmentRow.patient_id == patient_id)
        rows = session.scalars(query).all()
        write_audit(session, actor, "assessment.drafts", "patient", patient_id, {"count": len(rows)})
        return [AssessmentView.of(r, superseded=False) for r in rows]


# ------------------------------------------------- summaries and "who is due"


def _latest_final_id():
    """Correlated subquery: the id of ``Patient``'s latest current final assessment.

    Latest by assessment date, then by lineage (the one recorded later);
    served by the index on ``(patient_id, status, assessed_on, lineage_id)``.
    """
    row = aliased(AssessmentRow)
    newer = aliased(AssessmentRow)
    return (
        sa.select(row.id)
        .where(
            row.patient_id == Patient.id,
            row.status == FINAL,
            ~sa.exists().where(newer.supersedes_id == row.id),
        )
        .order_by(row.assessed_on.desc(), row.lineage_id.desc())
        .limit(1)
        .correlate(Patient)
        .scalar_subquery()
    )


#: The assessment columns a summary needs (never the ORM row: no trials are loaded).
_SUMMARY_COLUMNS = (
    AssessmentRow.id.label("assessment_id"),
    AssessmentRow.assessed_on,
    AssessmentRow.mean_seconds,
    AssessmentRow.band,
    AssessmentRow.risk_category,
    AssessmentRow.reassess_on,
)


def _summary(mrn: str, row) -> PatientSummary:
    return PatientSummary(
        mrn=mrn, assessment_id=row.assessment_id, last_assessed_on=row.assessed_on,
        last_mean_seconds=row.mean_seconds, band=row.band, risk_category=row.risk_category,
        reassess_on=row.reassess_on,
    )


def patient_summaries(
    db: Database, mrns, *, clinic: str | None = None, actor: str = "system"
) -> dict[str, PatientSummary]:
    """Each patient's latest current final assessment, in brief, in one query.

    Parameters
    ----------
    db : Database
    mrns : iterable of str
        At most 1000 MRNs (a page of a patient list).
    clinic : str, optional
        Leave out the patients of other clinics (see
        :func:`records.patients.clinic_scope`).
    actor : str

    Returns
    -------
    dict
        MRN → :class:`~records.views.PatientSummary`, for every MRN that
        exists (in the clinic); a patient never assessed has a summary whose
        fields are None. Unknown MRNs are left out.
    """
    if isinstance(mrns, (str, bytes)):
        raise InputError("mrns", "allowed: a list of MRNs, not one MRN")
    wanted = sorted({str(m) for m in mrns})
    if len(wanted) > LIST_LIMIT_MAX:
        raise InputError("mrns", f"{len(wanted)} MRNs; allowed: at most {LIST_LIMIT_MAX} at once")
    clinic = validate_clinic(clinic)
    if not wanted:
        return {}
    query = (
        sa.select(Patient.mrn, *_SUMMARY_COLUMNS)
        .outerjoin(AssessmentRow, AssessmentRow.id == _latest_final_id())
        .where(Patient.mrn.in_(wanted))
    )
    if clinic is not None:
        query = query.where(Patient.clinic == clinic)
    with db.session(actor, read_only=True) as session:
        rows = session.execute(query).all()
        write_audit(session, actor, "patient.summaries", "patient", None, {"count": len(rows)})
        return {r.mrn: _summary(r.mrn, r) for r in rows}


def due_for_reassessment(
    db: Database,
    *,
    on: date | None = None,
    clinic: str | None = None,
    limit: int = 200,
    actor: str = "system",
) -> DueReport:
    """Patients due for reassessment: latest current final ``reassess_on <= on``, or never assessed.

    Two queries over the patients (of a clinic), each patient's latest
    assessment found through an index: the counts (total, due, never
    assessed, risk mix), then the first ``limit`` due patients. The due date
    is the stored
    ``reassess_on`` (the starting program's, set when final). A stored row
    without one (an old row the program could not date) counts as due.

    Parameters
    ----------
    db : Database
    on : date, optional
        The day to check (default today).
    clinic : str, optional
        Only this clinic's patients (see :func:`records.patients.clinic_scope`).
    limit : int
        Due patients returned, 1 to 1000.
    actor : str

    Returns
    -------
    DueReport
    """
    on = date.today() if on is None else validate_event_date("on", on, today=date.max)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise InputError("limit", f"allowed: a whole number from 1 to {LIST_LIMIT_MAX}")
    clinic = validate_clinic(clinic)
    latest = (
        sa.select(Patient.id.label("patient_id"), *_SUMMARY_COLUMNS)
        .outerjoin(AssessmentRow, AssessmentRow.id == _latest_final_id())
    )
    if clinic is not None:
        latest = latest.where(Patient.clinic == clinic)
    latest = latest.subquery()
    due_flag = sa.or_(latest.c.reassess_on.is_(None), latest.c.reassess_on <= on)
    # Counted in the database: only a few rows (one per risk category and band) come back.
    counts = (
        sa.select(
            latest.c.risk_category, latest.c.band,
            sa.func.count().label("patients"),
            sa.func.sum(sa.case((due_flag, 1), else_=0)).label("due"),
            sa.func.sum(sa.case((latest.c.assessment_id.is_(None), 1), else_=0)).label("never"),
        )
        .group_by(latest.c.risk_category, latest.c.band)
    )
    # Never assessed first, then the most overdue; ties in name order.
    page = (
        sa.select(Patient, latest)
        .join(latest, latest.c.patient_id == Patient.id)
        .where(due_flag)
        .order_by(latest.c.assessment_id.is_not(None), latest.c.reassess_on, Patient.name_key, Patient.mrn)
        .limit(limit)
    )
    with db.session(actor, read_only=True) as session:
        mix: dict[tuple[str | None, str | None], int] = {}
        total = due = never = 0
        for r in session.execute(counts):
            mix[(r.risk_category, r.band)] = mix.get((r.risk_category, r.band), 0) + r.patients
            total += r.patients
            due += r.due or 0
            never += r.never or 0
        entries = tuple(
            (PatientView.of(r.Patient), _summary(r.Patient.mrn, r)) for r in session.execute(page)
        )
        write_audit(
            session, actor, "patient.due", "patient", None,
            {"due": due, "returned": len(entries), "clinic": clinic is not None},
        )
    return DueReport(on, total, due, never, mix, entries)
