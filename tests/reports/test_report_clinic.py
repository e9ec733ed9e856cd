"""The clinic at the top of both reports: name, address, phone and logo, set in records, the CLI and the app.

Real SQLite, real PDFs (text extracted, images counted, pages rendered with pdftoppm).
"""

from __future__ import annotations

import io
import sqlite3
from datetime import date

import pdfplumber
import pytest
import sqlalchemy as sa
from PIL import Image

import cli
from assessment.errors import InputError
from assessment.program import SAFETY_SCREEN_KEYS
from records import services
from records.db import open_database
from reports import build_clinician_report, build_patient_report, render_pdf
from reports.samples import example_inputs

from reportcheck import flat, pdf_text, render_pages

CLINIC = {"name": "Riverside Falls Clinic", "phone": "+1 555 0100", "address": "1 River Road, Springfield"}


def png(size=(240, 80), colour=(31, 111, 92)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def db(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    yield database
    database.dispose()


def _pdf_facts(pdf: bytes) -> tuple[str, int]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        first = doc.pages[0]
        return flat(first.extract_text() or ""), len(first.images)


@pytest.mark.parametrize("language", ["en", "es", "zh-Hans"])
def test_both_reports_print_the_clinic_and_its_logo(language, pdftoppm, tmp_path):
    inputs = example_inputs() | {"clinic": CLINIC["name"], "clinic_phone": CLINIC["phone"],
                                 "clinic_address": CLINIC["address"], "clinic_logo": png(), "language": language}
    for model in (build_patient_report(**inputs), build_clinician_report(**inputs)):
        pdf = render_pdf(model)
        text = flat(" ".join(pdf_text(pdf)))
        for part in (CLINIC["name"], "1 River Road,", "Springfield", CLINIC["phone"]):
            assert part in text, (model.kind, part)
        _, images = _pdf_facts(pdf)
        assert images == 1, "the logo is drawn once, on the first page, beside the title"
        folder = tmp_path / f"{model.kind}-{language}"
        folder.mkdir()
        pages = render_pages(pdftoppm, pdf, folder, dpi=30)
        with Image.open(pages[0]) as page:  # the logo's green is drawn in the top sixth of page 1
            rgb = page.convert("RGB")
            top = rgb.crop((0, 0, rgb.width, rgb.height // 6))
            near = [c for _, c in top.getcolors(maxcolors=1 << 20)
                    if sum(abs(a - b) for a, b in zip(c, (31, 111, 92), strict=True)) < 24]
            assert near, "the logo's green is drawn near the top of page 1"
    if language in ("en", "zh-Hans"):  # the sample handout still fits two sheets with the clinic's letterhead
        assert len(pdf_text(render_pdf(build_patient_report(**inputs)))) == 2
    with pdfplumber.open(io.BytesIO(render_pdf(build_patient_report(**inputs)))) as doc:
        assert min(c["size"] for p in doc.pages for c in p.chars) >= 14.0, "the handout's clinic lines are large print too"


def test_no_clinic_set_prints_no_letterhead_and_a_wide_logo_is_scaled_into_its_box():
    bare = example_inputs() | {"clinic": None, "clinic_phone": None}
    text, images = _pdf_facts(render_pdf(build_patient_report(**bare)))
    assert images == 0 and "Riverside" not in text
    wide = example_inputs() | {"clinic": CLINIC["name"], "clinic_logo": png((4000, 100))}
    with pdfplumber.open(io.BytesIO(render_pdf(build_clinician_report(**wide)))) as doc:
        [image] = doc.pages[0].images
        assert image["x1"] - image["x0"] <= 30 * 72 / 25.4 + 0.5  # LOGO_BOX: 30 × 7 mm
        assert image["bottom"] - image["top"] <= 7 * 72 / 25.4 + 0.5


@pytest.mark.parametrize(("data", "why"), [
    (b"GIF89a not allowed", "PNG or JPEG"),
    (png()[:60], "damaged"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (600 * 1024), "KB"),
    (png((4001, 10)), "px"),
    ("logo.png", "PNG or JPEG"),
])
def test_a_bad_logo_is_refused_naming_the_field_and_nothing_changes(db, data, why):
    services.set_clinic_settings(db, **CLINIC, logo=png(), actor="boss")
    before = services.get_clinic_settings(db)
    with pytest.raises(InputError) as err:
        services.set_clinic_settings(db, name="Other", phone="+1 555 0199", logo=data, actor="boss")
    assert err.value.field == "logo" and why in err.value.message
    assert services.get_clinic_settings(db) == before


def test_the_logo_is_kept_until_replaced_or_removed(db):
    first, second = png(colour=(200, 0, 0)), png(colour=(0, 0, 200))
    services.set_clinic_settings(db, **CLINIC, logo=first, actor="boss")
    assert services.set_clinic_settings(db, **CLINIC, actor="boss").logo == first  # left out: kept
    assert services.set_clinic_settings(db, **CLINIC, logo=second, actor="boss").logo == second
    assert services.set_clinic_settings(db, **CLINIC, logo=None, actor="boss").logo is None


def _rows(path) -> dict:
    with sqlite3.connect(path) as c:
        return {t: c.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()  # noqa: S608 - table names from sqlite_master
                for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_cli_sets_shows_and_removes_the_logo_and_refuses_bad_files_in_one_line(tmp_path, capsys):
    path = tmp_path / "clinic.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    base = ["clinic", "set", "--db", str(path), "--name", CLINIC["name"], "--phone", CLINIC["phone"]]
    assert cli.main([*base, "--address", CLINIC["address"], "--logo", str(logo)]) == 0
    assert "with a logo" in capsys.readouterr().out
    assert cli.main(["clinic", "show", "--db", str(path)]) == 0
    assert "Logo: yes" in capsys.readouterr().out
    before = _rows(path)
    bad = tmp_path / "logo.txt"
    bad.write_text("not an image")
    for argv, field in (([*base, "--logo", str(bad)], "logo"), ([*base, "--logo", str(tmp_path / "none.png")], "--logo"),
                        ([*base, "--logo", str(logo), "--no-logo"], "--logo"), ([*base, "--logo", str(tmp_path)], "--logo")):
        assert cli.main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and field in err, err
        assert _rows(path) == before, "a refused clinic set writes nothing"
    assert cli.main([*base]) == 0  # no --logo: the stored logo stays
    capsys.readouterr()
    assert services.get_clinic_settings(db := open_database(f"sqlite:///{path}")).logo == png()
    db.dispose()
    assert cli.main([*base, "--no-logo"]) == 0
    capsys.readouterr()
    cli.main(["clinic", "show", "--db", str(path)])
    assert "Logo: none" in capsys.readouterr().out


def test_cli_report_prints_the_stored_clinic(db, tmp_path, capsys):
    services.set_clinic_settings(db, **CLINIC, logo=png(), actor="boss")
    services.add_patient(db, mrn="C1", given_name="Ana", family_name="Ruiz", birth_date=date(1946, 5, 17),
                         sex="female", population="community", actor="boss")
    services.record_assessment(db, "C1", {"trials": [4.1, 3.9], "assessed_on": "2026-11-02", "prior_falls": 0,
                                          "walking_aid": "no",
                                          "safety_screen": {k: "no" for k in SAFETY_SCREEN_KEYS}},
                               actor="boss")
    url = str(db.engine.url)
    out = tmp_path / "patient.pdf"
    assert cli.main(["report", "--db", url, "--mrn", "C1", "--kind", "patient", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    text = flat(" ".join(pdf_text(out.read_bytes())))
    assert CLINIC["address"] in text and _pdf_facts(out.read_bytes())[1] == 1


def test_0007_upgrades_a_clinic_row_in_place(db):
    services.set_clinic_settings(db, **CLINIC, actor="boss")
    db.downgrade("0006")
    with db.engine.begin() as connection:
        assert "logo_path" in {c["name"] for c in sa.inspect(connection).get_columns("clinic_settings")}
    db.upgrade()
    kept = services.get_clinic_settings(db)
    assert (kept.name, kept.phone, kept.address, kept.logo) == (CLINIC["name"], CLINIC["phone"], CLINIC["address"], None)
