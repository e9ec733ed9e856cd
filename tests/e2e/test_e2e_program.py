"""Issue 9 in the browser: the program and the risk message on the Result page
for the reviewers' cases, at both tablet sizes, and a "Lost balance" tick that
is kept without any Save button."""

from __future__ import annotations

import io
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader

from assessment.program import SAFETY_SCREEN_KEYS
from records import services
from records.db import open_database

from conftest import ARTIFACTS, begin_wizard_for_new_patient, choose, nav, sign_in, wait_idle

pytestmark = pytest.mark.e2e

CLEAR = {k: "no" for k in SAFETY_SCREEN_KEYS}
TABLETS = {"landscape": (1024, 768), "portrait": (820, 1180)}
#: (case, population, birth date, raw assessment, expected tier label start, risk sentence)
CASES = [
    ("fast-clear", "community", "1950-01-01",
     {"trials": [2.8, 2.8], "prior_falls": 0, "walking_aid": "no", "safety_screen": CLEAR},
     "Independent", "lower chance of falling"),
    ("community-5.7s", "community", "1948-01-01",
     {"trials": [5.6, 5.8], "prior_falls": 0, "walking_aid": "no", "safety_screen": CLEAR},
     "Supervised", "higher chance of falling"),
    ("nursing-home-7.9s", "nursing_home", "1940-01-01",
     {"trials": [7.9], "prior_falls": 0, "walking_aid": "no", "safety_screen": CLEAR},
     "Supported at home", "raised chance of falling"),
    ("88y-falls-aid-4.5s", "community", "1937-06-01",
     {"trials": [4.5], "prior_falls": "2+", "walking_aid": "yes", "safety_screen": {**CLEAR, "uses_walking_aid": "yes"}},
     "Supervised", "higher chance of falling"),
    ("walker-on-test", "community", "1950-01-01",
     {"trials": [2.9], "prior_falls": 0, "walking_aid": "no", "assistive_device": "walker", "safety_screen": CLEAR},
     "Supervised", None),
]


def _record_cases(db_url: str) -> dict[str, int]:
    from models import load_default_model, risk_function

    risk_fn = risk_function(load_default_model())
    db = open_database(db_url)
    ids = {}
    try:
        for i, (case, population, born, raw, _, _) in enumerate(CASES):
            mrn = f"P9-{i}"
            services.add_patient(db, mrn=mrn, given_name="Case", family_name=case.replace(".", ""), birth_date=born,
                                 sex="female", population=population, actor="jdoe")
            view, _ = services.record_assessment(db, mrn, {**raw, "assessed_on": date(2026, 11, 30)},
                                                 risk_fn=risk_fn, actor="jdoe")
            ids[case] = view.id
    finally:
        db.dispose()
    return ids


def test_result_page_shows_one_decision_for_each_case_at_both_tablet_sizes(page, app_server, accounts):
    _record_cases(app_server["db_url"])
    sign_in(page, app_server["url"], accounts["clinician"])
    for i, (case, _, _, _, tier_label, sentence) in enumerate(CASES):
        page.set_viewport_size({"width": 1280, "height": 900})
        nav(page, "Result")
        page.get_by_role("heading", name="Result").first.wait_for()
        wait_idle(page)
        if i:  # a patient is selected: the next one is chosen from the patient header
            page.get_by_role("button", name="Change patient").click()
        search = page.get_by_label("Find patient by name or MRN")
        search.fill(f"P9-{i}")
        search.press("Enter")
        wait_idle(page)
        choose(page, "Patient", f"P9-{i}")
        page.locator(".st-key-patient_header").filter(has_text=f"MRN P9-{i} ·").wait_for()
        page.get_by_role("heading", name="Assessment of 2026-11-30").wait_for()
        page.get_by_text("Why this program").first.wait_for()
        wait_idle(page)
        body = page.locator("body").inner_text()
        assert tier_label in body, (case, body[:2000])
        if sentence:
            assert sentence in body, (case, sentence)
        if tier_label != "Independent":
            assert "lower chance of falling" not in body, case
        for name, (width, height) in TABLETS.items():
            # the tablet's screen, then the whole page at the same width (Streamlit scrolls inside the page)
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / f"issue9-{case}-{name}.png"))
            page.set_viewport_size({"width": width, "height": 4200})
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / f"issue9-{case}-{name}-whole.png"))


def test_patient_pdfs_of_the_cases_say_the_same_as_the_screen(app_server, tmp_path):
    import reports
    from reports.inputs import report_inputs

    ids = _record_cases(app_server["db_url"])
    db = open_database(app_server["db_url"])
    try:
        for case, _, _, _, tier_label, sentence in CASES:
            view = services.get_assessment(db, ids[case])
            patient = services.get_patient(db, view.mrn)
            model = reports.build_patient_report(**report_inputs(patient, view, services.history(db, view.mrn)))
            data = reports.render_pdf(model)
            text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
            if sentence:
                assert sentence in text, (case, text[:800])
            if view.program_tier != "independent":
                assert "lower chance of falling" not in text, case
                assert "Why this program" in text and "Because:" in text
            if view.program_tier == "supervised":
                assert "only with your physical therapist" in text
            pdf = tmp_path / f"{case}.pdf"
            pdf.write_bytes(data)
            subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                            str(ARTIFACTS / f"issue9-pdf-{case}")], check=True)
    finally:
        db.dispose()


def test_a_lost_balance_tick_without_any_save_reaches_the_program(page, app_server, accounts):
    begin_wizard_for_new_patient(page, app_server, accounts, mrn="LOB-1", given="Lena", family="Tick")
    for seconds in ("2.80", "2.90"):
        if not page.get_by_label("Seconds").is_visible():
            page.get_by_text("Type a time measured with another stopwatch").click()
        page.get_by_label("Seconds").fill(seconds)
        page.get_by_role("button", name="Save typed time").click()
        wait_idle(page)
    page.get_by_role("button", name="Continue to the observations").click()
    page.get_by_text("What happened on each walk").wait_for()
    page.get_by_text("Lost balance").first.click()  # walk 1: ticked, no Save anywhere
    page.get_by_text("Walk 1: saved").wait_for()
    page.get_by_role("button", name="Continue to STEADI items").click()
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_role("button", name="Finalize and see the result").click()
    page.get_by_text("Why this program").first.wait_for()
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "issue9-lost-balance-result.png"), full_page=True)
    db = open_database(app_server["db_url"])
    try:
        (final,) = services.history(db, "LOB-1")
    finally:
        db.dispose()
    assert final.trials[0].loss_of_balance is True
    assert final.program_tier == "supervised"
    body = page.locator("body").inner_text()
    assert "Supervised" in body and "Loss of balance during the test" in body, body[-3000:]
