"""The 3MBW trend chart: vector marks drawn straight onto the PDF canvas.

Mean time (s) of every assessment against its date, with the population's
cut-off lines dashed and the previous mean ± MDC95 shaded. Amended assessments are drawn hollow, the current one
larger. Tick labels are thinned so 20+ assessments never overlap.

:func:`trend_marks` lays the chart out as a list of plain marks (lines,
texts, circles...); :class:`TrendFlowable` draws them with canvas calls,
without building and walking a ``reportlab.graphics`` Drawing (several times
slower for the same PDF operators).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from reportlab.lib import colors
from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus.flowables import Flowable

from .model import TrendChart

INK = colors.HexColor("#111111")
GRID = colors.HexColor("#d0d0d0")
LINE = colors.HexColor("#0b3d91")
CUT = colors.HexColor("#b00020")
BAND = colors.HexColor("#dfe8d5")


@dataclass(frozen=True)
class Line:
    """A straight stroke (``dash``: on/off lengths, or None for solid)."""

    x1: float
    y1: float
    x2: float
    y2: float
    color: Color
    width: float
    dash: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Text:
    """One string; ``anchor`` start, middle or end; ``angle`` 0 or 90 (reads upwards)."""

    x: float
    y: float
    text: str
    font: str
    size: float
    color: Color
    anchor: str = "start"
    angle: int = 0


@dataclass(frozen=True)
class Box:
    """A rectangle outline."""

    x: float
    y: float
    width: float
    height: float
    color: Color
    line_width: float


@dataclass(frozen=True)
class Dot:
    """A circle; ``fill`` None draws it hollow."""

    x: float
    y: float
    r: float
    fill: Color | None
    color: Color
    line_width: float


@dataclass(frozen=True)
class Polyline:
    """An open path through ``points`` ((x, y) pairs)."""

    points: tuple[tuple[float, float], ...]
    color: Color
    width: float


@dataclass(frozen=True)
class Band:
    """A filled rectangle without outline (the MDC95 band)."""

    x: float
    y: float
    width: float
    height: float
    fill: Color


Mark = Line | Text | Box | Dot | Polyline | Band


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / target_ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag  # pragma: no cover


def trend_marks(chart: TrendChart, width: float, height: float, font: str, bold: str) -> list[Mark]:
    """Lay ``chart`` out in a ``width`` × ``height`` point box (origin bottom left).

    Parameters
    ----------
    chart : TrendChart
    width, height : float
        Size of the chart, points.
    font, bold : str
        Registered font names for labels and the title.

    Returns
    -------
    list of Mark
        In drawing order.
    """
    d: list[Mark] = []
    left, right, bottom, top = 38.0, 96.0, 30.0, 20.0
    pw, ph = width - left - right, height - bottom - top
    d.append(Text(left, height - 13, chart.title, bold, 9, INK))
    d.append(Box(left, bottom, pw, ph, INK, 0.6))
    pts = chart.points
    if not pts:
        d.append(Text(left + pw / 2, bottom + ph / 2, "No assessment with a valid time yet", font, 8, INK, "middle"))
        return d
    ys = [p.seconds for p in pts] + [c for c, _ in chart.cutoffs] + list(chart.band or ())
    y_max = max(ys) * 1.12
    step = _nice_step(y_max)
    y_max = math.ceil(y_max / step) * step
    days = [date.fromisoformat(p.assessed_on).toordinal() for p in pts]
    d0, d1 = min(days), max(days)
    span = max(d1 - d0, 1)

    def x_of(day: int) -> float:
        return left + pw / 2 if d1 == d0 else left + 8 + (pw - 16) * (day - d0) / span

    def y_of(v: float) -> float:
        return bottom + ph * v / y_max

    if chart.band:
        low, high = max(chart.band[0], 0.0), chart.band[1]
        d.append(Band(left, y_of(low), pw, y_of(high) - y_of(low), BAND))
    tick = 0.0
    while tick <= y_max + 1e-9:
        y = y_of(tick)
        d.append(Line(left, y, left + pw, y, GRID, 0.4))
        d.append(Text(left - 4, y - 3, f"{tick:g}", font, 7, INK, "end"))
        tick += step
    d.append(Text(10, bottom + ph / 2, "seconds", font, 7, INK, "middle", angle=90))
    # Cut-off lines, labelled in the right margin; labels nudged apart if close.
    last_label_y = None
    for value, label in sorted(chart.cutoffs, key=lambda c: c[0]):
        y = y_of(value)
        d.append(Line(left, y, left + pw, y, CUT, 0.9, (4, 2)))
        ly = y - 3 if last_label_y is None else max(y - 3, last_label_y + 9)
        text = label
        while stringWidth(text, font, 7) > right - 6 and len(text) > 4:
            text = text[:-2] + "…"
        d.append(Text(left + pw + 4, ly, text, font, 7, CUT))
        last_label_y = ly
    # X tick labels, thinned to fit.
    label_w = stringWidth("2025-12-31", font, 7) + 6
    # Always label the newest assessment; walk back, skipping labels that would overlap.
    next_x = 1e9
    for i in sorted(range(len(pts)), key=lambda i: (days[i], i), reverse=True):
        x = x_of(days[i])
        if next_x - x < label_w:
            continue
        d.append(Line(x, bottom, x, bottom - 3, INK, 0.5))
        d.append(Text(x, bottom - 12, pts[i].assessed_on, font, 7, INK, "middle"))
        next_x = x
    order = sorted(range(len(pts)), key=lambda i: (days[i], i))
    if len(pts) > 1:
        d.append(Polyline(tuple((x_of(days[i]), y_of(pts[i].seconds)) for i in order), LINE, 1.2))
    for i in order:
        p = pts[i]
        r = 3.6 if p.current else 2.4
        fill = None if p.amended else (LINE if not p.current else INK)
        d.append(Dot(x_of(days[i]), y_of(p.seconds), r, fill, INK if p.current else LINE, 1))
    legend = "● assessment   ○ amended   ⬤ this assessment   - - cut-off"
    if chart.band:
        legend += "   ▒ " + (chart.band_label or "MDC95 band")
    d.append(Text(left, 3, legend, font, 7, INK))
    return d


class TrendFlowable(Flowable):
    """The trend chart as a platypus flowable of ``width`` × ``height`` points."""

    def __init__(self, chart: TrendChart, width: float, height: float, font: str, bold: str) -> None:
        super().__init__()
        self.width, self.height = width, height
        self.marks = trend_marks(chart, width, height, font, bold)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 - reportlab API
        return self.width, self.height

    def draw(self) -> None:
        draw_marks(self.canv, self.marks)


def draw_marks(c, marks: list[Mark]) -> None:
    """Draw ``marks`` on canvas ``c`` in order, with reportlab's public canvas calls."""
    c.saveState()
    c.setLineCap(0)
    c.setLineJoin(0)
    for m in marks:
        if isinstance(m, Text):
            c.setFont(m.font, m.size)
            c.setFillColor(m.color)
            if m.angle == 90:
                c.saveState()
                c.translate(m.x, m.y)
                c.rotate(90)
                c.drawCentredString(0, 0, m.text)
                c.restoreState()
            elif m.anchor == "middle":
                c.drawCentredString(m.x, m.y, m.text)
            elif m.anchor == "end":
                c.drawRightString(m.x, m.y, m.text)
            else:
                c.drawString(m.x, m.y, m.text)
        elif isinstance(m, Line):
            c.setDash(list(m.dash) if m.dash else [])
            c.setStrokeColor(m.color)
            c.setLineWidth(m.width)
            c.line(m.x1, m.y1, m.x2, m.y2)
            c.setDash([])
        elif isinstance(m, Band):
            c.setFillColor(m.fill)
            c.rect(m.x, m.y, m.width, m.height, stroke=0, fill=1)
        elif isinstance(m, Box):
            c.setStrokeColor(m.color)
            c.setLineWidth(m.line_width)
            c.rect(m.x, m.y, m.width, m.height, stroke=1, fill=0)
        elif isinstance(m, Dot):
            c.setStrokeColor(m.color)
            c.setLineWidth(m.line_width)
            if m.fill is not None:
                c.setFillColor(m.fill)
            c.circle(m.x, m.y, m.r, stroke=1, fill=0 if m.fill is None else 1)
        elif isinstance(m, Polyline):
            c.setStrokeColor(m.color)
            c.setLineWidth(m.width)
            path = c.beginPath()
            path.moveTo(*m.points[0])
            for x, y in m.points[1:]:
                path.lineTo(x, y)
            c.drawPath(path, stroke=1, fill=0)
    c.restoreState()
