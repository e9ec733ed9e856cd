"""Write many positioned strings as one PDF text object.

reportlab's ``drawString`` and ``PDFTextObject`` are general (bidi, shaping,
rise, character spacing, Type 1 and TrueType fonts) and cost several
microseconds per string in Python; a clinician report places about 330
strings (one per table-cell line, paragraph line and chart label).
:class:`TextWriter` writes the same operators for our case, embedded
TrueType fonts and plain left-to-right text: ``Tm`` to place each string,
``Tf`` when the font subset changes, and ``Tj`` to show it, inside one
``BT … ET`` added with ``Canvas.addLiteral``. The font's ``splitString``
still assigns the glyph codes, so the font subsets embedded at the end are
exactly those the text used.
"""

from __future__ import annotations

from reportlab.lib.colors import Color
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth


class TextWriter:
    """Collects text for one ``BT … ET`` block on ``canvas``; call :meth:`close` to add it.

    Parameters
    ----------
    canvas : reportlab.pdfgen.canvas.Canvas
        The canvas the text goes to (its current transformation applies).
    """

    def __init__(self, canvas) -> None:
        self._canvas = canvas
        self._doc = canvas._doc  # fonts assign glyph codes per PDF document
        self._ops: list[str] = ["BT"]
        self._font = None
        self._font_name = ""
        self._size = 0.0
        self._size_text = ""
        self._subset = -1
        self._color: Color | None = None

    def set_font(self, name: str, size: float) -> None:
        """Use registered TrueType font ``name`` at ``size`` points for the next strings."""
        if name == self._font_name and size == self._size:
            return
        font = pdfmetrics.getFont(name)
        if not getattr(font, "_dynamicFont", False):
            raise ValueError(f"font: {name!r} is not an embedded TrueType font; allowed: registered TTFont names")
        self._font, self._font_name, self._size = font, name, size
        self._size_text = fp_str(size)
        self._subset = -1

    def set_color(self, color: Color) -> None:
        """Fill the next strings with ``color`` (RGB)."""
        if color != self._color:
            self._ops.append(f"{fp_str(color.red, color.green, color.blue)} rg")
            self._color = color

    def show(self, x: float, y: float, text: str) -> None:
        """Draw ``text`` with its baseline starting at (``x``, ``y``)."""
        self._place(f"1 0 0 1 {fp_str(x, y)} Tm")
        self._show(text)

    def show_anchored(self, x: float, y: float, text: str, anchor: str) -> None:
        """Draw ``text`` so that its start, middle or end (``anchor``) is at ``x``."""
        if anchor != "start":
            width = stringWidth(text, self._font_name, self._size)
            x -= width / 2 if anchor == "middle" else width
        self.show(x, y, text)

    def show_upwards(self, x: float, y: float, text: str) -> None:
        """Draw ``text`` rotated 90° (reading upwards), its middle at (``x``, ``y``)."""
        half = stringWidth(text, self._font_name, self._size) / 2
        self._place(f"0 1 -1 0 {fp_str(x, y - half)} Tm")
        self._show(text)

    def show_lines(self, x: float, y: float, lines, leading: float) -> None:
        """Draw ``lines`` one below the other, the first baseline at ``y``."""
        for line in lines:
            if line:
                self.show(x, y, line)
            y -= leading

    def close(self) -> None:
        """Add the text to the canvas (nothing when no string was shown)."""
        if len(self._ops) > 1:
            self._ops.append("ET")
            self._canvas.addLiteral("\n".join(self._ops))
        self._ops = ["BT"]

    def _place(self, matrix: str) -> None:
        if self._font is None:
            raise ValueError("font: not set; call set_font before showing text")
        self._ops.append(matrix)

    def _show(self, text: str) -> None:
        ops, font, doc = self._ops, self._font, self._doc
        for subset, chunk in font.splitString(text, doc):
            if subset != self._subset:
                ops.append(f"{font.getSubsetInternalName(subset, doc)} {self._size_text} Tf")
                self._subset = subset
            ops.append(f"({escapePDF(chunk)}) Tj")
