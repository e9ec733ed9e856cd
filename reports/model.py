"""A report as plain data: blocks of strings, numbers and rows.

Builders (:mod:`reports.patient`, :mod:`reports.clinician`) produce a
:class:`ReportModel`; only :mod:`reports.render` turns it into a PDF. Tests
read the model directly, and the text extracted from the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1 = title, 2 = section)."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Running text. ``style``: body, lead, small, warning or note."""

    text: str
    style: str = "body"


@dataclass(frozen=True)
class Table:
    """A table with a header row; ``widths`` are fractions of the text width."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] | None = None


@dataclass(frozen=True)
class IconItem:
    """One pictogram and its sentence (icon keys: see :mod:`reports.icons`)."""

    icon: str
    text: str


@dataclass(frozen=True)
class IconList:
    """Sentences each with a drawn pictogram."""

    items: tuple[IconItem, ...]


@dataclass(frozen=True)
class TrendPoint:
    """One assessment on the trend chart."""

    assessed_on: str  # ISO date
    seconds: float
    label: str = ""
    amended: bool = False
    current: bool = False


@dataclass(frozen=True)
class TrendChart:
    """3MBW mean time of every assessment, with the cut-off lines."""

    title: str
    points: tuple[TrendPoint, ...]
    cutoffs: tuple[tuple[float, str], ...] = ()
    #: Shaded band (low, high) seconds: the previous mean ± MDC95; None for none.
    band: tuple[float, float] | None = None
    band_label: str = ""


@dataclass(frozen=True)
class Letterhead:
    """The report's title row: ``beside`` (the title, the patient line) on the left, the clinic on the right.

    The clinic is its logo (PNG/JPEG bytes, optional) above its name and
    detail lines, set beside the title so the letterhead costs no extra
    height on a handout that must stay short.
    """

    name: str
    lines: tuple[str, ...] = ()
    logo: bytes | None = None
    beside: tuple = ()

    @classmethod
    def of_clinic(cls, name: str | None, phone: str | None = None, address: str | None = None,
                  logo: bytes | None = None, *, beside: tuple = (), text: bool = True) -> tuple:
        """The title row with the clinic beside it, or ``beside`` alone when there is nothing to show.

        ``text=False`` shows only the logo (the handout prints every word at
        14 pt or more, so its clinic details go in its "call us" section).
        """
        name = (name or "").strip() if text else ""
        if not name and logo is None:
            return tuple(beside)
        lines = tuple(t.strip() for t in (address, phone) if t and t.strip()) if name else ()
        return (cls(name, lines, logo, tuple(beside)),)


Block = Heading | Paragraph | Table | IconList | TrendChart | Letterhead


@dataclass(frozen=True)
class ReportModel:
    """Everything a renderer needs, as plain data.

    Parameters
    ----------
    kind : {"patient", "clinician"}
    title, author, subject : str
        Also written to the PDF metadata.
    file_stem : str
        File name (without ``.pdf``) used by :func:`reports.render_many`.
    header : str
        Running header drawn on every page ('' for none), e.g. the patient's name.
    header_right : str
        Second part of the header (identifiers), never shortened: drawn after
        ``header`` on one line when both fit, else on a line of its own.
    footer : str
        Running footer drawn on every page, followed by "page X of Y".
    body_size : float
        Body text size in points.
    blocks : tuple
        The content, in order.
    language : str
        BCP 47 tag of the report's language (PDF metadata), e.g. "en", "es", "zh-Hans".
    page_label : str
        Text before the page total, with ``{page}`` for the page number
        ("page {page} of", "página {page} de", "第 {page} 页，共").
    """

    kind: str
    title: str
    author: str
    subject: str
    file_stem: str
    header: str
    header_right: str
    footer: str
    body_size: float
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    language: str = "en"
    page_label: str = "page {page} of"

    def text(self) -> str:
        """All the report's words, one block per line (for tests and search)."""
        out = [self.title, " · ".join(t for t in (self.header, self.header_right) if t), self.footer]
        for block in self.blocks:
            if isinstance(block, (Heading, Paragraph)):
                out.append(block.text)
            elif isinstance(block, Table):
                out.append(" | ".join(block.header))
                out.extend(" | ".join(row) for row in block.rows)
            elif isinstance(block, IconList):
                out.extend(item.text for item in block.items)
            elif isinstance(block, TrendChart):
                out.append(block.title)
                out.extend(label for _, label in block.cutoffs)
                if block.band_label:
                    out.append(block.band_label)
        return "\n".join(t for t in out if t)

    def tables(self) -> tuple[Table, ...]:
        """The report's tables, in order."""
        return tuple(b for b in self.blocks if isinstance(b, Table))
