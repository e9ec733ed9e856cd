"""A fast text-only table flowable (header row, grid, optional row stripes).

Every report table holds plain strings, wrapped to their column in advance,
so reportlab's general :class:`~reportlab.platypus.Table` (cell styles per
cell, spans, flowables in cells, one text object per string) does far more
work than needed. :class:`GridTable` lays the same table out the same way
(row height = lines × leading + padding; text at the top-left of the cell)
and draws it with one path for the grid and one text object for all cells
(:class:`reports.pdftext.TextWriter`).
It splits between rows and repeats the header row on every page, as
``Table(repeatRows=1)`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.platypus.flowables import Flowable

from .pdftext import TextWriter


@dataclass(frozen=True)
class GridStyle:
    """How a :class:`GridTable` looks.

    Parameters
    ----------
    font, bold : str
        Registered font names for body cells and the header row.
    size, leading : float
        Font size and line spacing of every cell, points.
    pad : float
        Padding on each side of a cell, points.
    ink, head_ink : Color
        Text colour of body cells and of the header row.
    head_fill : Color
        Background of the header row.
    grid_width : float
        Width of the grid lines, points.
    grid_color : Color
        Colour of the grid lines.
    stripes : tuple of Color or None
        Backgrounds cycled over the body rows (None: no background).
    """

    font: str
    bold: str
    size: float
    leading: float
    pad: float
    ink: Color
    head_ink: Color
    head_fill: Color
    grid_width: float
    grid_color: Color
    stripes: tuple[Color | None, ...] = (None,)


class GridTable(Flowable):
    """A table of pre-wrapped text lines with a repeated header row.

    Parameters
    ----------
    header : sequence of tuple of str
        The header cells, each as its lines (see :func:`reports.textflow.wrap_lines`).
    rows : sequence of sequence of tuple of str
        The body rows; each cell as its lines.
    col_widths : sequence of float
        Column widths, points.
    style : GridStyle
    first_row : int
        Index of ``rows[0]`` in the whole table (keeps the stripes in step
        across a page break).
    """

    def __init__(self, header: Sequence[tuple[str, ...]], rows: Sequence[Sequence[tuple[str, ...]]],
                 col_widths: Sequence[float], style: GridStyle, first_row: int = 0) -> None:
        super().__init__()
        self.hAlign = "LEFT"
        self.header = tuple(header)
        self.rows = tuple(tuple(r) for r in rows)
        self.col_widths = tuple(col_widths)
        self.style = style
        self.first_row = first_row
        extra = 2 * style.pad
        self.header_height = max(len(c) for c in self.header) * style.leading + extra
        self.row_heights = tuple(max(len(c) for c in row) * style.leading + extra for row in self.rows)
        self.width = sum(self.col_widths)
        self.height = self.header_height + sum(self.row_heights)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 - reportlab API
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list:  # noqa: N803 - reportlab API
        """Split between body rows; nothing when not even one row fits under the header."""
        used = self.header_height
        fits = 0
        for h in self.row_heights:
            if used + h > availHeight:
                break
            used += h
            fits += 1
        if fits == 0:
            return []
        if fits == len(self.rows):
            return [self]
        cls, s = type(self), self.style
        return [cls(self.header, self.rows[:fits], self.col_widths, s, self.first_row),
                cls(self.header, self.rows[fits:], self.col_widths, s, self.first_row + fits)]

    def draw(self) -> None:
        c, s = self.canv, self.style
        xs = [0.0]
        for w in self.col_widths:
            xs.append(xs[-1] + w)
        ys = [self.height, self.height - self.header_height]  # row tops, top down
        for h in self.row_heights:
            ys.append(ys[-1] - h)
        width = xs[-1]
        # Backgrounds.
        c.setFillColor(s.head_fill)
        c.rect(0, ys[1], width, self.header_height, stroke=0, fill=1)
        for k, fill in enumerate(s.stripes):
            if fill is None:
                continue
            c.setFillColor(fill)
            for i, h in enumerate(self.row_heights):
                if (self.first_row + i) % len(s.stripes) == k:
                    c.rect(0, ys[i + 2], width, h, stroke=0, fill=1)
        # Text: one text object for every cell.
        text = TextWriter(c)
        top_gap = s.pad + s.size
        text.set_font(s.bold, s.size)
        text.set_color(s.head_ink)
        self._cells(text, self.header, xs, ys[0] - top_gap)
        text.set_font(s.font, s.size)
        text.set_color(s.ink)
        for i, row in enumerate(self.rows):
            self._cells(text, row, xs, ys[i + 1] - top_gap)
        text.close()
        # Grid: one path.
        c.setLineCap(1)
        c.setLineJoin(1)
        c.setLineWidth(s.grid_width)
        c.setStrokeColor(s.grid_color)
        segments = [(0, y, width, y) for y in ys] + [(x, 0, x, self.height) for x in xs]
        c.lines(segments)

    def _cells(self, text: TextWriter, row: Sequence[tuple[str, ...]], xs: Sequence[float], baseline: float) -> None:
        pad, leading = self.style.pad, self.style.leading
        for x, lines in zip(xs, row):
            text.show_lines(x + pad, baseline, lines, leading)
