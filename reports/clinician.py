"""The clinician report: everything behind the result, for the clinical record.

Patient identifiers head every page (name, birth date, MRN) with "page X of
Y"; each trial with its timing source and validity; protocol variant,
population, reference cohort, percentile and z; cut-off band and cut-offs;
model probability with its interval, category and version; STEADI items;
change against the previous assessment with the MDC95; a trend chart of every
assessment with the cut-off lines; the program tier and its reasons; the
clinician; and a disclaimer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assessment import StartConvention, get_population, populations
from assessment.scoring import classify_change
from assessment.program import SAFETY_SCREEN_KEYS, SAFETY_SCREEN_QUESTIONS, Program
from assessment.protocol import CAMERA_NOTES, START_TIMING, STOP_REASON_TEXT, StopReason, camera_rule

from .model import Heading, Letterhead, Paragraph, ReportModel, Table, TrendChart, TrendPoint
from .patient import file_stem
from .text import full_name, iso, num, pct, seconds, words, yes_no

#: Body text size of the clinician report, points.
CLINICIAN_BODY_PT = 9.0

DISCLAIMER = (
    "This report supports, and does not replace, clinical judgement. The 3MBW discriminates fallers only "
    "modestly (AUC 0.65–0.75 across studies, clinical-evidence.md §2); no probability here is more certain "
    "than that evidence."
)

_STEADI_NAMES = {
    "stay_independent": "Stay Independent brochure (points)",
    "tug_seconds": "Timed Up and Go (s)",
    "chair_stand_count": "30-s chair stand (stands)",
    "tandem_seconds": "4-stage balance: tandem stance (s)",
}
_LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "zh-Hans": "Chinese (Simplified)"}
_CHANGE_NAMES = {"improved": "improved (beyond MDC95)", "worse": "worse (beyond MDC95)",
                 "no_real_change": "no real change (within MDC95)"}


def _kv(title: str, pairs: Sequence[tuple[str, str]]) -> Table:
    return Table((title, ""), tuple((k, v) for k, v in pairs), (0.3, 0.7))


#: The model's category thresholds in words (keys as the model stores them).
_THRESHOLD_WORDS = {"low_below": "low below {}", "high_at_or_above": "high at or above {}",
                    "moderate": "moderate from {}", "high": "high from {}"}
#: The model is a 12-month model (models/card.md: "at least one fall in the next 12 months").
HORIZON = "a fall in the next 12 months"
LIMITATIONS = (
    "The 3MBW discriminates fallers only modestly (AUC 0.65–0.75 across studies, clinical-evidence.md §2).",
    "Percentiles compare with the named cohort only; the cut-offs come from the cited studies and "
    "populations and may not transfer to this patient.",
    "The model probability is an estimate with the interval shown; it does not replace clinical judgement.",
)


def _thresholds(value: Any) -> str:
    """The category thresholds as words and percentages, never as field names."""
    if not value:
        return "—"
    if isinstance(value, Mapping):
        parts = []
        for key, v in value.items():
            text = pct(v, 1) if isinstance(v, (int, float)) else str(v)
            parts.append(_THRESHOLD_WORDS.get(key, words(key) + " {}").format(text))
        return "; ".join(parts)
    if isinstance(value, (list, tuple)):
        return ", ".join(pct(v, 1) if isinstance(v, (int, float)) else str(v) for v in value)
    return str(value)


def _model_inputs(assessment: Mapping[str, Any], score: Mapping[str, Any]) -> str:
    """The model inputs that were known for this assessment."""
    known = []
    if assessment.get("prior_falls") is not None:
        known.append(f"prior falls ({assessment['prior_falls']})")
    if assessment.get("walking_aid") is not None:
        known.append(f"walking aid ({yes_no(assessment['walking_aid'])})")
    if score.get("steadi"):
        known.append("STEADI items")
    if assessment.get("sex"):
        known.append(f"sex ({assessment['sex']})")
    if assessment.get("age") is not None:
        known.append(f"age ({assessment['age']})")
    return ", ".join(["3MBW mean time"] + known)


def _change_text(change: float | None, mdc: float | None) -> str:
    """A change in seconds judged as the scoring judges it (:func:`assessment.scoring.classify_change`)."""
    if change is None:
        return "—"
    if mdc is None:
        return f"{change:+.2f} s (no MDC95 published: cannot be judged)"
    real = classify_change(change, mdc) != "no_real_change"
    return f"{change:+.2f} s ({'at or beyond' if real else 'within'} the MDC95 of {mdc:.2f} s)"


def _mdc95(score: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """The MDC95 the change is judged against: the score's, else the population's (published or derived)."""
    if score.get("mdc95") is not None:
        return score["mdc95"], score.get("mdc95_kind")
    population = populations().get(score.get("population"))
    if population is None or population.mdc95_seconds is None:
        return None, None
    return round(population.mdc95_seconds, 3), population.mdc95_kind


def _population(score: Mapping[str, Any], patient: Mapping[str, Any]) -> tuple[str, str]:
    pid = score.get("population") or patient.get("population") or "community"
    try:
        pop = get_population(pid)
    except KeyError:
        return pid, pid
    return pid, f"{pop.label} ({pop.description})"


def _trend_points(history: Sequence[Mapping[str, Any]], assessment: Mapping[str, Any], mean: float | None) -> tuple[TrendPoint, ...]:
    """The assessments up to and including this one (a reprint for an earlier date shows no later ones)."""
    current_date = iso(assessment.get("assessed_on"))
    points = []
    seen_current = False
    for h in sorted(history, key=lambda h: (iso(h.get("assessed_on")), int(h.get("version") or 1))):
        if h.get("mean_seconds") is None or iso(h.get("assessed_on")) == "—":
            continue
        if current_date != "—" and iso(h.get("assessed_on")) > current_date:
            continue
        is_current = iso(h.get("assessed_on")) == current_date and mean is not None and abs(h["mean_seconds"] - mean) < 1e-6
        seen_current |= is_current
        points.append(TrendPoint(iso(h.get("assessed_on")), float(h["mean_seconds"]),
                                 f"v{h.get('version', 1)}", bool(h.get("amended")), is_current))
    if not seen_current and mean is not None and current_date != "—":
        points.append(TrendPoint(current_date, float(mean), f"v{assessment.get('version', 1)}",
                                 int(assessment.get("version") or 1) > 1, True))
    return tuple(sorted(points, key=lambda p: p.assessed_on))


def _camera_lines(trials: Sequence[Mapping[str, Any]], start: str) -> list[Paragraph]:
    """Under the trials table, when the camera timed any walk beside the stopwatch: what the
    camera time measures, then each such walk's stopwatch and camera time and the scored one."""
    timed = [(i, t) for i, t in enumerate(trials, start=1) if t.get("camera_seconds") is not None or t.get("camera_note")]
    if not timed:
        return []
    try:
        rule = camera_rule(start)
    except ValueError:
        rule = "—"
    lines = []
    for i, t in timed:
        stopwatch = t.get("stopwatch_seconds") if t.get("timing_source") == "camera" else t.get("seconds")
        if t.get("camera_seconds") is None:
            note = t.get("camera_note")
            lines.append(f"Walk {i}: stopwatch {seconds(stopwatch)}; camera: not timed "
                         f"({CAMERA_NOTES.get(note, words(note)).lower()}).")
            continue
        diff = "" if stopwatch is None else f" (difference {t['camera_seconds'] - stopwatch:+.2f} s)"
        lines.append(f"Walk {i}: stopwatch {seconds(stopwatch)}, camera {seconds(t['camera_seconds'])}{diff}; "
                     f"scored: {words(t.get('timing_source') or 'stopwatch')}.")
    return [Paragraph(f"{rule} The stopwatch time is scored unless the clinician chose the camera time.", "note"),
            *(Paragraph(line, "note") for line in lines)]


def build_clinician_report(
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
    """Build the clinician report as data (always in English: a chart note).

    Parameters
    ----------
    patient : Mapping
        mrn, given_name, family_name, birth_date, sex, population.
    assessment : Mapping
        id, version, assessed_on, clinician, start, footwear,
        assistive_device, trials (dicts: seconds, timing_source, valid,
        invalid_reason, loss_of_balance, hands_on_assistance, steps) and score
        (``ScoreResult.to_dict()``).
    risk : Mapping or None
        probability, probability_low, probability_high, risk_category,
        model_version, thresholds, note; None when the model has no
        probability for the population.
    program : Program
        From :func:`assessment.program.build_program`.
    history : sequence of Mapping
        Every assessment of the patient (assessed_on, mean_seconds, version,
        amended) for the trend chart; the current one is added if missing.
    clinic : str, optional
        Clinic name for the footer.
    clinic_phone : str, optional
        Clinic phone, printed beside the clinic's name.
    clinic_address : str, optional
        Clinic address, printed under the clinic's name at the top.
    clinic_logo : bytes, optional
        The clinic's logo (PNG/JPEG), printed beside its name at the top.
    language : str
        The patient's handout language (printed, the note stays English).

    Returns
    -------
    ReportModel
    """
    name = full_name(patient)
    score = assessment.get("score") or {}
    mrn = str(patient.get("mrn") or "—")
    birth = iso(patient.get("birth_date"))
    pid, pop_text = _population(score, patient)
    version = int(assessment.get("version") or 1)
    amended = version > 1 or bool(assessment.get("amended"))
    clinician = (assessment.get("clinician") or "").strip() or "—"
    blocks: list = [*Letterhead.of_clinic(clinic, clinic_phone, clinic_address, clinic_logo, beside=(
        Heading("3-meter backward walk test (3MBW): clinical record", level=1),))]

    blocks.append(_kv("Patient", (
        ("Name", name),
        ("Birth date", birth),
        ("Sex", str(patient.get("sex") or "not recorded")),
        ("MRN", mrn),
        ("Population", pop_text),
        ("Handout language", _LANGUAGE_NAMES.get(language, language)),
    )))
    start = assessment.get("start") or "standing"
    try:
        timing = START_TIMING[StartConvention(start)]
    except ValueError:
        timing = "—"
    stop = score.get("stop_reason") or assessment.get("stop_reason")
    try:
        stop_text = STOP_REASON_TEXT[StopReason(stop)] if stop else "none"
    except ValueError:
        stop_text = words(stop)
    practice = assessment.get("practice_walk_done")
    blocks.append(_kv("Assessment and protocol", (
        ("Assessed on", iso(assessment.get("assessed_on"))),
        ("Assessment", f"{assessment.get('id', '—')}, version {version}{' (amended)' if amended else ''}"),
        ("Tester", clinician),
        ("Clinic", " · ".join(t for t in (clinic, clinic_address, clinic_phone) if t) or "—"),
        ("Protocol and start convention", f"3MBW, {start} start: {timing}"),
        ("Practice walk", "not recorded" if practice is None else ("done" if practice else "not done")),
        ("Footwear", words(assessment.get("footwear")) if assessment.get("footwear") else "not recorded"),
        ("Assistive device", words(assessment.get("assistive_device") or "none")),
        ("Scoring rule", score.get("scoring_rule") or "—"),
        ("Stop rule applied", stop_text),
    )))

    blocks.append(Heading("Safety screen and fall history"))
    screen = assessment.get("safety_screen") or {}
    if screen:
        blocks.append(Table(("Question", "Answer"), tuple(
            (SAFETY_SCREEN_QUESTIONS[k], yes_no(screen.get(k))) for k in SAFETY_SCREEN_KEYS if k in screen
        ), (0.8, 0.2)))
    else:
        blocks.append(Paragraph("Safety screen not recorded.", "note"))
    falls = assessment.get("prior_falls")
    aid = assessment.get("walking_aid")
    blocks.append(_kv("History", (
        ("Prior falls (as reported)", "not recorded" if falls is None else str(falls)),
        ("Walking aid", "not recorded" if aid is None else yes_no(aid)),
    )))

    blocks.append(Heading("Trials"))
    trial_rows = tuple(
        (
            str(i),
            seconds(t.get("seconds")),
            words(t.get("timing_source") or "stopwatch"),
            "valid" if t.get("valid", True) else f"invalid: {t.get('invalid_reason') or '—'}",
            yes_no(t.get("loss_of_balance", False)),
            yes_no(t.get("hands_on_assistance", False)),
            "—" if t.get("steps") is None else str(t["steps"]),
        )
        for i, t in enumerate(assessment.get("trials") or (), start=1)
    )
    if trial_rows:
        blocks.append(Table(("#", "Time", "Timing source", "Validity", "Loss of balance", "Hands-on help", "Steps"),
                            trial_rows, (0.05, 0.1, 0.14, 0.33, 0.14, 0.14, 0.1)))
    else:
        blocks.append(Paragraph("No timed trial recorded."))
    blocks.extend(_camera_lines(assessment.get("trials") or (), start))

    blocks.append(Heading("Result"))
    blocks.append(_kv("3MBW", (
        ("Mean time", seconds(score.get("mean_seconds"))),
        ("Speed", "—" if score.get("speed_m_per_s") is None else f"{score['speed_m_per_s']:.2f} m/s"),
        ("Valid timed trials", str(score.get("valid_trials", "—"))),
        ("Population", pop_text),
        ("Cut-off band", score.get("band_label") or "—"),
        ("Reference cohort", score.get("reference_cohort_label") or "none published for this population"),
        ("Percentile", "—" if score.get("percentile") is None else
         f"{score['percentile']:.1f} (% of the reference cohort with a time at or below this one; higher = slower)"),
        ("z (log-normal)", num(score.get("z"))),
    )))
    cut_rows = tuple(
        (
            f"{c['side']} {c['seconds']:g} s",
            c["purpose"] + ("" if c.get("verified", True) else " [unverified]"),
            yes_no(c.get("met")),
            f"{pct(c.get('sensitivity'))} / {pct(c.get('specificity'))}",
            num(c.get("auc"), 3),
            c.get("source") or "—",
        )
        for c in score.get("cutoffs") or ()
    )
    if cut_rows:
        blocks.append(Table(("Cut-off", "Purpose", "Met", "Sens / spec", "AUC", "Source"), cut_rows,
                            (0.1, 0.36, 0.06, 0.14, 0.08, 0.26)))
    else:
        blocks.append(Paragraph("No published fall cut-off for this population.", "note"))

    blocks.append(Heading("Fall-risk model"))
    if risk and risk.get("probability") is not None:
        interval = ""
        if risk.get("probability_low") is not None and risk.get("probability_high") is not None:
            interval = f" (interval {pct(risk['probability_low'])} to {pct(risk['probability_high'])})"
        blocks.append(_kv("Model", (
            ("Probability", f"{pct(risk['probability'])}{interval} of {HORIZON}"),
            ("Horizon", "the next 12 months"),
            ("Risk category", words(risk.get("risk_category"))),
            ("Category thresholds", _thresholds(risk.get("thresholds"))),
            ("Model version", str(risk.get("model_version") or "—")),
            ("Inputs used", _model_inputs(assessment, score)),
            ("Note", str(risk.get("note") or "—")),
        )))
    else:
        note = (risk or {}).get("note") or "The model gives no probability for this population."
        blocks.append(Paragraph(f"No model probability: {note} The program weighs the 3MBW band, cut-offs and the other signals.", "note"))

    blocks.append(Heading("CDC STEADI items"))
    steadi = score.get("steadi") or ()
    if steadi:
        blocks.append(Table(("Item", "Value", "At risk", "Rule"), tuple(
            (_STEADI_NAMES.get(s["item"], words(s["item"])), f"{s['value']:g}",
             "not judged" if s.get("at_risk") is None else yes_no(s["at_risk"]), s.get("rule") or "—")
            for s in steadi
        ), (0.3, 0.1, 0.12, 0.48)))
    else:
        blocks.append(Paragraph("No STEADI item recorded.", "note"))

    blocks.append(Heading("Change against the previous and the first assessment"))
    mdc, mdc_kind = _mdc95(score)
    points = _trend_points(history, assessment, score.get("mean_seconds"))
    first = points[0] if points and not points[0].current else None
    if score.get("previous_seconds") is not None or first is not None:
        mean = score.get("mean_seconds")
        from_first = None if first is None or mean is None else mean - first.seconds
        blocks.append(_kv("Change", (
            ("Previous mean time", seconds(score.get("previous_seconds"))),
            ("Change from the previous", _change_text(score.get("change_seconds"), mdc)),
            ("First assessment", "—" if first is None else f"{first.assessed_on}: {seconds(first.seconds)}"),
            ("Change from the first", _change_text(from_first, mdc)),
            ("MDC95", "not published" if mdc is None else f"{mdc:.2f} s ({mdc_kind or '—'})"),
            ("Interpretation", _CHANGE_NAMES.get(score.get("change"), "cannot be judged (no MDC95)")),
            ("Note", score.get("change_note") or "—"),
        )))
    else:
        blocks.append(Paragraph("No previous assessment to compare with.", "note"))

    cutoffs = tuple((float(c["seconds"]), f"{c['side']} {c['seconds']:g} s") for c in score.get("cutoffs") or ())
    blocks.append(Heading("Trend"))
    previous = score.get("previous_seconds")
    band = None if mdc is None or previous is None else (previous - mdc, previous + mdc)
    blocks.append(TrendChart(f"3MBW mean time, {len(points)} assessment{'s' if len(points) != 1 else ''}",
                             points, cutoffs, band, "previous ± MDC95" if band else ""))
    if points:
        blocks.append(Table(("Date", "Mean time", "Version", "Amended"), tuple(
            (p.assessed_on, seconds(p.seconds), p.label, yes_no(p.amended)) for p in points
        ), (0.25, 0.25, 0.25, 0.25)))

    flags = score.get("flags") or ()
    if flags:
        blocks.append(Heading("Flags"))
        blocks += [Paragraph(f"• {f}") for f in flags]

    blocks.append(Heading("Safe starting program"))
    blocks.append(_kv("Program", (
        ("Tier", program.tier_label),
        ("Supervised only", yes_no(program.supervised)),
        ("Risk level (all signals)", words(program.risk_level)),
        ("Reassess on", iso(program.reassess_on)),
    )))
    blocks.append(Heading("Why this program"))
    blocks.append(Paragraph("Every signal and what it forced; the strictest decides.", "note"))
    blocks += [Paragraph(f"• {r}") for r in program.why]
    blocks.append(Table(("Week", "Min", "×/wk", "Surface", "Support", "Progress"), tuple(
        (str(w.week), str(w.minutes_per_session), str(w.sessions_per_week), w.surface, w.support, w.progress_rule)
        for w in program.weeks
    ), (0.07, 0.07, 0.07, 0.27, 0.25, 0.27)))
    blocks.append(Paragraph("Stop rules: " + "; ".join(r.text.lower() for r in program.stop_rules) + ".", "small"))

    blocks.append(Heading("Limitations"))
    blocks += [Paragraph(f"• {text}", "small") for text in LIMITATIONS]
    blocks.append(Heading("Sign-off"))
    blocks.append(Paragraph(f"Clinician: {clinician}"))
    blocks.append(Paragraph(DISCLAIMER, "warning"))
    return ReportModel(
        kind="clinician",
        title=f"3MBW clinical record – {name} – {iso(assessment.get('assessed_on'))}",
        author=clinician if clinician != "—" else (clinic or "StepBack"),
        subject=f"3-meter backward walk test, fall-risk screening ({pid})",
        file_stem=file_stem("clinician", patient, assessment),
        header=name,
        header_right=f"born {birth} · MRN {mrn}",
        footer=f"StepBack 3MBW clinical record · {clinic or '—'} · assessment {assessment.get('id', '—')} v{version}",
        body_size=CLINICIAN_BODY_PT,
        blocks=tuple(blocks),
    )
