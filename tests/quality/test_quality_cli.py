"""`stepback quality`: JSON, the PDF of who is not yet screened, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pdfplumber
import pytest

import cli

BASE = ["quality", "--measure", "cms139", "--from", "2025-01-01", "--to", "2025-12-31", "--clinic", "North"]


def _run(capsys, cohort, *args):
    code = cli.main([*args, "--db", cohort.url])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_carries_the_measure_fields(cohort, visits_file, capsys):
    code, out, err = _run(capsys, cohort, *BASE, "--visits", str(visits_file), "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert {k: data[k] for k in ("measure", "from", "to", "denominator", "numerator", "rate", "not_screened")} == {
        "measure": "cms139", "from": "2025-01-01", "to": "2025-12-31", "denominator": 5, "numerator": 3,
        "rate": 0.6, "not_screened": ["D", "C"]}
    assert data["plan_of_care"]["rate"] == 0.5


def test_the_pdf_lists_who_is_not_yet_screened(cohort, visits_file, capsys, tmp_path):
    out_pdf = tmp_path / "q.pdf"
    code, out, _ = _run(capsys, cohort, *BASE, "--visits", str(visits_file), "--out", str(out_pdf))
    assert code == 0 and "3 of 5 patients screened (60%)" in out and "not screened: D" in out
    with pdfplumber.open(out_pdf) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Falls screening quality report" in text and "Patients of North" in text
    assert "Not yet screened (2)" in text
    assert "<b>Diaz</b>, Dora" in text  # patient text is printed literally, never as markup
    assert "Li, Chen" in text and "2025-06-01" in text
    assert "Falls screening rate (CMS139) 60%" in text and "Plan-of-care rate (MIPS #155) 50%" in text
    assert "without a documented program (1)" in text and "\nF\n" in f"\n{text}\n"
    assert "2 MRN(s) of the visit list are not StepBack patients" in text
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is required on CI (apt-get install poppler-utils)")
        pytest.skip("pdftoppm not installed")
    subprocess.run([pdftoppm, "-png", "-r", "60", str(out_pdf), str(tmp_path / "page")], check=True)
    assert sorted(p.name for p in tmp_path.glob("page*.png")) == ["page-1.png"]


@pytest.mark.parametrize("args, field", [
    (["--measure", "cms999", "--from", "2025-01-01", "--to", "2025-12-31"], "--measure"),
    (["--measure", "cms139", "--from", "2025-02-30", "--to", "2025-12-31"], "--from"),
    (["--measure", "cms139", "--from", "2025-06-01", "--to", "2025-01-01"], "--to"),
    (["--measure", "cms139", "--from", "2025-01-01", "--to", "2025-12-31", "--visits", "BAD"], "visits line 3: date"),
    (["--measure", "cms139", "--from", "2025-01-01", "--to", "2025-12-31", "--visits", "MISSING"], "visits"),
    (["--measure", "cms139", "--from", "2025-01-01", "--to", "2025-12-31", "--out", "report.txt"], "--out"),
    (["--measure", "cms139", "--from", "2025-01-01"], "--to"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(cohort, capsys, tmp_path, args, field):
    bad = tmp_path / "visits.csv"
    bad.write_text("mrn,date\nA,2025-01-01\nB,01/02/2025\n")
    args = [str(bad) if a == "BAD" else str(tmp_path / "none.csv") if a == "MISSING" else a for a in args]
    out_pdf = tmp_path / "q.pdf"
    if "--out" not in args:
        args += ["--out", str(out_pdf)]
    code, out, err = _run(capsys, cohort, "quality", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and field in err and "Traceback" not in err
    assert not out_pdf.exists() and list(tmp_path.glob("*.pdf")) == [] and list(tmp_path.glob(".*part")) == []
