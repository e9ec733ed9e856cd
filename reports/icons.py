"""Simple drawn pictograms for the patient report's safety rules (vector, no text)."""

from __future__ import annotations

from reportlab.graphics.shapes import Circle, Drawing, Ellipse, Line, PolyLine, Polygon, Rect
from reportlab.lib import colors

INK = colors.HexColor("#111111")
BLUE = colors.HexColor("#0b3d91")
RED = colors.HexColor("#b00020")
GREEN = colors.HexColor("#1b5e20")

#: Icon keys the builders may use.
ICON_KEYS = ("clear", "hold", "toe", "head", "slow", "therapist", "key", "stop", "calendar", "phone")


def _stick_figure(d: Drawing, x: float, s: float, color) -> None:
    d.add(Circle(x, s * 0.78, s * 0.09, fillColor=color, strokeColor=color))
    d.add(Line(x, s * 0.68, x, s * 0.38, strokeColor=color, strokeWidth=s * 0.06))
    d.add(Line(x, s * 0.38, x - s * 0.1, s * 0.1, strokeColor=color, strokeWidth=s * 0.06))
    d.add(Line(x, s * 0.38, x + s * 0.1, s * 0.1, strokeColor=color, strokeWidth=s * 0.06))
    d.add(Line(x - s * 0.12, s * 0.58, x + s * 0.12, s * 0.58, strokeColor=color, strokeWidth=s * 0.06))


def icon(key: str, size: float = 34) -> Drawing:
    """A ``size`` × ``size`` point drawing for ``key`` (one of :data:`ICON_KEYS`)."""
    s = size
    d = Drawing(s, s, initialFontName="DejaVuSans")  # no Helvetica resource in the PDF
    w = s * 0.07
    if key == "stop":
        k = 0.2929
        pts = [k, 0, 1 - k, 0, 1, k, 1, 1 - k, 1 - k, 1, k, 1, 0, 1 - k, 0, k]
        d.add(Polygon([v * s for v in pts], fillColor=RED, strokeColor=RED))
        d.add(Rect(s * 0.2, s * 0.42, s * 0.6, s * 0.16, fillColor=colors.white, strokeColor=colors.white))
    elif key == "clear":
        d.add(Circle(s / 2, s / 2, s * 0.46, fillColor=None, strokeColor=GREEN, strokeWidth=w))
        d.add(PolyLine([s * 0.27, s * 0.52, s * 0.44, s * 0.33, s * 0.74, s * 0.7], strokeColor=GREEN, strokeWidth=w * 1.4))
    elif key == "hold":
        d.add(Rect(s * 0.05, s * 0.3, s * 0.9, s * 0.14, fillColor=BLUE, strokeColor=BLUE))
        d.add(Ellipse(s * 0.5, s * 0.54, s * 0.2, s * 0.13, fillColor=colors.white, strokeColor=INK, strokeWidth=w))
        for dx in (-0.12, -0.04, 0.04, 0.12):
            d.add(Line(s * (0.5 + dx), s * 0.55, s * (0.5 + dx), s * 0.4, strokeColor=INK, strokeWidth=w * 0.8))
    elif key == "toe":
        d.add(Ellipse(s * 0.55, s * 0.45, s * 0.17, s * 0.36, fillColor=colors.white, strokeColor=INK, strokeWidth=w))
        d.add(Circle(s * 0.62, s * 0.86, s * 0.07, fillColor=INK, strokeColor=INK))
        d.add(Line(s * 0.2, s * 0.85, s * 0.2, s * 0.15, strokeColor=BLUE, strokeWidth=w))
        d.add(Polygon([s * 0.08, s * 0.3, s * 0.32, s * 0.3, s * 0.2, s * 0.08], fillColor=BLUE, strokeColor=BLUE))
    elif key == "head":
        _stick_figure(d, s * 0.45, s, INK)
        d.add(Line(s * 0.8, s * 0.2, s * 0.8, s * 0.85, strokeColor=BLUE, strokeWidth=w))
        d.add(Polygon([s * 0.68, s * 0.7, s * 0.92, s * 0.7, s * 0.8, s * 0.95], fillColor=BLUE, strokeColor=BLUE))
    elif key == "slow":
        d.add(Circle(s / 2, s / 2, s * 0.45, fillColor=colors.white, strokeColor=INK, strokeWidth=w))
        d.add(Line(s / 2, s / 2, s / 2, s * 0.82, strokeColor=INK, strokeWidth=w))
        d.add(Line(s / 2, s / 2, s * 0.72, s / 2, strokeColor=INK, strokeWidth=w))
    elif key == "therapist":
        _stick_figure(d, s * 0.3, s, INK)
        _stick_figure(d, s * 0.72, s, BLUE)
    elif key == "key":
        d.add(Circle(s * 0.28, s * 0.5, s * 0.2, fillColor=None, strokeColor=INK, strokeWidth=w * 1.3))
        d.add(Line(s * 0.48, s * 0.5, s * 0.95, s * 0.5, strokeColor=INK, strokeWidth=w * 1.3))
        d.add(Line(s * 0.8, s * 0.5, s * 0.8, s * 0.32, strokeColor=INK, strokeWidth=w * 1.3))
        d.add(Line(s * 0.92, s * 0.5, s * 0.92, s * 0.34, strokeColor=INK, strokeWidth=w * 1.3))
    elif key == "calendar":
        d.add(Rect(s * 0.08, s * 0.08, s * 0.84, s * 0.76, fillColor=colors.white, strokeColor=INK, strokeWidth=w))
        d.add(Rect(s * 0.08, s * 0.64, s * 0.84, s * 0.2, fillColor=BLUE, strokeColor=INK, strokeWidth=w))
        d.add(Rect(s * 0.55, s * 0.2, s * 0.25, s * 0.22, fillColor=RED, strokeColor=RED))
    elif key == "phone":
        d.add(Rect(s * 0.28, s * 0.05, s * 0.44, s * 0.9, rx=s * 0.06, ry=s * 0.06, fillColor=INK, strokeColor=INK))
        d.add(Rect(s * 0.33, s * 0.2, s * 0.34, s * 0.6, fillColor=colors.white, strokeColor=colors.white))
    else:
        raise ValueError(f"icon: unknown key {key!r}; allowed: {', '.join(ICON_KEYS)}")
    return d
