"""Example report inputs, built through the real clinical core.

Used by the tests, the benchmark and to render sample PDFs. The patient,
times and model output are invented examples (not clinical data); every
number that matters (bands, cut-offs, MDC95, program) comes from
``assessment``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assessment import score, validate_assessment
from assessment.program import SAFETY_SCREEN_KEYS, build_program


def example_inputs(
    *,
    given_name: str = "Zoë",
    family_name: str = "Øster-Ñúñez",
    mrn: str = "000123",
    population: str = "community",
    trials: tuple = (4.1, 3.9),
    previous_seconds: float | None = 4.6,
    history_points: int = 10,
    risk_category: str | None = "moderate",
    red_flags: tuple[str, ...] = (),
    treadmill: bool = False,
    stop_reason: str | None = None,
    prior_falls: int | None = 0,
    assessed_on: date = date(2025, 3, 10),
    clinic: str | None = "Riverside Falls Clinic",
) -> dict[str, Any]:
    """Keyword arguments for ``build_patient_report`` / ``build_clinician_report``.

    ``history_points`` assessments are generated before and including this one.
    """
    raw = {
        "population": population,
        "age": 78,
        "sex": "female",
        "trials": list(trials),
        "assessed_on": assessed_on,
        "start": "standing",
        "footwear": "shoes",
        "assistive_device": "none",
        "stop_reason": stop_reason,
        "steadi": {"stay_independent_score": 5, "tug_seconds": 12.5, "chair_stand_count": 9, "tandem_seconds": 8.0},
        "previous_seconds": previous_seconds,
    }
    checked = validate_assessment(raw, today=assessed_on)
    result = score(checked)
    trial_dicts = [
        {"seconds": t.seconds, "timing_source": t.timing_source.value, "valid": t.valid,
         "invalid_reason": t.invalid_reason, "loss_of_balance": t.loss_of_balance,
         "hands_on_assistance": t.hands_on_assistance, "steps": t.steps}
        for t in checked.trials
    ]
    risk = None
    if risk_category is not None:
        probability = {"low": 0.18, "moderate": 0.31, "high": 0.52}[risk_category]
        risk = {"probability": probability, "probability_low": probability - 0.08,
                "probability_high": probability + 0.09, "risk_category": risk_category,
                "model_version": "example-0.0", "thresholds": {"moderate": 0.25, "high": 0.45},
                "note": "Example model output for a sample report, not a real model."}
    screen = {k: (k in red_flags) for k in SAFETY_SCREEN_KEYS}
    screen["has_treadmill_with_handrails"] = treadmill
    program = build_program(
        risk_category=risk_category, band=result.band, mean_seconds=result.mean_seconds, population=population,
        safety_screen=screen, stop_reason=stop_reason, valid_trials=result.valid_trials,
        loss_of_balance=any(t.loss_of_balance for t in checked.trials),
        hands_on_assistance=any(t.hands_on_assistance for t in checked.trials),
        prior_falls=prior_falls, walking_aid=False, assistive_device="none",
        steadi_at_risk={s.item: s.at_risk for s in result.steadi},
        assessed_on=assessed_on,
    )
    history = []
    for i in range(history_points - 1, 0, -1):
        history.append({"assessed_on": assessed_on - timedelta(weeks=6 * i),
                        "mean_seconds": round(4.0 + 0.9 * ((i * 7) % 5) / 4 + 0.05 * i, 2),
                        "version": 2 if i % 4 == 0 else 1, "amended": i % 4 == 0})
    if result.mean_seconds is not None and history_points > 0:
        history.append({"assessed_on": assessed_on, "mean_seconds": result.mean_seconds, "version": 1, "amended": False})
    return {
        "patient": {"mrn": mrn, "given_name": given_name, "family_name": family_name,
                    "birth_date": date(1946, 7, 2), "sex": "female", "population": population},
        "assessment": {"id": "A-1001", "version": 1, "assessed_on": assessed_on, "clinician": "Dr. Jana Novák, PT",
                       "start": "standing", "footwear": "shoes", "assistive_device": "none",
                       "stop_reason": stop_reason, "trials": trial_dicts, "score": result.to_dict(),
                       "practice_walk_done": True, "safety_screen": screen, "prior_falls": 1,
                       "walking_aid": False, "age": 78, "sex": "female"},
        "risk": risk,
        "program": program,
        "history": history,
        "clinic": clinic,
    }
