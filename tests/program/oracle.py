"""The program rule of issue 9, written out independently of the rules table.

Shared by the decision's own property test and the per-storage-path tests
(records, CLI, CSV import, amendment, population change): a stored program
must never be less restrictive than this.
"""

from __future__ import annotations

from typing import Any

from assessment.populations import get_population
from assessment.program import RED_FLAG_KEYS, SAFETY_SCREEN_KEYS

NEURO = {"parkinsons", "stroke", "multiple_sclerosis", "dementia"}
RANK = {"independent": 1, "supported": 2, "supervised": 3}


def oracle_tier(a: dict[str, Any]) -> str:
    """The tier the rule asks for, from the keywords of ``assessment.program.decide``."""
    pop = get_population(a["population"])
    t = a.get("mean_seconds")
    scr = a["safety_screen"]
    pops = {a["population"], a.get("patient_population")}
    supervised = (
        a["risk_category"] == "high" or a["band"] == "high"
        or (t is not None and any(c.program_signal == "supervised" and c.applies(t) for c in pop.cutoffs))
        or a.get("prior_falls") == 2 or a.get("walking_aid") is True or (a.get("assistive_device") or "none") != "none"
        or a["loss_of_balance"] or a["hands_on_assistance"] or a["stop_reason"] is not None or a["valid_trials"] == 0
        or pops & NEURO
        or scr is None or any(scr.get(k) is None for k in SAFETY_SCREEN_KEYS)
        or any(scr[k] for k in RED_FLAG_KEYS) or scr["uses_walking_aid"]
    )
    if supervised:
        return "supervised"
    clear = (
        (a["band"] == "low" or (a["band"] is None and a["risk_category"] == "low"))
        and a["risk_category"] in ("low", None)
        and not (t is not None and any(c.program_signal == "supported" and c.applies(t) for c in pop.cutoffs))
        and a.get("prior_falls") == 0
        and "nursing_home" not in pops
        and not any(v is True for v in (a.get("steadi_at_risk") or {}).values())
    )
    return "independent" if clear else "supported"


def stored_facts(view: Any, patient_population: str | None) -> dict[str, Any]:
    """The oracle's inputs read from a stored assessment (a records ``AssessmentView``)."""
    score = view.score or {}
    return dict(
        risk_category=view.risk_category, band=score.get("band"), mean_seconds=score.get("mean_seconds"),
        population=view.population, patient_population=patient_population, safety_screen=view.safety_screen,
        stop_reason=view.stop_reason, valid_trials=int(score.get("valid_trials") or 0),
        loss_of_balance=any(t.loss_of_balance for t in view.trials),
        hands_on_assistance=any(t.hands_on_assistance for t in view.trials),
        prior_falls=view.prior_falls, walking_aid=view.walking_aid, assistive_device=view.assistive_device,
        steadi_at_risk={s["item"]: s["at_risk"] for s in score.get("steadi") or ()},
    )


def never_looser(view: Any, patient_population: str | None) -> None:
    """Assert the stored program is at least as restrictive as the rule on the stored facts."""
    wanted = oracle_tier(stored_facts(view, patient_population))
    assert view.program_tier is not None, "a final assessment always stores its program"
    assert RANK[view.program_tier] >= RANK[wanted], (view.program_tier, wanted, view.program_reasons)
    assert view.program_reasons
