"""Plain-text flowables: wrapped lines of one font, drawn with one text object.

Report text is plain (no inline markup), so reportlab's ``Paragraph`` (an
XML parser per paragraph, fragment lists, a general line breaker) costs
more than the text it draws. :class:`TextBlock` wraps greedily at spaces
like ``Paragraph`` (via ``simpleSplit``), keeps explicit newlines, cuts a
word too long for the line, and splits across pages between lines without
leaving a single first line at the foot of a page (``Paragraph``'s
``allowOrphans=0``). :class:`KeepWithNext` keeps a heading with the block
after it, as platypus's ``KeepTogether`` does, without copying the frame on
every measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from reportlab.lib.colors import Color
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus.flowables import Flowable, KeepTogether

from .pdftext import TextWriter

#: Tolerance for "fits", points (platypus uses the same order of magnitude).
_FUZZ = 1e-6


@lru_cache(maxsize=8192)
def wrap_lines(text: str, font: str, size: float, room: float) -> tuple[str, ...]:
    """``text`` as lines no wider than ``room`` points (explicit newlines kept).

    A word too long for the line is cut where it stops fitting. Cached:
    reports repeat the same labels, values and sentences from one report to
    the next.
    """
    if "\n" not in text and stringWidth(text, font, size) <= room:
        return (text,)
    lines = []
    for part in text.split("\n"):
        for line in simpleSplit(part, font, size, room) or [""]:
            while stringWidth(line, font, size) > room and len(line) > 1:  # a word too long
                cut = len(line) - 1
                while cut > 1 and stringWidth(line[:cut], font, size) > room:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
            lines.append(line)
    return tuple(lines)


@dataclass(frozen=True)
class TextStyle:
    """How a :class:`TextBlock` looks.

    Parameters
    ----------
    font : str
        Registered font name.
    size, leading : float
        Font size and line spacing, points.
    color : Color
        Text colour.
    space_before, space_after : float
        Vertical space around the block, points (merged by platypus).
    keep_with_next : bool
        Keep on the same page as the next flowable (headings).
    border : Color or None
        Colour of a box drawn around the text (None: no box).
    border_width, border_padding : float
        Line width of the box and its distance from the text, points.
    """

    font: str
    size: float
    leading: float
    color: Color
    space_before: float = 0.0
    space_after: float = 0.0
    keep_with_next: bool = False
    border: Color | None = None
    border_width: float = 0.0
    border_padding: float = 0.0


class TextBlock(Flowable):
    """Left-aligned plain text, wrapped to the frame width.

    Parameters
    ----------
    text : str
        The text; ``\\n`` starts a new line.
    style : TextStyle
    """

    def __init__(self, text: str, style: TextStyle) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.lines: tuple[str, ...] = ()
        self.spaceBefore = style.space_before
        self.spaceAfter = style.space_after
        self.keepWithNext = style.keep_with_next

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 - reportlab API
        s = self.style
        # Like Paragraph, blank text takes no room.
        self.lines = wrap_lines(self.text, s.font, s.size, availWidth) if self.text.strip() else ()
        self.width = availWidth
        self.height = len(self.lines) * s.leading
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list:  # noqa: N803 - reportlab API
        """Split between lines; nothing when fewer than two lines (or all but none) fit."""
        self.wrap(availWidth, availHeight)
        fits = int(availHeight / self.style.leading + _FUZZ)
        if fits <= 1:  # no room, or one orphaned first line
            return []
        if fits >= len(self.lines):
            return [self]
        # Each part's lines already fit, so re-wrapping them at this width keeps them as they are.
        cls = type(self)
        return [cls("\n".join(self.lines[:fits]), self.style), cls("\n".join(self.lines[fits:]), self.style)]

    def draw(self) -> None:
        c, s = self.canv, self.style
        if s.border is not None and s.border_width:
            p = s.border_padding
            c.setStrokeColor(s.border)
            c.setLineWidth(s.border_width)
            c.rect(-p, -p, self.width + 2 * p, self.height + 2 * p, stroke=1, fill=0)
        text = TextWriter(c)
        text.set_font(s.font, s.size)
        text.set_color(s.color)
        text.show_lines(0, self.height - s.size, self.lines, s.leading)
        text.close()


class KeepWithNext(KeepTogether):
    """``KeepTogether`` for flowables that never add content while being measured.

    Platypus's ``KeepTogether`` deep-copies the current frame each time it
    measures its content (in case a flowable adds generated content then);
    :class:`TextBlock`, tables and charts never do, so this measures the
    content directly and leaves the page-break decision to ``KeepTogether``.
    """

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803 - reportlab API
        total = width = 0.0
        first = None
        prev_after = 0.0
        for f in self._content:
            w, h = f.wrapOn(self.canv, aW, 0xFFFFFFF)
            if h <= _FUZZ:  # empty flowables take no space
                continue
            width = max(width, min(w, aW))
            total += h
            if first is None:
                first = h
            else:
                total += max(f.getSpaceBefore() - prev_after, 0)
            prev_after = f.getSpaceAfter()
            total += prev_after
        # The attributes KeepTogether.split reads (as KeepTogether.wrap sets them).
        self._H = total - prev_after
        self._H0 = first or 0
        self._wrapInfo = aW, aH
        return width, 0xFFFFFF  # force a split, as KeepTogether does
