"""One patient selection, one fixed header: every patient page names the selected patient (Chromium).

Two patients each with a final assessment. Selecting one on the Patients page,
then the other from the header of the Result page, must change the header and
the result together, on both tablet sizes; the sidebar's Result link never
shows the previous patient's result; a wizard begun for one patient does not go
on under another's selection.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from records import services
from records.db import open_database

from conftest import CLINICIAN, choose, nav, shot, sign_in, wait_idle

pytestmark = pytest.mark.e2e

SCREEN = {"needed_help_or_lost_balance_in_test": False, "balance_disorder_or_vertigo": False,
          "neurological_condition": False, "acute_joint_injury_or_pain": False,
          "fall_with_injury_past_3_months": False, "uses_walking_aid": False, "has_treadmill_with_handrails": False}

PATIENTS = (("HDR-1", "Alma", "Aalto", date(1941, 3, 4), (4.20, 4.40)),
            ("HDR-2", "Berit", "Borg", date(1950, 6, 7), (7.10, 7.30)))


def _patients(db_url):
    db = open_database(db_url)
    try:
        for mrn, given, family, born, times in PATIENTS:
            services.add_patient(db, mrn=mrn, given_name=given, family_name=family, birth_date=born,
                                 sex="female", population="community", actor=CLINICIAN)
            draft = services.start_assessment(db, mrn, assessed_on=date.today(), footwear="shoes",
                                              safety_screen=SCREEN, prior_falls=0, walking_aid=False,
                                              actor=CLINICIAN)
            for seconds in times:
                services.record_trial(db, draft, {"seconds": seconds, "timing_source": "manual"}, actor=CLINICIAN)
            services.finalize_assessment(db, draft, actor=CLINICIAN)
    finally:
        db.dispose()


def expect_header(page, start: str) -> None:
    """The fixed header begins with ``start`` (waits for the rerun that changes it)."""
    expect(page.locator(".st-key-patient_header")).to_have_text(re.compile("^" + re.escape(start)))


def goto(page, name: str) -> None:
    """Follow the sidebar link ``name`` (the sidebar starts collapsed below 1200 px)."""
    nav(page, name)
    page.get_by_role("heading", name=name).first.wait_for()
    wait_idle(page)


@pytest.mark.parametrize("viewport", [(1024, 768), (820, 1180)], ids=["landscape", "portrait"])
def test_the_header_and_the_page_follow_the_one_selection(page, app_server, accounts, viewport):
    _patients(app_server["db_url"])
    width, height = viewport
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, app_server["url"], accounts["clinician"])
    tag = f"{width}x{height}"

    # Result with no selection asks for the patient; choosing Aalto puts her in the fixed header, with her time.
    goto(page, "Result")
    choose(page, "Patient", "HDR-1")
    expect_header(page, "Aalto, Alma · MRN HDR-1 · born 1941-03-04")
    page.get_by_text("4.30 s").first.wait_for()
    shot(page, f"header-01-result-aalto-{tag}")

    # The header stays in view while the page scrolls.
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(500)
    top = page.locator(".st-key-patient_header").bounding_box()["y"]
    assert 0 <= top < 120, f"the patient header scrolled away (y={top})"

    # Change the patient from the header: header and result change together.
    page.get_by_role("button", name="Change patient").click()
    choose(page, "Patient", "HDR-2")
    expect_header(page, "Borg, Berit · MRN HDR-2 · born 1950-06-07")
    page.get_by_text("7.20 s").first.wait_for()
    assert page.get_by_text("4.30 s").count() == 0, "the previous patient's time is still on screen"
    shot(page, f"header-02-result-borg-{tag}")

    # History and Patients follow the same selection, named (not only an MRN).
    goto(page, "History")
    expect_header(page, "Borg, Berit · MRN HDR-2")
    goto(page, "Patients")
    page.get_by_role("heading", name="Selected: Borg, Berit").wait_for()

    # New assessment opens on her; begun, then Aalto selected from the header: Borg's test does not go on.
    page.get_by_role("button", name="New assessment").click()
    page.get_by_role("heading", name="New assessment").wait_for()
    wait_idle(page)
    expect_header(page, "Borg, Berit · MRN HDR-2")
    page.get_by_role("button", name="Begin a new assessment of Berit Borg").click()
    page.get_by_role("heading", name="Safety screen").wait_for()
    page.get_by_role("button", name="Change patient").click()
    choose(page, "Patient", "HDR-1")
    expect_header(page, "Aalto, Alma · MRN HDR-1")
    page.get_by_role("button", name="Begin a new assessment of Alma Aalto").wait_for()
    assert page.get_by_role("heading", name="Safety screen").count() == 0
    shot(page, f"header-03-wizard-aalto-{tag}")

    # The sidebar's Result link shows the selected patient's result, never the last one opened.
    goto(page, "Result")
    expect_header(page, "Aalto, Alma · MRN HDR-1")
    page.get_by_text("4.30 s").first.wait_for()
    assert page.get_by_text("7.20 s").count() == 0
