"""The patient report: plain language, large type, 1–2 pages.

What we measured, what it means (in words, no z-scores), the program week
by week, safety rules with pictograms, when to stop and call, and the next
check. A patient whose program is supervised is told, in so many words, to
practise only with their physical therapist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from assessment.program import Program

from .model import Heading, IconItem, IconList, Paragraph, ReportModel, Table
from .text import full_name, long_date

#: Body text size of the patient report, points (issue #4: at least 14 pt).
PATIENT_BODY_PT = 14.5

#: The risk message, one per level of the program decision (``Program.risk_level``): the same
#: decision sets the program, so the message, the band and the program never contradict.
_RISK_WORDS = {
    "high": "Your results point to a higher chance of falling.",
    "moderate": "Some of your results point to a raised chance of falling.",
    "low": "Your walking time is in the range linked with a lower chance of falling. Staying active helps keep it that way.",
    "unknown": "There is no published guide for this test in your group, so your clinician will explain "
               "what your time means for you.",
}
_CHANGE_WORDS = {
    "improved": "You were faster than last time, by more than the usual day-to-day difference.",
    "worse": "You were slower than last time, by more than the usual day-to-day difference.",
    "no_real_change": "Your time is about the same as last time.",
}


def file_stem(kind: str, patient: Mapping[str, Any], assessment: Mapping[str, Any]) -> str:
    """A safe file name such as ``patient-MRN123-2025-03-10-a17-v1``."""
    raw = f"{kind}-{patient.get('mrn', '')}-{assessment.get('assessed_on', '')}-{assessment.get('id', '')}-v{assessment.get('version', 1)}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw)[:120]


def meaning(score: Mapping[str, Any], risk_level: str) -> list[str]:
    """Plain-language sentences for what the result means.

    ``risk_level`` is the program decision's (:attr:`assessment.program.Program.risk_level`),
    never the model's category alone: a walk in a high band or past a faller
    cut-off is never told "a lower chance of falling".
    """
    out = []
    if score.get("mean_seconds") is None:
        out.append("We stopped the walk early to keep you safe, so there is no time for this visit. "
                   "That is all right: your program starts with a physical therapist.")
    else:
        out.append(_RISK_WORDS[risk_level])
        if score.get("band") is None and risk_level != "unknown":
            out.append("There is no published guide for the walking time alone in your group; "
                       "your clinician will explain what it means for you.")
    if score.get("change") in _CHANGE_WORDS:
        out.append(_CHANGE_WORDS[score["change"]])
    out.append("This test is one piece of the picture. It cannot say for sure whether you will fall.")
    return out


def week_table(program: Program) -> list:
    """Where to practise (said once, and again when it changes) and the weeks as a table."""
    first = program.weeks[0]
    out = [Paragraph(f"Where and how: {first.surface}. {first.support}.")]
    rows = []
    changes = []
    where = (first.surface, first.support)
    for w in program.weeks:
        if (w.surface, w.support) != where:
            where = (w.surface, w.support)
            changes.append(Paragraph(f"From week {w.week}: {w.surface}. {w.support}."))
        rows.append((str(w.week), f"{w.minutes_per_session} minutes, {w.sessions_per_week} times a week.",
                     w.progress_rule + "."))
    out.append(Table(("Week", "What to do", "Next step"), tuple(rows), (0.12, 0.34, 0.54)))
    return out + changes


def build_patient_report(
    *,
    patient: Mapping[str, Any],
    assessment: Mapping[str, Any],
    risk: Mapping[str, Any] | None,
    program: Program,
    history: Sequence[Mapping[str, Any]] = (),
    clinic: str | None = None,
) -> ReportModel:
    """Build the plain-language patient report as data.

    Parameters
    ----------
    patient : Mapping
        mrn, given_name, family_name, birth_date, sex, population.
    assessment : Mapping
        id, version, assessed_on, clinician, trials, score
        (``ScoreResult.to_dict()``) and protocol fields.
    risk : Mapping or None
        probability, probability_low, probability_high, risk_category,
        model_version, thresholds, note; None when there is no model
        probability for the population.
    program : Program
        From :func:`assessment.program.build_program`.
    history : sequence of Mapping
        Not shown to the patient (kept for a uniform signature).
    clinic : str, optional
        Clinic name, used in "call us".

    Returns
    -------
    ReportModel
    """
    del history  # the trend is for the clinician report
    name = full_name(patient)
    score = assessment.get("score") or {}
    clinic_name = (clinic or "").strip() or "your clinic"
    blocks: list = [
        Heading("Your backward walking test", level=1),
        Paragraph(f"{name}, {long_date(assessment.get('assessed_on'))}", "lead"),
        Heading("What we measured"),
        Paragraph("You walked backwards for 3 metres, as quickly as you safely could, "
                  "with one of us beside you. We timed each walk."),
    ]
    mean = score.get("mean_seconds")
    if mean is not None:
        n = score.get("valid_trials") or 0
        walks = "walk" if n == 1 else "walks"
        blocks.append(Paragraph(f"Your time: {mean:.1f} seconds on average ({n} {walks}).", "lead"))
    blocks.append(Heading("What it means"))
    blocks.append(Paragraph(" ".join(meaning(score, program.risk_level))))

    blocks.append(Heading("Your walking program"))
    blocks.append(Paragraph(program.plain_label + ".", "lead"))
    if program.supervised:
        blocks.append(Paragraph("Do not practise walking backwards at home on your own. "
                                "Practise only with your physical therapist.", "warning"))
    if program.plain_why:
        blocks.append(Paragraph("Why: " + "; ".join(program.plain_why) + "."))
    blocks.append(IconList((IconItem("calendar", f"Your next test: {long_date(program.reassess_on)}. "
                                                 "Please bring this sheet."),)))
    blocks += week_table(program)

    blocks.append(Heading("Stay safe"))
    blocks.append(IconList(tuple(IconItem(r.icon, r.text + ".") for r in program.safety_rules)))
    blocks.append(Heading("Stop straight away and call us"))
    clinician = (assessment.get("clinician") or "").strip()
    who = f"{clinic_name} ({clinician})" if clinician else clinic_name
    blocks.append(Paragraph(f"Stop, sit down and call {who} if:"))
    blocks.append(IconList(tuple(IconItem(r.icon, r.text + ".") for r in program.stop_rules)))
    blocks.append(Paragraph("If you fall and are hurt, or cannot get up, call for emergency help.", "lead"))
    return ReportModel(
        kind="patient",
        title=f"Your backward walking test – {name}",
        author=clinician or (clinic or "StepBack"),
        subject="3-meter backward walk test: your results and your safe starting program",
        file_stem=file_stem("patient", patient, assessment),
        header="",
        header_right="",
        footer=f"{name} · {clinic or 'StepBack'}",
        body_size=PATIENT_BODY_PT,
        blocks=tuple(blocks),
    )
