"""The patient handout in English, Spanish and Simplified Chinese (Babel gettext catalogs)."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from assessment.errors import InputError
from reports import build_patient_report, render_pdf
from reports.i18n import LANGUAGES, catalog, check_language, program_messages, review, review_warning
from reports.samples import example_inputs

LOCALE = Path(__import__("reports").__file__).parent / "locale"
TRANSLATED = ("es", "zh-Hans")


def _template_ids() -> set:
    with (LOCALE / "messages.pot").open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


def test_template_holds_every_handout_string_and_every_program_text():
    """The committed template is up to date with the code and the program tables."""
    code = {msg for _, _, msg, _, _ in extract_from_dir(
        str(LOCALE.parent), [("patient.py", "python")], keywords={"_": None, "N_": None, "ngettext": (2, 3)})}
    ids = _template_ids()
    assert code <= ids, code - ids
    assert set(program_messages()) <= ids, set(program_messages()) - ids
    assert len(ids) >= 80


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_coverage_is_100_percent(language):
    cat = catalog(language)
    ids = _template_ids()
    translated = {m.id for m in cat if m.id and m.string and (not isinstance(m.string, tuple) or all(m.string))
                  and not m.fuzzy}
    assert ids <= translated, f"untranslated in {language}: {sorted(map(str, ids - translated))[:5]}"
    for m in cat:  # placeholders survive translation
        if m.id and isinstance(m.id, str):
            for name in ("{surface}", "{support}", "{week}", "{who}", "{phone}", "{date}", "{page}", "{minutes}", "{times}"):
                assert (name in m.id) == (name in m.string), (language, m.id)


def _handout(language: str, **kw) -> tuple[str, str]:
    inputs = example_inputs(**kw)
    model = build_patient_report(**inputs, language=language, clinic_phone="+1 555 0100")
    with pdfplumber.open(io.BytesIO(render_pdf(model))) as pdf:
        text = " ".join((p.extract_text() or "") for p in pdf.pages)
    return model.text(), " ".join(text.split())


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("kw", [{}, {"red_flags": ("neurological_condition",)}, {"treadmill": True, "risk_category": "low"},
                                {"stop_reason": "pain", "trials": ()}])
def test_translated_handout_has_no_english_program_safety_or_stop_text(language, kw):
    model_text, pdf_text = _handout(language, **kw)
    english = set(program_messages()) | {"Stay safe", "Stop straight away and call us", "Why this program",
                                         "Your walking program", "What it means", "What we measured"}
    left = [e for e in english if e in model_text]
    assert not left, left
    cat = catalog(language)
    stop = cat.get("You feel dizzy or light-headed").string
    safety = cat.get("Clear the path behind you first: no rugs, cords, pets or furniture").string
    assert "".join(stop.split()) in "".join(pdf_text.split())
    assert "".join(safety.split()) in "".join(pdf_text.split())
    assert "+1 555 0100" in pdf_text  # the clinic's phone in "stop and call"


def test_spanish_and_chinese_dates_and_page_numbers():
    _, es = _handout("es")
    _, zh = _handout("zh-Hans")
    assert "10 de marzo de 2025" in es and "Página 1 de 2" in es
    assert "2025年3月10日" in "".join(zh.split()) and "第1页，共2" in "".join(zh.split())


def test_english_handout_is_unchanged_by_the_catalogs():
    model_text, _ = _handout("en")
    assert "Stop, sit down and call Riverside Falls Clinic (Dr. Jana Novák, PT) on +1 555 0100 if:" in model_text
    assert "Your next test: 21 April 2025. Please bring this sheet." in model_text


def test_unreviewed_catalogs_warn_and_english_does_not():
    assert review_warning("en") is None
    for language in TRANSLATED:
        r = review(language)
        assert not r.reviewed and r.by == "" and r.on == ""
        assert "not yet reviewed" in review_warning(language)


def test_language_is_checked_in_one_place():
    assert [check_language(x) for x in LANGUAGES] == list(LANGUAGES)
    with pytest.raises(InputError) as err:
        check_language("fr", "--language")
    assert err.value.field == "--language" and "en, es, zh-Hans" in str(err.value)
