"""The falls-screening quality report as a PDF (reportlab platypus, DejaVu Sans).

The report is the plain data :class:`records.quality.QualityReport` holds
(read here by attribute, so ``reports`` does not import ``records``): the
CMS139 numbers, who is not yet screened, and the plan-of-care share. Every
text from a patient record is escaped before it reaches a Paragraph, so a
name is never read as markup.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "StepBackQualitySans"
FONT_BOLD = "StepBackQualitySans-Bold"
_FONTS = Path(__file__).parent / "fonts"


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(_FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONTS / "DejaVuSans-Bold.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=17, leading=21, spaceAfter=2 * mm),
        "h2": ParagraphStyle("h2", parent=body, fontName=FONT_BOLD, fontSize=12.5, leading=16,
                             spaceBefore=5 * mm, spaceAfter=2 * mm),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9.5, leading=12),
        "head": ParagraphStyle("head", parent=body, fontName=FONT_BOLD, fontSize=9.5, leading=12),
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#335577")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def quality_summary_rows(report: Any) -> list[tuple[str, str]]:
    """The summary lines of the report (label, value), as printed."""
    return [
        ("Patients 65 or older with a visit (denominator)", str(report.denominator)),
        ("Screened: a completed StepBack assessment in the period (numerator)", str(report.numerator)),
        ("Falls screening rate (CMS139)", _percent(report.rate)),
        ("Screened at risk (model category moderate or high)", str(report.plan_denominator)),
        ("… with a documented program (report printed)", str(report.plan_numerator)),
        ("Plan-of-care rate (MIPS #155)", _percent(report.plan_rate)),
    ]


def build_quality_pdf(report: Any, *, generated_on: date | None = None) -> bytes:
    """Render the falls-screening quality report.

    Parameters
    ----------
    report : records.quality.QualityReport
        Read by attribute: ``period_from``, ``period_to``, ``clinic``,
        ``denominator``, ``numerator``, ``rate``, ``not_screened`` (each with
        ``name``, ``mrn``, ``birth_date``, ``age``, ``last_visit``),
        ``plan_denominator``, ``plan_numerator``, ``plan_rate``,
        ``plan_missing``, ``unknown_visit_mrns``.
    generated_on : date, optional
        Printed in the header (default today).

    Returns
    -------
    bytes
        The PDF.
    """
    _register_fonts()
    s = _styles()
    scope = f"Patients of {escape(report.clinic)}" if report.clinic else "All patients"
    story: list[Any] = [
        Paragraph("Falls screening quality report", s["title"]),
        Paragraph(f"CMS139 Falls: Screening for Future Fall Risk · {report.period_from.isoformat()} to "
                  f"{report.period_to.isoformat()} · {scope} · printed {(generated_on or date.today()).isoformat()}",
                  s["small"]),
        Spacer(1, 4 * mm),
    ]
    summary = [[Paragraph(escape(label), s["cell"]), Paragraph(f"<b>{escape(value)}</b>", s["cell"])]
               for label, value in quality_summary_rows(report)]
    story.append(_table([[Paragraph("Measure", s["head"]), Paragraph("Value", s["head"])], *summary], [130 * mm, 35 * mm]))

    story.append(Paragraph(f"Not yet screened ({len(report.not_screened)})", s["h2"]))
    if report.not_screened:
        rows = [[Paragraph(h, s["head"]) for h in ("Name", "MRN", "Born", "Age", "Last visit")]]
        rows += [[Paragraph(escape(u.name), s["cell"]), Paragraph(escape(u.mrn), s["cell"]),
                  Paragraph(u.birth_date.isoformat(), s["cell"]), Paragraph(str(u.age), s["cell"]),
                  Paragraph(u.last_visit.isoformat(), s["cell"])] for u in report.not_screened]
        story.append(_table(rows, [62 * mm, 32 * mm, 25 * mm, 14 * mm, 25 * mm]))
    else:
        story.append(Paragraph("Every patient in the denominator was screened.", s["body"]))

    story.append(Paragraph(f"Screened at risk without a documented program ({len(report.plan_missing)})", s["h2"]))
    story.append(Paragraph(
        ", ".join(escape(m) for m in report.plan_missing) if report.plan_missing
        else "None: every patient screened at risk has a printed program.", s["body"]))

    story.append(Paragraph("How the numbers are counted", s["h2"]))
    notes = [
        "Denominator: patients aged 65 or older on the first day of the period with a visit in it: a StepBack "
        "assessment (final, or a test stopped before it was completed) or a row of the EHR visit list.",
        "Numerator: those with a completed final StepBack assessment in the period; each one is exported to FHIR "
        "with the falls-screening Observation LOINC 73830-2. A stopped test does not count; drafts never count.",
        "Plan of care: of the screened patients whose latest completed assessment in the period was at risk, those "
        "whose patient or clinician report (with the safe starting program) was printed for that assessment.",
    ]
    if report.unknown_visit_mrns:
        notes.append(f"{len(report.unknown_visit_mrns)} MRN(s) of the visit list are not StepBack patients in this "
                     "scope and were not counted.")
    story += [Paragraph(escape(n), s["small"]) for n in notes]

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title="Falls screening quality report", author="StepBack")
    doc.build(story)
    return buffer.getvalue()
