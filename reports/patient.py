"""The patient handout: plain language, large type, 1–2 pages, in the patient's language.

What we measured, what it means (in words, no z-scores), the program week
by week, why this program, safety rules with pictograms, when to stop and
call the clinic (its name and phone), and the next check. A patient whose
program is supervised is told, in so many words, to practise only with
their physical therapist. Every sentence comes from the gettext catalog of
the language (:mod:`reports.i18n`); the program's own texts (weeks, rules)
are translated through the same catalog, keyed by their English text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from assessment.program import Program

from .i18n import N_, check_language, ngettext, translator
from .model import Heading, IconItem, IconList, Letterhead, Paragraph, ReportModel, Table
from .text import as_date, full_name

#: Body text size of the patient report, points (issue #4: at least 14 pt).
PATIENT_BODY_PT = 14.5

#: The patient-facing risk message for each key of :func:`risk_message_key`: one per level of
#: the program decision (``Program.risk_level``), which also sets the program, so the message,
#: the band and the program never contradict.
RISK_MESSAGES = {
    "stopped": N_("We stopped the walk early to keep you safe, so there is no time for this visit. "
                  "That is all right: your program starts with a physical therapist."),
    "risk_high": N_("Your results point to a higher chance of falling."),
    "risk_moderate": N_("Some of your results point to a raised chance of falling."),
    "risk_low": N_("Your walking time is in the range linked with a lower chance of falling. "
                   "Staying active helps keep it that way."),
    "no_guide": N_("There is no published guide for this test in your group, so your clinician will explain "
                   "what your time means for you."),
}
#: Added when the decision rests on other signals because the walking time has no band.
NO_BAND_NOTE = N_("There is no published guide for the walking time alone in your group; "
                  "your clinician will explain what it means for you.")
_CHANGE_WORDS = {
    "improved": N_("You were faster than last time, by more than the usual day-to-day difference."),
    "worse": N_("You were slower than last time, by more than the usual day-to-day difference."),
    "no_real_change": N_("Your time is about the same as last time."),
}


def file_stem(kind: str, patient: Mapping[str, Any], assessment: Mapping[str, Any]) -> str:
    """A safe file name such as ``patient-MRN123-2025-03-10-a17-v1``."""
    raw = f"{kind}-{patient.get('mrn', '')}-{assessment.get('assessed_on', '')}-{assessment.get('id', '')}-v{assessment.get('version', 1)}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw)[:120]


def risk_message_key(score: Mapping[str, Any], risk_level: str) -> str:
    """The one place that chooses the handout's risk message: a key of :data:`RISK_MESSAGES`.

    Parameters
    ----------
    score : Mapping
        ``ScoreResult.to_dict()``.
    risk_level : str
        The program decision's (:attr:`assessment.program.Program.risk_level`), never
        the model's category alone: a walk in a high band or past a faller
        cut-off is never told "a lower chance of falling".

    Returns
    -------
    str
    """
    if score.get("mean_seconds") is None:
        return "stopped"
    if risk_level in ("high", "moderate", "low"):
        return f"risk_{risk_level}"
    return "no_guide"


def meaning(score: Mapping[str, Any], risk_level: str, language: str = "en") -> list[str]:
    """Plain-language sentences for what the result means, in ``language``."""
    _ = translator(language)
    key = risk_message_key(score, risk_level)
    out = [_(RISK_MESSAGES[key])]
    if key.startswith("risk_") and score.get("band") is None:
        out.append(_(NO_BAND_NOTE))
    if score.get("change") in _CHANGE_WORDS:
        out.append(_(_CHANGE_WORDS[score["change"]]))
    out.append(_("This test is one piece of the picture. It cannot say for sure whether you will fall."))
    return out


def long_date(value: Any, language: str) -> str:
    """A long date in ``language`` ('10 March 2025', '10 de marzo de 2025', '2025年3月10日')."""
    from babel.dates import format_date

    d = as_date(value)
    if d is None:
        return "—"
    if language == "en":
        return format_date(d, "d MMMM y", locale="en")
    return format_date(d, "long", locale={"es": "es", "zh-Hans": "zh_Hans"}[language])


def week_table(program: Program, language: str = "en") -> list:
    """Where to practise (said once, and again when it changes) and the weeks as a table."""
    _ = translator(language)
    first = program.weeks[0]
    out = [Paragraph(_("Where and how: {surface}. {support}.").format(surface=_(first.surface),
                                                                       support=_(first.support)))]
    rows = []
    changes = []
    where = (first.surface, first.support)
    for w in program.weeks:
        if (w.surface, w.support) != where:
            where = (w.surface, w.support)
            changes.append(Paragraph(_("From week {week}: {surface}. {support}.").format(
                week=w.week, surface=_(w.surface), support=_(w.support))))
        dose = _("{minutes} minutes, {times} times a week.").format(minutes=w.minutes_per_session,
                                                                    times=w.sessions_per_week)
        rule = _(w.progress_rule) + _(".")
        if rows and rows[-1][1:] == (dose, rule):  # the same week again: one row "3–4"
            rows[-1] = (f"{rows[-1][0].split('–')[0]}–{w.week}", dose, rule)
        else:
            rows.append((str(w.week), dose, rule))
    out.append(Table((_("Week"), _("What to do"), _("Next step")), tuple(rows), (0.17, 0.33, 0.5)))
    return out + changes


def build_patient_report(
    *,
    patient: Mapping[str, Any],
    assessment: Mapping[str, Any],
    risk: Mapping[str, Any] | None,
    program: Program,
    history: Sequence[Mapping[str, Any]] = (),
    clinic: str | None = None,
    clinic_phone: str | None = None,
    clinic_address: str | None = None,
    clinic_logo: bytes | None = None,
    language: str = "en",
) -> ReportModel:
    """Build the plain-language patient handout as data.

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
        Clinic name, used in "stop and call".
    clinic_phone : str, optional
        Clinic phone number, printed beside the name in "stop and call".
    clinic_address : str, optional
        Clinic address, printed with its name and phone at the end (every word of the handout is 14 pt or more).
    clinic_logo : bytes, optional
        The clinic's logo (PNG/JPEG), printed beside the title.
    language : str
        One of :data:`reports.i18n.LANGUAGES`.

    Returns
    -------
    ReportModel
    """
    del history  # the trend is for the clinician report
    language = check_language(language)
    _ = translator(language)
    name = full_name(patient)
    score = assessment.get("score") or {}
    clinic_name = (clinic or "").strip() or _("your clinic")
    blocks: list = [
        *Letterhead.of_clinic(clinic, logo=clinic_logo, text=False, beside=(
            Heading(_("Your backward walking test"), level=1),
            Paragraph(f"{name}, {long_date(assessment.get('assessed_on'), language)}", "lead"),
        )),
        Heading(_("What we measured")),
        Paragraph(_("You walked backwards for 3 metres, as quickly as you safely could, "
                    "with one of us beside you. We timed each walk.")),
    ]
    mean = score.get("mean_seconds")
    if mean is not None:
        n = score.get("valid_trials") or 0
        text = ngettext(language, "Your time: {mean} seconds on average ({n} walk).",
                                     "Your time: {mean} seconds on average ({n} walks).", n)
        blocks.append(Paragraph(text.format(mean=f"{mean:.1f}", n=n), "lead"))
    blocks.append(Heading(_("What it means")))
    blocks.append(Paragraph(" ".join(meaning(score, program.risk_level, language))))

    blocks.append(Heading(_("Your walking program")))
    blocks.append(Paragraph(_(program.plain_label) + _("."), "lead"))
    if program.supervised:
        blocks.append(Paragraph(_("Do not practise walking backwards at home on your own. "
                                  "Practise only with your physical therapist."), "warning"))
    if program.plain_why:
        blocks.append(Heading(_("Why this program")))
        blocks.append(Paragraph(_("Because:") + " " + "; ".join(_(w) for w in program.plain_why) + _(".")))
    blocks.append(IconList((IconItem("calendar", _("Your next test: {date}. Please bring this sheet.").format(
        date=long_date(program.reassess_on, language))),)))
    blocks += week_table(program, language)

    blocks.append(Heading(_("Stay safe")))
    blocks.append(IconList(tuple(IconItem(r.icon, _(r.text) + _(".")) for r in program.safety_rules)))
    blocks.append(Heading(_("Stop straight away and call us")))
    clinician = (assessment.get("clinician") or "").strip()
    who = f"{clinic_name} ({clinician})" if clinician else clinic_name
    phone = (clinic_phone or "").strip()
    if phone:
        blocks.append(Paragraph(_("Stop, sit down and call {who} on {phone} if:").format(who=who, phone=phone)))
    else:
        blocks.append(Paragraph(_("Stop, sit down and call {who} if:").format(who=who)))
    blocks.append(IconList(tuple(IconItem(r.icon, _(r.text) + _(".")) for r in program.stop_rules)))
    blocks.append(Paragraph(_("If you fall and are hurt, or cannot get up, call for emergency help."), "lead"))
    address = (clinic_address or "").strip()
    if address and (clinic or "").strip():
        blocks.append(Paragraph(f"{clinic.strip()} · {address}" + (f" · {phone}" if phone else "")))
    return ReportModel(
        kind="patient",
        title=_("Your backward walking test") + f" – {name}",
        author=clinician or (clinic or "StepBack"),
        subject=_("3-meter backward walk test: your results and your safe starting program"),
        file_stem=file_stem("patient", patient, assessment),
        header="",
        header_right="",
        footer=" · ".join(t for t in (name, clinic or "StepBack", phone) if t),
        body_size=PATIENT_BODY_PT,
        blocks=tuple(blocks),
        language=language,
        page_label=_("Page {page} of"),
    )

