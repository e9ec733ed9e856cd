"""The fast rendering path: page splitting, headings kept with their block, font caching."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportcheck import flat, pdf_text
from reportlab.pdfbase.ttfonts import TTFont

from reports import Heading, Paragraph, ReportModel, Table, build_clinician_report, render_pdf
from reports.fontcache import SubsetCachingTTFont
from reports.render import register_fonts
from reports.samples import example_inputs

FONT_FILE = os.path.join(os.path.dirname(__import__("reports").__file__), "fonts", "DejaVuSans.ttf")


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


def test_cached_fonts_write_exactly_what_reportlab_writes():
    """Same bytes with the subset cache (hit and miss) as with reportlab's own TTFont."""
    code = (
        "import hashlib, os, reports\n"
        "from reportlab.pdfbase import pdfmetrics\n"
        "from reportlab.pdfbase.ttfonts import TTFont\n"
        "d = os.path.join(os.path.dirname(reports.__file__), 'fonts')\n"
        "for n, f in (('DejaVuSans', 'DejaVuSans.ttf'), ('DejaVuSans-Bold', 'DejaVuSans-Bold.ttf')):\n"
        "    pdfmetrics.registerFont(TTFont(n, os.path.join(d, f)))  # registered first: these are used\n"
        "from reports import build_clinician_report, render_pdf\n"
        "from reports.samples import example_inputs\n"
        "for kw in ({}, {'given_name': 'Σοφία', 'family_name': 'Παπαδοπούλου'}):\n"
        "    print(hashlib.sha256(render_pdf(build_clinician_report(**example_inputs(**kw)))).hexdigest())\n"
    )
    plain = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                           timeout=120).stdout.split()
    register_fonts()
    from reportlab.pdfbase import pdfmetrics

    assert isinstance(pdfmetrics.getFont("DejaVuSans"), SubsetCachingTTFont)
    for kw, digest in zip(({}, {"given_name": "Σοφία", "family_name": "Παπαδοπούλου"}), plain):
        model = build_clinician_report(**example_inputs(**kw))
        first, again = render_pdf(model), render_pdf(model)  # the second one comes from the cache
        assert hashlib.sha256(first).hexdigest() == digest
        assert again == first


class _Doc:
    """Stands in for a PDF document: fonts only use it as a key."""


@pytest.fixture(scope="module")
def font_pair():
    return TTFont("PlainDejaVu", FONT_FILE), SubsetCachingTTFont("CachedDejaVu", FONT_FILE)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab Z~\x7f\x1f\t·—ëΣЖ€\xa0(\\)"), max_size=12), max_size=8))
def test_ascii_shortcut_assigns_the_same_codes_as_reportlab(font_pair, texts):
    plain, cached = font_pair
    doc_p, doc_c = _Doc(), _Doc()
    for text in texts:
        assert cached.splitString(text, doc_c) == plain.splitString(text, doc_p), text
    assert (doc_c in cached.state) == (doc_p in plain.state)
    if texts:
        assert cached.state[doc_c].subsets == plain.state[doc_p].subsets
