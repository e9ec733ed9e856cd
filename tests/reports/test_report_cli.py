"""`stepback clinic set|show`, `patient add --language` and `report --language` on a real SQLite store."""

from __future__ import annotations

import io

import pdfplumber
import pytest

import cli
from records import services
from records.db import open_database
from records.validation import LANGUAGES, validate_language
from reports.i18n import LANGUAGES as CATALOG_LANGUAGES


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'stepback.db'}"
    monkeypatch.setenv("STEPBACK_DATABASE_URL", url)
    monkeypatch.setenv("STEPBACK_CLINICIAN", "jnovak")
    open_database(url).dispose()  # the CLI opens only an existing SQLite file (or makes one with --create)
    return url


def _text(path) -> str:
    with pdfplumber.open(path) as pdf:
        return "".join("".join((p.extract_text() or "").split()) for p in pdf.pages)


def test_store_and_catalogs_allow_the_same_languages():
    assert LANGUAGES == CATALOG_LANGUAGES
    assert validate_language("") is None and validate_language("es") == "es"


def test_clinic_set_show_and_bad_phone_writes_nothing(capsys, db_url):
    code, out, _ = run(capsys, "clinic", "show")
    assert code == 0 and "No clinic set" in out
    code, _, err = run(capsys, "clinic", "set", "--name", "Riverside", "--phone", "call me")
    assert code == 2 and err.count("\n") == 1 and "phone" in err and "Traceback" not in err
    assert services.get_clinic_settings(open_database(db_url)) is None
    code, out, _ = run(capsys, "clinic", "set", "--name", "Riverside Falls Clinic", "--phone", "+1 555 0100",
                       "--address", "1 River Road")
    assert code == 0
    code, out, _ = run(capsys, "clinic", "show")
    assert "Name: Riverside Falls Clinic" in out and "Phone: +1 555 0100" in out and "Address: 1 River Road" in out


def test_patient_language_drives_the_handout_and_report_language_overrides(capsys, db_url, tmp_path):
    assert run(capsys, "clinic", "set", "--name", "Riverside Falls Clinic", "--phone", "+1 555 0100")[0] == 0
    code, out, err = run(capsys, "patient", "add", "--mrn", "W1", "--given", "秀英", "--family", "王",
                         "--birth-date", "1946-07-02", "--sex", "female", "--language", "zh-Hans")
    assert code == 0 and "handout language zh-Hans" in out, err
    assert services.get_patient(open_database(db_url), "W1").language == "zh-Hans"
    assert run(capsys, "assess", "--mrn", "W1", "--trial", "4.1", "--trial", "3.9", "--date", "2025-03-10")[0] == 0

    zh = tmp_path / "zh.pdf"
    code, _, err = run(capsys, "report", "--mrn", "W1", "--kind", "patient", "--out", str(zh))
    assert code == 0 and "not yet reviewed" in err  # the CLI says so on stderr
    text = _text(zh)
    assert "立即停下并给我们打电话" in text and "秀英王" in text and "+15550100" in text

    en = tmp_path / "en.pdf"
    code, _, err = run(capsys, "report", "--mrn", "W1", "--kind", "patient", "--out", str(en), "--language", "en")
    assert code == 0 and "not yet reviewed" not in err
    assert "Stopstraightawayandcallus" in _text(en) and "RiversideFallsClinic" in _text(en)

    bad = tmp_path / "bad.pdf"
    code, _, err = run(capsys, "report", "--mrn", "W1", "--kind", "patient", "--out", str(bad), "--language", "fr")
    assert code == 2 and "--language" in err and "en, es, zh-Hans" in err and not bad.exists()


def test_patient_add_rejects_an_unknown_language_and_writes_nothing(capsys, db_url):
    code, _, err = run(capsys, "patient", "add", "--mrn", "W2", "--given", "Ana", "--family", "Ruiz",
                       "--birth-date", "1950-01-01", "--sex", "female", "--language", "Spanish")
    assert code == 2 and err.startswith("stepback: error: language:") and err.count("\n") == 1
    assert not services.list_patients(open_database(db_url))
