"""Platypus layout: page splitting, headings kept with their block, wrapping."""

from __future__ import annotations

import pytest
from reportcheck import flat, pdf_text

from reports import Heading, Paragraph, ReportModel, Table, render_pdf


def _model(blocks, kind: str = "clinician") -> ReportModel:
    return ReportModel(kind=kind, title="t", author="a", subject="s", file_stem="x", header="Header Name",
                       header_right="MRN 1", footer="footer", body_size=9.0 if kind == "clinician" else 14.5,
                       blocks=tuple(blocks))


def test_long_table_splits_between_rows_and_repeats_its_header():
    rows = tuple((f"row{i:03d}", "value " * (1 + i % 4)) for i in range(150))
    pages = [flat(t) for t in pdf_text(render_pdf(_model([Table(("KeyColumn", "ValueColumn"), rows, (0.3, 0.7))])))]
    assert len(pages) >= 3
    seen = []
    for number, text in enumerate(pages, start=1):
        assert text.count("KeyColumn ValueColumn") == 1, number  # header on every page, once
        assert f"page {number} of {len(pages)}" in text
        seen += [w for w in text.split() if w.startswith("row")]
    assert seen == [r[0] for r in rows]  # every row once, in order


def test_long_paragraph_splits_between_lines_without_losing_words():
    words = [f"w{i:04d}" for i in range(1500)]
    pages = [flat(t) for t in pdf_text(render_pdf(_model([Paragraph(" ".join(words))])))]
    assert len(pages) >= 2
    assert [w for p in pages for w in p.split() if w.startswith("w")] == words


@pytest.mark.parametrize("filler_lines", range(40, 76, 5))
def test_a_heading_is_never_left_alone_at_the_foot_of_a_page(filler_lines):
    filler = [Paragraph(f"filler line {i}") for i in range(filler_lines)]
    rows = tuple((f"r{i}", "x") for i in range(8))
    pdf = render_pdf(_model(filler + [Heading("Tail heading"), Table(("TailColumn", "B"), rows)]))
    pages = [flat(t) for t in pdf_text(pdf)]
    heading_page = [i for i, t in enumerate(pages) if "Tail heading" in t]
    assert len(heading_page) == 1
    assert "TailColumn B r0 x" in pages[heading_page[0]]


def test_text_wraps_inside_the_frame_and_keeps_explicit_line_breaks():
    text = "first line\n" + "long " * 80 + "\nlast line"
    pages = [flat(t) for t in pdf_text(render_pdf(_model([Paragraph(text, "warning")])))]
    assert pages[0].count("long") == 80 and "first line" in pages[0] and "last line" in pages[0]


def test_text_is_never_read_as_markup():
    text = "<b>not bold</b> & <font name='Courier'>x</font> <br/>"
    pages = [flat(t) for t in pdf_text(render_pdf(_model([Paragraph(text), Table(("A",), ((text,),))])))]
    assert pages[0].count("<b>not bold</b> & <font name='Courier'>x</font>") == 2


def test_renderer_uses_no_private_reportlab_attribute():
    """The rewrite reads no ``canvas._doc`` or other underscored reportlab name."""
    import pathlib
    import re

    import reports

    for path in pathlib.Path(reports.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(canv|canvas|c|doc|self\.canv|pdfmetrics)\._[a-z]", source), path.name
