"""Every script a name may be written in prints with real glyphs, also in the text layer."""

from __future__ import annotations

import io
import unicodedata

import pdfplumber
import pytest
from reportcheck import render_pages

from reports import build_clinician_report, build_patient_report, render_pdf
from reports.samples import example_inputs
from reports.typeface import font_for, register_fonts

#: (script, given name, family name, font expected for its letters, right to left).
NAMES = (
    ("Latin", "Zoë", "Øster-Ñúñez", "DejaVuSans", False),
    ("Greek", "Σοφία", "Παπαδοπούλου", "DejaVuSans", False),
    ("Cyrillic", "Анна", "Иванова", "DejaVuSans", False),
    ("Chinese", "秀英", "王", "DroidSansFallback", False),
    ("Japanese", "花子", "やまだ", "DroidSansFallback", False),
    ("Korean", "민준", "김", "NanumGothic", False),
    ("Arabic", "محمد", "عبد الله", "NotoSansArabic", True),
    ("Hebrew", "שרה", "כהן", "NotoSansHebrew", True),
    ("Devanagari", "राजेश", "कुमार", "NotoSansDevanagari", False),
    ("Thai", "สมชาย", "ใจดี", "NotoSansThai", False),
)


def _expected_words(given: str, family: str, rtl: bool) -> list[str]:
    """The words as the text layer holds them.

    reportlab writes shaped right-to-left text in visual order with
    presentation forms: NFKC folds the forms back, and a word reads reversed,
    except where one ligature glyph stands for the whole word (Noto's
    U+FDF4 for محمد folds back to the word in logical order).
    Words are compared without white space: pdfplumber splits a Devanagari
    word where a shaped vowel sign sits apart from its consonant.
    """
    words = f"{given} {family}".split()
    return [w[::-1] for w in words] if rtl else words


@pytest.mark.parametrize("script,given,family,font,rtl", NAMES, ids=[n[0] for n in NAMES])
@pytest.mark.parametrize("kind", ["patient", "clinician"])
def test_name_prints_with_a_font_that_has_its_glyphs(kind, script, given, family, font, rtl):
    register_fonts()
    inputs = example_inputs(given_name=given, family_name=family)
    build = build_patient_report if kind == "patient" else build_clinician_report
    pdf = render_pdf(build(**inputs))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        text = "".join(unicodedata.normalize("NFKC", page.extract_text() or "").split())
        for word in _expected_words(given, family, rtl):
            assert word in text or (rtl and word[::-1] in text), (script, word)
        # PDF font names are PostScript names, e.g. AAAAAA+NotoSansThai-Regular.
        used = {c["fontname"].split("+")[-1] for c in page.chars}
        assert any(u.startswith(font) for u in used), (script, used)
    for char in given + family:
        if unicodedata.category(char).startswith("L"):
            assert font_for(char).startswith(font), (script, char, font_for(char))


def test_no_glyph_is_missing_for_any_name_letter():
    """Every letter of the names above maps to a real glyph (not .notdef) in its font."""
    from reportlab.pdfbase import pdfmetrics

    register_fonts()
    for script, given, family, _, _ in NAMES:
        for char in given + family:
            if unicodedata.category(char).startswith("L"):
                face = pdfmetrics.getFont(font_for(char)).face
                assert face.charToGlyph.get(ord(char), 0) != 0, (script, char)


def test_arabic_is_shaped_and_hebrew_reads_right_to_left():
    """Shaping turns Arabic letters into their contextual forms and lays Hebrew out right to left."""
    pdf = render_pdf(build_clinician_report(**example_inputs(given_name="محمد", family_name="שרה")))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        raw = doc.pages[0].extract_text()
    assert any(0xFB50 <= ord(c) <= 0xFEFF for c in raw)  # presentation forms: shaped
    assert "הרש" in raw and "שרה" not in raw


@pytest.mark.parametrize("script,given,family,font,rtl", NAMES, ids=[n[0] for n in NAMES])
def test_pages_render_for_every_script(script, given, family, font, rtl, pdftoppm, tmp_path):
    pdf = render_pdf(build_patient_report(**example_inputs(given_name=given, family_name=family)))
    pages = render_pages(pdftoppm, pdf, tmp_path)
    assert pages and all(p.stat().st_size > 2000 for p in pages)
