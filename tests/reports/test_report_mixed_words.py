"""A word whose letters come from two fonts prints (reportlab shaped it with one font and crashed).

CI's fuzz test found ``stepback report --clinic "١=cmd|' /C calc'!A0"`` ending
in a traceback: reportlab shapes a space-free word with its first font's
HarfBuzz face. A hyphenated name across scripts ("محمد-Smith") did the same.
"""

from __future__ import annotations

import io
import unicodedata

import pdfplumber
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportcheck import render_pages
from reportlab.platypus import SimpleDocTemplate

from reports import build_clinician_report, build_patient_report, render_pdf
from reports.render import _styles, para
from reports.samples import example_inputs
from reports.typeface import BASE, register_fonts, runs

#: (given, family) names with a word in two fonts, no space between the scripts.
MIXED = (
    ("محمد-Smith", "Lee"),
    ("Anna", "Smith-محمد"),
    ("१२३abc", "राजेश-Kumar"),
    ("สมชายabc", "ใจดี"),
    ("abcשלום", "כהן-Cohen"),
    ("王abc١", "Nguyễn"),
    ("١=cmd|'", "/C calc'!A0"),
)


@pytest.mark.parametrize("given_name,family_name", MIXED)
@pytest.mark.parametrize("kind", ["patient", "clinician"])
def test_mixed_script_name_prints_in_both_reports(kind, given_name, family_name, pdftoppm, tmp_path):
    build = build_patient_report if kind == "patient" else build_clinician_report
    pdf = render_pdf(build(**example_inputs(given_name=given_name, family_name=family_name)))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = unicodedata.normalize("NFKC", doc.pages[0].extract_text() or "")
    latin = [w for w in (given_name + " " + family_name).replace("-", " ").split() if w.isascii() and w.isalpha()]
    for word in latin:
        assert word in text, (word, text[:300])
    pages = render_pages(pdftoppm, pdf, tmp_path)
    assert pages and all(p.stat().st_size > 2000 for p in pages)


def test_clinic_name_that_broke_the_report_command():
    """The fuzz input itself, as the clinic name on the clinician note and the handout."""
    for build in (build_clinician_report, build_patient_report):
        pdf = render_pdf(build(**example_inputs(clinic="١=cmd|' /C calc'!A0")))
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            text = " ".join(page.extract_text() or "" for page in doc.pages)
        assert "cmd|' /C calc'!A0" in text


#: Letters and neutrals of every script the reports carry, to mix within one word.
_ALPHABET = st.sampled_from(list("abcXYZ-.'=|!0159") + list("محمدعبد١٢") + list("שרהכ") + list("राजेशकुमार")
                            + list("สมชายใจดี") + list("王秀英やまだ") + list("민준김") + list("Σοφία"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_ALPHABET, min_size=1, max_size=12), min_size=1, max_size=4))
def test_any_mix_of_scripts_lays_out(words):
    """Any words made of letters from any of the fonts, with or without spaces, lay out and draw."""
    register_fonts()
    style = _styles(10.0, False)["body"]
    out = io.BytesIO()
    SimpleDocTemplate(out).build([para(" ".join(words), style), para("".join(words), _styles(14.0, True)["lead"])])
    assert out.getvalue().startswith(b"%PDF")


def test_hyphen_between_arabic_and_latin_goes_with_the_latin_side():
    """Shaping would otherwise draw it on the far (left) side of the Arabic word."""
    register_fonts()
    assert runs("محمد-Smith") == (("NotoSansArabic", "محمد"), (BASE[0], "-Smith"))
    assert runs("Smith-محمد") == ((BASE[0], "Smith-"), ("NotoSansArabic", "محمد"))
    # between two Arabic words a space and a hyphen stay in the Arabic run
    assert runs("عبد الله-محمد") == (("NotoSansArabic", "عبد الله-محمد"),)
    # an Arabic-Indic digit takes the Arabic face wherever it stands, so no
    # Latin run starts with it (HarfBuzz would lay the whole run right to left)
    assert runs("١=A0") == (("NotoSansArabic", "١"), (BASE[0], "=A0"))
    assert runs("Room ١٢") == ((BASE[0], "Room "), ("NotoSansArabic", "١٢"))


def test_arabic_names_are_not_drawn_with_a_discretionary_ligature():
    """Without "dlig", محمد is four shaped letters, not Noto's vowelled ligature U+FDF4."""
    pdf = render_pdf(build_clinician_report(**example_inputs(given_name="محمد", family_name="Lee")))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        raw = doc.pages[0].extract_text() or ""
    assert "\ufdf4" not in raw
    assert "دمحم" in unicodedata.normalize("NFKC", raw)
