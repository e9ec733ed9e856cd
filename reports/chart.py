"""The 3MBW trend chart: a reportlab.graphics vector drawing.

Mean time (s) of every assessment against its date, with the population's
cut-off lines dashed. Amended assessments are drawn hollow, the current one
larger. Tick labels are thinned so 20+ assessments never overlap.
"""

from __future__ import annotations

import math
from datetime import date

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from .model import TrendChart

INK = colors.HexColor("#111111")
GRID = colors.HexColor("#d0d0d0")
LINE = colors.HexColor("#0b3d91")
CUT = colors.HexColor("#b00020")


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / target_ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag  # pragma: no cover


def trend_drawing(chart: TrendChart, width: float, height: float, font: str, bold: str) -> Drawing:
    """Draw ``chart`` in a ``width`` × ``height`` point box."""
    d = Drawing(width, height, initialFontName=font)
    left, right, bottom, top = 38.0, 96.0, 30.0, 20.0
    pw, ph = width - left - right, height - bottom - top
    d.add(String(left, height - 13, chart.title, fontName=bold, fontSize=9, fillColor=INK))
    d.add(Rect(left, bottom, pw, ph, fillColor=None, strokeColor=INK, strokeWidth=0.6))
    pts = chart.points
    if not pts:
        d.add(String(left + pw / 2, bottom + ph / 2, "No assessment with a valid time yet",
                     fontName=font, fontSize=8, textAnchor="middle", fillColor=INK))
        return d
    ys = [p.seconds for p in pts] + [c for c, _ in chart.cutoffs]
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

    tick = 0.0
    while tick <= y_max + 1e-9:
        y = y_of(tick)
        d.add(Line(left, y, left + pw, y, strokeColor=GRID, strokeWidth=0.4))
        d.add(String(left - 4, y - 3, f"{tick:g}", fontName=font, fontSize=7, textAnchor="end", fillColor=INK))
        tick += step
    axis_label = Group(String(0, 0, "seconds", fontName=font, fontSize=7, fillColor=INK, textAnchor="middle"))
    axis_label.translate(10, bottom + ph / 2)
    axis_label.rotate(90)
    d.add(axis_label)
    # Cut-off lines, labelled in the right margin; labels nudged apart if close.
    last_label_y = None
    for value, label in sorted(chart.cutoffs, key=lambda c: c[0]):
        y = y_of(value)
        d.add(Line(left, y, left + pw, y, strokeColor=CUT, strokeWidth=0.9, strokeDashArray=[4, 2]))
        ly = y - 3 if last_label_y is None else max(y - 3, last_label_y + 9)
        text = label
        while stringWidth(text, font, 7) > right - 6 and len(text) > 4:
            text = text[:-2] + "…"
        d.add(String(left + pw + 4, ly, text, fontName=font, fontSize=7, fillColor=CUT))
        last_label_y = ly
    # X tick labels, thinned to fit.
    label_w = stringWidth("2025-12-31", font, 7) + 6
    # Always label the newest assessment; walk back, skipping labels that would overlap.
    next_x = 1e9
    for i in sorted(range(len(pts)), key=lambda i: (days[i], i), reverse=True):
        x = x_of(days[i])
        if next_x - x < label_w:
            continue
        d.add(Line(x, bottom, x, bottom - 3, strokeColor=INK, strokeWidth=0.5))
        d.add(String(x, bottom - 12, pts[i].assessed_on, fontName=font, fontSize=7, textAnchor="middle", fillColor=INK))
        next_x = x
    order = sorted(range(len(pts)), key=lambda i: (days[i], i))
    coords = []
    for i in order:
        coords += [x_of(days[i]), y_of(pts[i].seconds)]
    if len(pts) > 1:
        d.add(PolyLine(coords, strokeColor=LINE, strokeWidth=1.2))
    for i in order:
        p = pts[i]
        r = 3.6 if p.current else 2.4
        fill = None if p.amended else (LINE if not p.current else INK)
        d.add(Circle(x_of(days[i]), y_of(p.seconds), r, fillColor=fill, strokeColor=INK if p.current else LINE, strokeWidth=1))
    d.add(String(left, 3, "● assessment   ○ amended   ⬤ this assessment   - - cut-off",
                 fontName=font, fontSize=7, fillColor=INK))
    return d
