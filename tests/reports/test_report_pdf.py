"""The rendered PDFs: text, fonts, pages, metadata, determinism, pictures."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pdfplumber
import pypdf
import pytest
from PIL import Image, ImageStat
from reportcheck import UNICODE_NAMES, flat, pdf_text, render_pages
from reports import build_clinician_report, build_patient_report, render_many, render_pdf
from reports.chart import Line, Text, trend_marks
from reports.model import TrendChart, TrendPoint
from reports.render import MARGIN
from reports.typeface import register_fonts

PATIENT_PHRASES = (
    "Your backward walking test", "What we measured", "Your time: 4.0 seconds on average (2 walks).",
    "What it means", "raised chance of falling", "Your walking program", "Why this program", "Because:",
    "Practise at home along a kitchen counter, one hand on it, with another adult beside you. Never practise alone.",
    "5 minutes, 3 times a week.", "Stay safe", "Clear the path behind you first",
    "Stop straight away and call us", "You feel dizzy or light-headed.",
    "Your next test: 21 April 2025.",
)
CLINICIAN_PHRASES = (
    "3-meter backward walk test (3MBW): clinical record", "Protocol and start convention", "standing start",
    "Timing source", "stopwatch", "4.10 s", "3.90 s", "valid", "Population", "Community older adults",
    "Reference cohort", "Polo-Ferrero", "Percentile", "z (log-normal)", "Cut-off band",
    "≥ 4.5 s", "high fall risk at or above", "31 % (interval 23 % to 40 %)", "Risk category",
    "example-0.0", "CDC STEADI items", "Timed Up and Go", "Previous mean time", "MDC95",
    "3MBW mean time, 10 assessments", "Supported at home", "Why this program",
    "Practice walk", "Safety screen and fall history", "Balance disorder or vertigo?", "Prior falls (as reported)",
    "of a fall in the next 12 months", "Inputs used", "Change from the first", "Limitations", "Tester",
    "Clinician: Dr. Jana Novák, PT", "supports, and does not replace, clinical judgement",
)


def test_patient_pdf_says_every_required_item(sample):
    text = flat(" ".join(pdf_text(sample[3])))
    for phrase in PATIENT_PHRASES:
        assert phrase in text, phrase


def test_clinician_pdf_says_every_required_item(sample):
    text = flat(" ".join(pdf_text(sample[4])))
    for phrase in CLINICIAN_PHRASES:
        assert phrase in text, phrase


def test_clinician_every_page_has_identifiers_and_page_x_of_y(sample):
    pages = pdf_text(sample[4])
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        text = flat(text)
        assert "Zoë Øster-Ñúñez · born 1946-07-02 · MRN 000123" in text, number
        assert f"page {number} of {len(pages)}" in text, number


def test_patient_body_text_is_at_least_14_pt(sample):
    with pdfplumber.open(io.BytesIO(sample[3])) as pdf:
        sizes = [c["size"] for page in pdf.pages for c in page.chars]
    assert sizes and min(sizes) >= 14.0


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"risk_category": "high"},
        {"risk_category": "low", "treadmill": True},
        {"risk_category": None, "population": "parkinsons", "trials": (5.0, 5.2), "previous_seconds": None},
        {"stop_reason": "needs_hands_on_help", "trials": (), "previous_seconds": None},
        {"given_name": "Maria-Magdalena Alexandrina Wilhelmina", "family_name": "von Hohenzollern-Sigmaringen-Żółkiewska",
         "clinic": "The Very Long Named Regional Community Falls Prevention and Rehabilitation Clinic", "risk_category": "high"},
    ],
)
def test_patient_report_fits_on_two_pages(kw, build_both):
    _, patient, _ = build_both(**kw)
    pdf = render_pdf(patient)
    assert 1 <= len(pypdf.PdfReader(io.BytesIO(pdf)).pages) <= 2


@pytest.mark.parametrize(("given", "family"), UNICODE_NAMES)
@pytest.mark.parametrize("kind", ["patient", "clinician"])
def test_unicode_names_print_in_an_embedded_font(given, family, kind, build_both):
    inputs, patient, clinician = build_both(given_name=given, family_name=family)
    pdf = render_pdf(patient if kind == "patient" else clinician)
    text = flat(" ".join(pdf_text(pdf)))
    assert f"{given} {family}" in text
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        fonts = {c["fontname"].split("+")[-1] for page in doc.pages for c in page.chars}
    assert fonts <= {"DejaVuSans", "DejaVuSans-Bold"}, fonts
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, "TrueType font must be embedded"


def test_pdf_metadata(sample):
    for pdf, title_start in ((sample[3], "Your backward walking test – Zoë"), (sample[4], "3MBW clinical record – Zoë")):
        meta = pypdf.PdfReader(io.BytesIO(pdf)).metadata
        assert meta.title.startswith(title_start)
        assert meta.author == "Dr. Jana Novák, PT"
        assert "backward walk test" in meta.subject


def test_same_input_same_bytes_and_different_input_different_bytes(build_both, sample):
    _, patient, clinician = build_both()
    assert render_pdf(patient) == sample[3]
    assert render_pdf(clinician) == sample[4]
    _, other, _ = build_both(given_name="Anna")
    assert render_pdf(other) != sample[3]


def _history(n: int) -> list[dict]:
    start = date(2020, 1, 6)
    return [{"assessed_on": start + timedelta(weeks=8 * i), "mean_seconds": 3.0 + (i % 7) * 0.6, "version": 1,
             "amended": i % 5 == 0} for i in range(n)]


def test_long_names_and_many_assessments_stay_inside_the_margins(build_both):
    inputs, _, _ = build_both(given_name="Maria-Magdalena Alexandrina Wilhelmina Σοφία Анна",
                              family_name="von Hohenzollern-Sigmaringen-Żółkiewska-Παπαδοπούλου-Иванова-Øster-Ñúñez",
                              mrn="MRN-0123456789-ABCDEFGHIJ")
    model = build_clinician_report(**{**inputs, "history": _history(25)})
    pdf = render_pdf(model)
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) >= 3
        for page in doc.pages:
            assert page.chars
            for c in page.chars:
                assert c["x0"] >= MARGIN - 1 and c["x1"] <= page.width - MARGIN + 1, (page.page_number, c["text"])
                assert c["top"] >= 0 and c["bottom"] <= page.height, (page.page_number, c["text"])
    pages = [flat(t) for t in pdf_text(pdf)]
    for number, text in enumerate(pages, start=1):  # identifiers survive a name too long for one line
        assert "born 1946-07-02 · MRN MRN-0123456789-ABCDEFGHIJ" in text, number
        assert "Maria-Magdalena Alexandrina" in text, number
    assert "3MBW mean time, 26 assessments" in " ".join(pages)
    patient = render_pdf(build_patient_report(**inputs))
    with pdfplumber.open(io.BytesIO(patient)) as doc:
        for page in doc.pages:
            assert all(MARGIN - 20 <= c["x0"] and c["x1"] <= page.width - MARGIN + 20 for c in page.chars)


def test_trend_chart_labels_do_not_overlap_and_cutoffs_are_drawn():
    register_fonts()
    points = tuple(TrendPoint(h["assessed_on"].isoformat(), h["mean_seconds"], amended=h["amended"]) for h in _history(25))
    chart = TrendChart("t", points, ((3.0, "≤ 3 s"), (4.5, "≥ 4.5 s")))
    marks = trend_marks(chart, 480, 190, "DejaVuSans", "DejaVuSans-Bold")
    texts = [m for m in marks if isinstance(m, Text)]
    date_labels = sorted(t.x for t in texts if t.text[:2] == "20")
    assert date_labels[-1] > date_labels[0] and len(date_labels) >= 3
    assert all(b - a >= 45 for a, b in zip(date_labels, date_labels[1:]))
    assert points[-1].assessed_on in [t.text for t in texts]
    dashed = [m for m in marks if isinstance(m, Line) and m.dash]
    assert sorted(round(line.y1, 1) for line in dashed) == sorted({round(line.y1, 1) for line in dashed})
    assert len(dashed) == 2
    assert all(0 <= t.x <= 480 for t in texts)


def test_every_page_renders_and_is_not_blank(sample, pdftoppm, tmp_path):
    for name, pdf in (("patient", sample[3]), ("clinician", sample[4])):
        out = tmp_path / name
        out.mkdir()
        pngs = render_pages(pdftoppm, pdf, out)
        assert len(pngs) == len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        for png in pngs:
            with Image.open(png) as im:
                stat = ImageStat.Stat(im.convert("L"))
                assert stat.var[0] > 100, f"{name} {png.name} looks blank (variance {stat.var[0]:.1f})"


def test_render_many_uses_a_pool_and_matches_single_rendering(build_both, tmp_path):
    models = []
    for i, (given, family) in enumerate(UNICODE_NAMES):
        _, patient, clinician = build_both(given_name=given, family_name=family, mrn=f"M{i}")
        models += [patient, clinician]
    calls = []
    paths = render_many(models, tmp_path / "out", workers=2, progress=lambda done, total: calls.append((done, total)))
    assert [c[0] for c in calls] == list(range(1, len(models) + 1)) and {c[1] for c in calls} == {len(models)}
    assert [p.name for p in paths] == [f"{m.file_stem}.pdf" for m in models]
    for model, path in zip(models, paths):
        assert path.read_bytes() == render_pdf(model)  # deterministic across processes too


def test_render_many_rejects_duplicate_names_and_bad_workers(sample, tmp_path):
    with pytest.raises(ValueError, match="file_stem"):
        render_many([sample[1], sample[1]], tmp_path)
    with pytest.raises(ValueError, match="workers"):
        render_many([sample[1]], tmp_path, workers=0)


def test_bytes_do_not_depend_on_the_process_or_hash_seed(sample):
    import hashlib
    import os
    import subprocess
    import sys

    code = (
        "import hashlib; from reports import build_clinician_report, render_pdf;"
        "from reports.samples import example_inputs;"
        "print(hashlib.sha256(render_pdf(build_clinician_report(**example_inputs()))).hexdigest())"
    )
    digests = {
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("1", "2")
    }
    assert digests == {hashlib.sha256(sample[4]).hexdigest()}
