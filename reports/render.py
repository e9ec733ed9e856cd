"""Render a :class:`~reports.model.ReportModel` to PDF bytes with reportlab.

The only module (with :mod:`reports.chart` and :mod:`reports.icons`) that
touches reportlab. Output is deterministic for the same model: the document
is built in reportlab's invariant mode (fixed dates and IDs), so golden tests
can hash the bytes. Text uses the bundled DejaVu Sans TrueType fonts (Latin,
Greek, Cyrillic), embedded in every PDF.
"""

from __future__ import annotations

import functools
import io
from importlib import resources
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Spacer, TableStyle
from reportlab.platypus import Table as RLTable

from .chart import trend_drawing
from .icons import icon
from .model import Heading, IconList, Paragraph, ReportModel, Table, TrendChart

FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
INK = colors.HexColor("#111111")
BLUE = colors.HexColor("#0b3d91")
RED = colors.HexColor("#b00020")
PALE = colors.HexColor("#eef2f8")
MARGIN = 18 * mm
#: Room above the text for a running header of up to two lines, points.
HEADER_SPACE = 22


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register the bundled DejaVu Sans fonts once per process; return (regular, bold)."""
    fonts = resources.files("reports.fonts")
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        with resources.as_file(fonts.joinpath(file)) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    return FONT, BOLD


class _Styles:
    """Paragraph styles scaled from the model's body size."""

    def __init__(self, body: float, patient: bool) -> None:
        lead = 1.28 if patient else 1.25
        self.body = ParagraphStyle("body", fontName=FONT, fontSize=body, leading=body * lead, textColor=INK,
                                   alignment=TA_LEFT, spaceAfter=body * 0.45)
        small = body if patient else body - 1
        self.small = ParagraphStyle("small", parent=self.body, fontSize=small, leading=small * lead)
        self.note = ParagraphStyle("note", parent=self.small, textColor=colors.HexColor("#333333"))
        self.lead = ParagraphStyle("lead", parent=self.body, fontName=BOLD)
        self.warning = ParagraphStyle("warning", parent=self.body, fontName=BOLD, textColor=RED,
                                      borderColor=RED, borderWidth=1.2, borderPadding=6, spaceBefore=6, spaceAfter=12)
        h1 = body * (1.45 if patient else 1.6)
        h2 = body * (1.2 if patient else 1.25)
        self.h1 = ParagraphStyle("h1", parent=self.body, fontName=BOLD, fontSize=h1, leading=h1 * 1.2,
                                 textColor=BLUE, spaceAfter=body * 0.6)
        self.h2 = ParagraphStyle("h2", parent=self.body, fontName=BOLD, fontSize=h2, leading=h2 * 1.25,
                                 textColor=BLUE, spaceBefore=body * (0.5 if patient else 0.7), spaceAfter=body * 0.3,
                                 keepWithNext=1)
        cell = body if patient else body - 1
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=cell, leading=cell * 1.2, spaceAfter=0)
        self.head_cell = ParagraphStyle("head_cell", parent=self.cell, fontName=BOLD,
                                        textColor=colors.white if patient else INK)

    def by_name(self, name: str) -> ParagraphStyle:
        return getattr(self, name, self.body)


def _p(text: str, style: ParagraphStyle) -> RLParagraph:
    return RLParagraph(escape(text).replace("\n", "<br/>"), style)


def _fit(text: str, font: str, size: float, width: float, min_size: float) -> tuple[str, float]:
    """Shrink ``text`` to ``width`` (down to ``min_size``), then truncate with an ellipsis."""
    while size > min_size and stringWidth(text, font, size) > width:
        size -= 0.5
    while stringWidth(text, font, size) > width and len(text) > 2:
        text = text[:-2] + "…"
    return text, size


def _cell(text: str, style: ParagraphStyle, room: float) -> str:
    """Cell text wrapped to ``room`` points with ``simpleSplit``; the table draws the lines itself.

    Plain (multi-line) strings are several times faster than a Paragraph per cell.
    """
    if "\n" not in text and stringWidth(text, style.fontName, style.fontSize) <= room:
        return text
    lines = []
    for part in text.split("\n"):
        for line in simpleSplit(part, style.fontName, style.fontSize, room) or [""]:
            while stringWidth(line, style.fontName, style.fontSize) > room and len(line) > 1:  # a word too long
                cut = len(line) - 1
                while cut > 1 and stringWidth(line[:cut], style.fontName, style.fontSize) > room:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
            lines.append(line)
    return "\n".join(lines)


def _table(block: Table, styles: _Styles, width: float, patient: bool) -> RLTable:
    n = len(block.header)
    fractions = block.widths or tuple(1.0 / n for _ in range(n))
    col_widths = [width * f for f in fractions]
    pad = 5 if patient else 3
    rooms = [w - 2 * pad - 1 for w in col_widths]
    data = [[_cell(h, styles.head_cell, r) for h, r in zip(block.header, rooms)]]
    data += [[_cell(cell, styles.cell, r) for cell, r in zip(row, rooms)] for row in block.rows]
    table = RLTable(data, colWidths=col_widths, repeatRows=1, hAlign="LEFT")
    commands = [
        ("FONT", (0, 0), (-1, -1), FONT, styles.cell.fontSize, styles.cell.leading),
        ("FONT", (0, 0), (-1, 0), BOLD, styles.cell.fontSize, styles.cell.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("TEXTCOLOR", (0, 0), (-1, 0), styles.head_cell.textColor),
        ("GRID", (0, 0), (-1, -1), 0.8 if patient else 0.4, INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), pad),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("BACKGROUND", (0, 0), (-1, 0), BLUE if patient else colors.HexColor("#dde3ee")),
    ]
    if not patient:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f5f5")]))
    table.setStyle(TableStyle(commands))
    return table


def _icon_list(block: IconList, styles: _Styles, width: float, patient: bool) -> RLTable:
    size = 28 if patient else 20
    data = [[icon(item.icon, size), _p(item.text, styles.body)] for item in block.items]
    table = RLTable(data, colWidths=[size + 12, width - size - 12], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, styles.body.fontSize),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def flowables(model: ReportModel, width: float) -> list:
    """The platypus flowables for ``model`` at a text width of ``width`` points."""
    register_fonts()
    patient = model.kind == "patient"
    styles = _Styles(model.body_size, patient)
    out: list = []
    for block in model.blocks:
        if isinstance(block, Heading):
            out.append(_p(block.text, styles.h1 if block.level == 1 else styles.h2))
        elif isinstance(block, Paragraph):
            out.append(_p(block.text, styles.by_name(block.style)))
        elif isinstance(block, Table):
            out.append(_table(block, styles, width, patient))
            out.append(Spacer(1, model.body_size * 0.5))
        elif isinstance(block, IconList):
            out.append(_icon_list(block, styles, width, patient))
            out.append(Spacer(1, model.body_size * 0.4))
        elif isinstance(block, TrendChart):
            out.append(trend_drawing(block, width, 190, FONT, BOLD))
            out.append(Spacer(1, model.body_size * 0.5))
        else:  # pragma: no cover - the model's Block union is closed
            raise TypeError(f"unknown report block {type(block).__name__}")
    return out


def width_of(canvas: Canvas) -> float:
    """Page width of ``canvas``, points."""
    return canvas._pagesize[0]


def _canvas_maker(model: ReportModel):
    """A Canvas class that draws the header and "page X of Y" once the page count is known."""
    patient = model.kind == "patient"
    size = model.body_size if patient else 8.0

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab API
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._furniture(number, total)
                super().showPage()
            super().save()

        def _header(self, left: str, right: str, usable: float, height: float) -> None:
            """One line when it fits; else the left part on line 1 and the right part on line 2."""
            one_line = f"{left} · {right}" if right else left
            base = height - MARGIN + 4
            if stringWidth(one_line, BOLD, size) <= usable:
                self.setFont(BOLD, size)
                self.drawString(MARGIN, base, one_line)
            else:
                text, fsize = _fit(left, BOLD, size, usable, 6.5)
                self.setFont(BOLD, fsize)
                self.drawString(MARGIN, base + size + 2, text)
                text, fsize = _fit(right, BOLD, size, usable, 6.5)
                self.setFont(BOLD, fsize)
                self.drawString(MARGIN, base, text)
            self.setStrokeColor(BLUE)
            self.setLineWidth(0.8)
            self.line(MARGIN, base - 4, width_of(self) - MARGIN, base - 4)

        def _furniture(self, number: int, total: int) -> None:
            width, height = self._pagesize
            usable = width - 2 * MARGIN
            self.setFillColor(INK)
            if model.header:
                self._header(model.header, model.header_right, usable, height)
            page = f"page {number} of {total}" if not patient else f"Page {number} of {total}"
            page_w = stringWidth(page, FONT, size)
            self.setFont(FONT, size)
            self.drawRightString(width - MARGIN, MARGIN - size - 4, page)
            if model.footer:
                text, fsize = _fit(model.footer, FONT, size, usable - page_w - 12, size if patient else 6.0)
                self.setFont(FONT, fsize)
                self.drawString(MARGIN, MARGIN - size - 4, text)

    return NumberedCanvas


def render_pdf(model: ReportModel) -> bytes:
    """Render ``model`` to PDF bytes (A4, fonts embedded, deterministic).

    Parameters
    ----------
    model : ReportModel
        From :func:`reports.build_patient_report` or
        :func:`reports.build_clinician_report`.

    Returns
    -------
    bytes
        The PDF. The same model always gives the same bytes.
    """
    register_fonts()
    buf = io.BytesIO()
    top = MARGIN + (HEADER_SPACE if model.header else 0)
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=top if model.header else MARGIN - 4 * mm,
        bottomMargin=MARGIN + (8 if model.header else 14),
        title=model.title,
        author=model.author,
        subject=model.subject,
        creator="StepBack",
        producer="StepBack (reportlab)",
        invariant=1,
        lang="en",
        initialFontName=FONT,
        initialFontSize=model.body_size,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(flowables(model, doc.width), canvasmaker=_canvas_maker(model))
    return buf.getvalue()
