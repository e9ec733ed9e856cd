"""Render a :class:`~reports.model.ReportModel` to PDF bytes with reportlab.

Platypus lays the pages out in one pass; "page X of Y" and the running
header are drawn when the document is saved and the page count is known.
Blocks become lean flowables (:mod:`reports.textflow`, :mod:`reports.grid`,
:mod:`reports.chart`) that write their text through
:class:`reports.pdftext.TextWriter`; the fonts reuse their embedded subsets
across documents (:mod:`reports.fontcache`). Output is deterministic for the
same model: the document is built in reportlab's invariant mode (fixed dates
and IDs), so golden tests can hash the bytes. Text uses the bundled DejaVu
Sans TrueType fonts (Latin, Greek, Cyrillic), embedded in every PDF.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Spacer, TableStyle
from reportlab.platypus import Table as RLTable

from .chart import TrendFlowable
from .fontcache import SubsetCachingTTFont
from .grid import GridStyle, GridTable
from .icons import icon
from .model import Heading, IconList, Paragraph, ReportModel, Table, TrendChart
from .pdftext import TextWriter
from .textflow import KeepWithNext, TextBlock, TextStyle, wrap_lines

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
    """Register the bundled DejaVu Sans fonts once per process; return (regular, bold).

    The fonts keep the glyph subsets they embed (see :mod:`reports.fontcache`).
    reportlab maps every name registered for one typeface to the first font
    object registered for it, so if DejaVu Sans was registered before this
    runs, that font is used: same PDF bytes, without the cache.
    """
    fonts = resources.files("reports.fonts")
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        with resources.as_file(fonts.joinpath(file)) as path:
            pdfmetrics.registerFont(SubsetCachingTTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    return FONT, BOLD


class _Styles:
    """Text and table styles scaled from the model's body size."""

    def __init__(self, body: float, patient: bool) -> None:
        lead = 1.28 if patient else 1.25
        after = body * 0.45
        self.body = TextStyle(FONT, body, body * lead, INK, space_after=after)
        small = body if patient else body - 1
        self.small = TextStyle(FONT, small, small * lead, INK, space_after=after)
        self.note = TextStyle(FONT, small, small * lead, colors.HexColor("#333333"), space_after=after)
        self.lead = TextStyle(BOLD, body, body * lead, INK, space_after=after)
        self.warning = TextStyle(BOLD, body, body * lead, RED, space_before=6, space_after=12,
                                 border=RED, border_width=1.2, border_padding=6)
        h1 = body * (1.45 if patient else 1.6)
        h2 = body * (1.2 if patient else 1.25)
        self.h1 = TextStyle(BOLD, h1, h1 * 1.2, BLUE, space_after=body * 0.6)
        self.h2 = TextStyle(BOLD, h2, h2 * 1.25, BLUE, space_before=body * (0.5 if patient else 0.7),
                            space_after=body * 0.3, keep_with_next=True)
        cell = body if patient else body - 1
        self.grid = GridStyle(
            font=FONT, bold=BOLD, size=cell, leading=cell * 1.2, pad=5 if patient else 3,
            ink=INK, head_ink=colors.white if patient else INK,
            head_fill=BLUE if patient else colors.HexColor("#dde3ee"),
            grid_width=0.8 if patient else 0.4, grid_color=INK,
            stripes=(None,) if patient else (None, colors.HexColor("#f5f5f5")),
        )

    def by_name(self, name: str) -> TextStyle:
        return getattr(self, name, self.body)


@functools.lru_cache(maxsize=16)
def _styles(body: float, patient: bool) -> _Styles:
    """The styles for a body size, built once (styles are immutable)."""
    return _Styles(body, patient)


def _fit(text: str, font: str, size: float, width: float, min_size: float) -> tuple[str, float]:
    """Shrink ``text`` to ``width`` (down to ``min_size``), then truncate with an ellipsis."""
    while size > min_size and stringWidth(text, font, size) > width:
        size -= 0.5
    while stringWidth(text, font, size) > width and len(text) > 2:
        text = text[:-2] + "…"
    return text, size


def _table(block: Table, styles: _Styles, width: float) -> GridTable:
    n = len(block.header)
    fractions = block.widths or tuple(1.0 / n for _ in range(n))
    col_widths = [width * f for f in fractions]
    rooms = [w - 2 * styles.grid.pad - 1 for w in col_widths]
    size = styles.grid.size
    header = [wrap_lines(h, BOLD, size, r) for h, r in zip(block.header, rooms)]
    rows = [[wrap_lines(cell, FONT, size, r) for cell, r in zip(row, rooms)] for row in block.rows]
    return GridTable(header, rows, col_widths, styles.grid)


def _icon_list(block: IconList, styles: _Styles, width: float, patient: bool) -> RLTable:
    size = 28 if patient else 20
    data = [[icon(item.icon, size), TextBlock(item.text, styles.body)] for item in block.items]
    table = RLTable(data, colWidths=[size + 12, width - size - 12], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, styles.body.size),
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
    styles = _styles(model.body_size, patient)
    out: list = []
    for block in model.blocks:
        if isinstance(block, Heading):
            out.append(TextBlock(block.text, styles.h1 if block.level == 1 else styles.h2))
        elif isinstance(block, Paragraph):
            out.append(TextBlock(block.text, styles.by_name(block.style)))
        elif isinstance(block, Table):
            out.append(_table(block, styles, width))
            out.append(Spacer(1, model.body_size * 0.5))
        elif isinstance(block, IconList):
            out.append(_icon_list(block, styles, width, patient))
            out.append(Spacer(1, model.body_size * 0.4))
        elif isinstance(block, TrendChart):
            out.append(TrendFlowable(block, width, 190, FONT, BOLD))
            out.append(Spacer(1, model.body_size * 0.5))
        else:  # pragma: no cover - the model's Block union is closed
            raise TypeError(f"unknown report block {type(block).__name__}")
    return out


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

        def _header(self, text: TextWriter, usable: float, height: float) -> float:
            """One line when it fits; else the left part on line 1 and the right part on line 2.

            Returns the height of the rule under the header.
            """
            left, right = model.header, model.header_right
            one_line = f"{left} · {right}" if right else left
            base = height - MARGIN + 4
            if stringWidth(one_line, BOLD, size) <= usable:
                text.set_font(BOLD, size)
                text.show(MARGIN, base, one_line)
            else:
                line, fsize = _fit(left, BOLD, size, usable, 6.5)
                text.set_font(BOLD, fsize)
                text.show(MARGIN, base + size + 2, line)
                line, fsize = _fit(right, BOLD, size, usable, 6.5)
                text.set_font(BOLD, fsize)
                text.show(MARGIN, base, line)
            return base - 4

        def _furniture(self, number: int, total: int) -> None:
            width, height = self._pagesize
            usable = width - 2 * MARGIN
            text = TextWriter(self)
            text.set_color(INK)
            rule = self._header(text, usable, height) if model.header else None
            page = f"page {number} of {total}" if not patient else f"Page {number} of {total}"
            page_w = stringWidth(page, FONT, size)
            text.set_font(FONT, size)
            text.show(width - MARGIN - page_w, MARGIN - size - 4, page)
            if model.footer:
                line, fsize = _fit(model.footer, FONT, size, usable - page_w - 12, size if patient else 6.0)
                text.set_font(FONT, fsize)
                text.show(MARGIN, MARGIN - size - 4, line)
            text.close()
            if rule is not None:
                self.setStrokeColor(BLUE)
                self.setLineWidth(0.8)
                self.line(MARGIN, rule, width - MARGIN, rule)

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
        keepTogetherClass=KeepWithNext,  # headings stay with the next block (keepWithNext)
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(flowables(model, doc.width), canvasmaker=_canvas_maker(model))
    return buf.getvalue()
