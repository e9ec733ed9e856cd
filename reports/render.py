"""Render a :class:`~reports.model.ReportModel` to PDF bytes with reportlab platypus.

Every text is a platypus ``Paragraph`` (tables are platypus ``Table`` of
Paragraphs), so reportlab wraps, shapes and reorders it: runs of another
script are set in a font that has their glyphs (:mod:`reports.typeface`),
Arabic, Hebrew, Devanagari and Thai are shaped with uharfbuzz (which also
lays Arabic and Hebrew runs out right to left), and CJK text breaks between
ideographs.
The running header and "page X of Y" are drawn on each page; the page total
is a form XObject filled in when the document is saved. Output is
deterministic for the same model (reportlab's invariant mode), so golden
tests can hash the bytes.
"""

from __future__ import annotations

import functools
import io
from dataclasses import replace

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Spacer, TableStyle
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Image as RLImage
from reportlab.platypus import Table as RLTable

from .chart import TrendFlowable
from .icons import icon
from .model import Heading, IconList, Letterhead, Paragraph, ReportModel, Table, TrendChart
from .typeface import markup, register_fonts, runs, text_features

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
INK = colors.HexColor("#111111")
BLUE = colors.HexColor("#0b3d91")
RED = colors.HexColor("#b00020")
PALE = colors.HexColor("#dde3ee")
STRIPE = colors.HexColor("#f5f5f5")
MARGIN = 18 * mm
#: Room above the text for a running header of up to two lines, points.
HEADER_SPACE = 22
_BOLD_STYLES = ("lead", "warning", "h1", "h2", "th", "header")


@functools.lru_cache(maxsize=16)
def _styles(body: float, patient: bool) -> dict[str, ParagraphStyle]:
    """The paragraph styles for a body size (built once; styles are not changed afterwards)."""
    lead = 1.28 if patient else 1.25
    after = body * 0.45
    small = body if patient else body - 1
    cell = body if patient else body - 1
    h1 = body * (1.45 if patient else 1.6)
    h2 = body * (1.2 if patient else 1.25)
    base = ParagraphStyle("body", fontName=FONT, fontSize=body, leading=body * lead, textColor=INK,
                          spaceAfter=after)
    return {
        "body": base,
        "small": ParagraphStyle("small", base, fontSize=small, leading=small * lead),
        "note": ParagraphStyle("note", base, fontSize=small, leading=small * lead,
                               textColor=colors.HexColor("#333333")),
        "lead": ParagraphStyle("lead", base, fontName=BOLD),
        "warning": ParagraphStyle("warning", base, fontName=BOLD, textColor=RED, spaceBefore=8, spaceAfter=14,
                                  borderColor=RED, borderWidth=1.2, borderPadding=6),
        "h1": ParagraphStyle("h1", base, fontName=BOLD, fontSize=h1, leading=h1 * 1.2, textColor=BLUE,
                             spaceAfter=body * 0.6),
        "h2": ParagraphStyle("h2", base, fontName=BOLD, fontSize=h2, leading=h2 * 1.25, textColor=BLUE,
                             spaceBefore=body * (0.5 if patient else 0.7), spaceAfter=body * 0.3,
                             keepWithNext=1),
        "td": ParagraphStyle("td", base, fontSize=cell, leading=cell * 1.2, spaceAfter=0),
        "th": ParagraphStyle("th", base, fontName=BOLD, fontSize=cell, leading=cell * 1.2, spaceAfter=0,
                             textColor=colors.white if patient else INK),
        "header": ParagraphStyle("header", base, fontName=BOLD, fontSize=8.0 if not patient else body,
                                 leading=10 if not patient else body * 1.2, spaceAfter=0),
        "page": ParagraphStyle("page", base, fontSize=7.0 if not patient else body,
                               leading=9 if not patient else body * 1.2, spaceAfter=0),
        "footer": ParagraphStyle("footer", base, fontSize=7.0 if not patient else body,
                                 leading=9 if not patient else body * 1.2, spaceAfter=0),
    }


@functools.lru_cache(maxsize=256)
def _variant(style: ParagraphStyle, shaped: bool, rtl: bool, cjk: bool) -> ParagraphStyle:
    """``style`` with shaping or CJK wrapping switched on as the text needs.

    Right-to-left runs are ordered by uharfbuzz when they are shaped (it sets
    each run's direction from its script); reportlab's own bidi needs the
    ``rlbidi`` package, which the package index here does not serve.
    """
    if not (shaped or rtl or cjk):
        return style
    return ParagraphStyle(f"{style.name}-{int(shaped)}{int(rtl)}{int(cjk)}", style,
                          wordWrap="CJK" if cjk else None, shaping=1 if (shaped or rtl) else 0)


def para(text: str, style: ParagraphStyle) -> RLParagraph:
    """A platypus Paragraph of plain ``text`` (escaped; never markup) in ``style``.

    Parameters
    ----------
    text : str
        Plain text; other scripts are set in fallback fonts.
    style : ParagraphStyle

    Returns
    -------
    reportlab.platypus.Paragraph
    """
    bold = style.fontName == BOLD
    return RLParagraph(markup(text, bold), _variant(style, *text_features(text)))


def _cell(text: str, style: ParagraphStyle, room: float):
    """A table cell: the plain string when it fits on one line in the base font, else a Paragraph.

    Table draws a plain string with one ``drawString``, several times faster
    than laying out a Paragraph; anything that wraps or needs another font,
    shaping or bidi is a Paragraph.
    """
    if (text.isascii() or not any(text_features(text))) and "\n" not in text and \
            all(f == style.fontName for f, _ in runs(text, style.fontName == BOLD)) and \
            stringWidth(text, style.fontName, style.fontSize) <= room:
        return text
    return para(text, style)


def _table(block: Table, styles: dict, width: float, patient: bool) -> RLTable:
    n = len(block.header)
    fractions = block.widths or tuple(1.0 / n for _ in range(n))
    pad = 5 if patient else 3
    rooms = [width * f - 2 * pad - 1 for f in fractions]
    data = [[para(h, styles["th"]) for h in block.header]]
    data += [[_cell(cell, styles["td"], room) for cell, room in zip(row, rooms)] for row in block.rows]
    commands = [
        ("FONT", (0, 0), (-1, -1), FONT, styles["td"].fontSize),  # plain-string cells; else Helvetica
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 0), (-1, -1), pad * 0.7),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad * 0.9),
        ("GRID", (0, 0), (-1, -1), 0.8 if patient else 0.4, INK),
        ("BACKGROUND", (0, 0), (-1, 0), BLUE if patient else PALE),
    ]
    if not patient:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]))
    table = RLTable(data, colWidths=[width * f for f in fractions], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


def _icon_list(block: IconList, styles: dict, width: float, patient: bool) -> RLTable:
    size = 28 if patient else 20
    data = [[icon(item.icon, size), para(item.text, styles["td"])] for item in block.items]
    table = RLTable(data, colWidths=[size + 12, width - size - 12], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, styles["td"].fontSize),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


#: Largest printed logo, points (about 30 × 7 mm): a letterhead, not a poster.
LOGO_BOX = (30 * mm, 7 * mm)
#: Largest share of the text width the clinic takes beside the title.
CLINIC_SHARE = 0.2


def _letterhead(block: Letterhead, model: ReportModel, styles: dict, width: float) -> RLTable:
    """The title row: the ``beside`` blocks on the left; the clinic's logo, name and lines on the right."""
    # Small print (the handout's own text stays large; "stop and call" names the clinic and phone in it).
    right_style = {k: ParagraphStyle(f"{k}-clinic", styles[k], fontName=font, fontSize=8, leading=9.6,
                                     spaceAfter=0, spaceBefore=0, alignment=TA_RIGHT)
                   for k, font in (("header", BOLD), ("small", FONT))}
    clinic: list = []
    # As wide as its longest line needs (the logo's width at least), at most CLINIC_SHARE of the width.
    needed = [stringWidth(block.name, BOLD, right_style["header"].fontSize)] if block.name else []
    needed += [stringWidth(line, FONT, right_style["small"].fontSize) for line in block.lines]
    room = min(width * CLINIC_SHARE, max(needed + [LOGO_BOX[0] if block.logo is not None else 0]) + 2)
    if block.logo is not None:
        reader = ImageReader(io.BytesIO(block.logo))
        w, h = reader.getSize()
        scale = min(LOGO_BOX[0] / w, LOGO_BOX[1] / h)
        logo = RLImage(io.BytesIO(block.logo), width=w * scale, height=h * scale)
        logo.hAlign = "RIGHT"
        clinic += [logo, Spacer(1, 2)]
    if block.name:
        clinic.append(para(block.name, right_style["header"]))
    clinic += [para(line, right_style["small"]) for line in block.lines]
    left = flowables(replace(model, blocks=block.beside), width - room - 1 * mm) if block.beside else [""]
    table = RLTable([[left, clinic]], colWidths=[width - room, room], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, styles["small"].fontSize),  # else Helvetica, not embedded
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 0), (1, 0), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]))
    return table


def flowables(model: ReportModel, width: float) -> list:
    """The platypus flowables for ``model`` at a text width of ``width`` points.

    Parameters
    ----------
    model : ReportModel
    width : float
        Frame width, points.

    Returns
    -------
    list of Flowable
    """
    register_fonts()
    patient = model.kind == "patient"
    styles = _styles(model.body_size, patient)
    out: list = []
    for block in model.blocks:
        if isinstance(block, Heading):
            out.append(para(block.text, styles["h1" if block.level == 1 else "h2"]))
        elif isinstance(block, Paragraph):
            out.append(para(block.text, styles.get(block.style, styles["body"])))
        elif isinstance(block, Table):
            out.append(_table(block, styles, width, patient))
            out.append(Spacer(1, model.body_size * 0.5))
        elif isinstance(block, IconList):
            out.append(_icon_list(block, styles, width, patient))
            out.append(Spacer(1, model.body_size * 0.4))
        elif isinstance(block, Letterhead):
            out.append(_letterhead(block, model, styles, width))
        elif isinstance(block, TrendChart):
            out.append(TrendFlowable(block, width, 200, FONT, BOLD))
            out.append(Spacer(1, model.body_size * 0.5))
        else:  # pragma: no cover - the model's Block union is closed
            raise TypeError(f"unknown report block {type(block).__name__}")
    return out


class _TotalPagesCanvas(Canvas):
    """A Canvas that fills the form ``total-pages`` with the page count when it is saved."""

    total_font: tuple[str, float] = (FONT, 8.0)

    def save(self):
        self.beginForm("total-pages")
        self.setFont(*self.total_font)
        self.setFillColor(INK)
        self.drawString(0, 0, str(self.getPageNumber() - 1))
        self.endForm()
        super().save()


def _canvas_maker(size: float):
    class NumberedCanvas(_TotalPagesCanvas):
        total_font = (FONT, size)

    return NumberedCanvas


def _page_furniture(model: ReportModel, styles: dict):
    """The onPage callback: running header, footer and "page X of Y"."""
    patient = model.kind == "patient"
    size = styles["footer"].fontSize
    digits = stringWidth("0000", FONT, size)

    def draw(canv: Canvas, doc) -> None:
        width, height = doc.pagesize
        usable = width - 2 * MARGIN
        canv.saveState()
        if model.header:
            one_line = f"{model.header} · {model.header_right}" if model.header_right else model.header
            header = para(one_line, styles["header"])
            _, h = header.wrap(usable, HEADER_SPACE + 10)
            header.drawOn(canv, MARGIN, height - MARGIN + 6 - h)
            rule = height - MARGIN + 2 - h
            canv.setStrokeColor(BLUE)
            canv.setLineWidth(0.8)
            canv.line(MARGIN, rule, width - MARGIN, rule)
        label = model.page_label.format(page=canv.getPageNumber())
        base = MARGIN - size - 4 - (4 if patient else 0)
        x_total = width - MARGIN - digits
        page = para(label, styles["page"])
        label_w = min(sum(stringWidth(t, f, size) for f, t in runs(label)), usable / 2)
        page.wrap(label_w + 2, size * 3)
        page.drawOn(canv, x_total - label_w - size * 0.5, base - (page.height - styles["page"].leading) - size * 0.25)
        canv.saveState()
        canv.translate(x_total, base)
        canv.doForm("total-pages")
        canv.restoreState()
        if model.footer:
            room = usable - label_w - digits - 12
            footer = para(model.footer, styles["footer"])
            footer.wrap(room, size * 3)
            footer.drawOn(canv, MARGIN, base - (footer.height - styles["footer"].leading) if footer.height > 0 else base)
        canv.restoreState()

    return draw


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
    patient = model.kind == "patient"
    styles = _styles(model.body_size, patient)
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
        lang=model.language,
        initialFontName=FONT,
        initialFontSize=model.body_size,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame],
                                       onPage=_page_furniture(model, styles))])
    doc.build(flowables(model, doc.width), canvasmaker=_canvas_maker(styles["footer"].fontSize))
    return buf.getvalue()
