"""Security in real headless Chromium: first run, sign-in, admin and audit pages
(with screenshots in test-artifacts/), and patient names carrying HTML/script
that must show as text and never run."""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.request
from datetime import date
from urllib.parse import urlsplit

import pytest
from PIL import Image

from records import services
from records.audit import list_audit
from records.db import open_database

from conftest import PASSWORD, choose, nav, shot, sign_in, wait_idle

pytestmark = pytest.mark.e2e

GIVEN = "<script>alert(1)</script>"
FAMILY = "<img src=x onerror=alert(2)>"
SCREEN = {"needed_help_or_lost_balance_in_test": False, "balance_disorder_or_vertigo": False, "neurological_condition": False,
          "acute_joint_injury_or_pain": False, "fall_with_injury_past_3_months": False, "uses_walking_aid": False,
          "has_treadmill_with_handrails": False}


def goto(page, name, heading=None):
    nav(page, name)
    page.get_by_role("heading", name=heading or name).first.wait_for()
    wait_idle(page)


def test_first_run_creates_the_administrator(page, app_server):
    page.goto(app_server["url"])
    page.get_by_role("heading", name="Welcome to StepBack").wait_for()
    page.get_by_label("Username").fill("head.nurse")
    page.get_by_label("Your name as printed on reports").fill("Head Nurse")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Clinic name").fill("Riverside Falls Clinic")
    page.get_by_label("Phone patients call").fill("+1 555 0100")
    page.get_by_label("Address (optional)").fill("1 River Road, Springfield")
    logo = io.BytesIO()
    Image.new("RGB", (120, 40), (31, 111, 92)).save(logo, "PNG")
    page.locator("input[type=file]").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": logo.getvalue()})
    page.get_by_text("logo.png").wait_for()
    shot(page, "sec-01-first-run")
    page.get_by_role("button", name="Create the administrator").click()
    page.get_by_role("heading", name="Patients").wait_for()
    page.get_by_role("link", name="Admin", exact=True).wait_for()
    db = open_database(app_server["db_url"])
    try:
        assert [(u.username, u.role) for u in services.list_users(db)] == [("head.nurse", "admin")]
        clinic = services.get_clinic_settings(db)
        assert (clinic.name, clinic.phone, clinic.address, clinic.logo) == (
            "Riverside Falls Clinic", "+1 555 0100", "1 River Road, Springfield", logo.getvalue())
    finally:
        db.dispose()


def test_sign_in_admin_and_audit_pages(page, app_server, accounts):
    page.goto(app_server["url"])
    page.get_by_label("Username").fill(accounts["clinician"])
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Sign-in refused: the username or password is not correct").wait_for()
    shot(page, "sec-02-sign-in-refused")

    sign_in(page, app_server["url"], accounts["admin"], shot=lambda: shot(page, "sec-03-sign-in"))
    goto(page, "Admin")
    shot(page, "sec-04-admin")
    page.get_by_label("Username", exact=True).fill("kim.lee")
    page.get_by_label("Name as printed on reports").fill("Kim Lee")
    page.get_by_label("Password", exact=True).fill("another long password")
    page.get_by_label("Password again", exact=True).fill("another long password")
    page.get_by_role("button", name="Add user").click()
    page.get_by_text("Added kim.lee (clinician).").wait_for()
    wait_idle(page)
    shot(page, "sec-05-admin-user-added")

    goto(page, "Audit", "Audit trail")
    choose(page, "User", accounts["admin"])
    shot(page, "sec-06-audit")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export these rows (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    assert rows and {r["actor"] for r in rows} == {accounts["admin"]}
    assert "user.create" in {r["action"] for r in rows}
    db = open_database(app_server["db_url"])
    try:
        [export] = list_audit(db, action="audit.export_csv")
        assert export.actor == accounts["admin"] and export.detail["rows"] == len(rows)
    finally:
        db.dispose()

    goto(page, "Data")
    page.get_by_role("button", name="Download a backup of the database").wait_for()
    shot(page, "sec-07-data-admin")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out (in every tab).").wait_for()
    page.get_by_role("button", name="Sign in").wait_for()


def test_clinician_has_no_admin_pages(page, app_server, accounts):
    sign_in(page, app_server["url"], accounts["clinician"])
    page.get_by_role("link", name="Data", exact=True).wait_for()
    assert page.get_by_role("link", name="Admin", exact=True).count() == 0
    assert page.get_by_role("link", name="Audit", exact=True).count() == 0
    # typing the address does not open it either: a new page load signs in again, then lands elsewhere
    page.goto(app_server["url"] + "/admin")
    page.get_by_label("Username").wait_for()  # not even listed before sign-in: the sign-in form, no admin content
    page.wait_for_timeout(1000)
    shot(page, "sec-11a-admin-address-signed-out")
    if page.get_by_text("Page not found").is_visible():  # Streamlit's notice, when it is still up
        page.keyboard.press("Escape")
        page.get_by_text("Page not found").wait_for(state="hidden")
    assert page.get_by_role("heading", name="Users").count() == 0
    page.get_by_label("Username").fill(accounts["clinician"])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Data", exact=True).wait_for()
    wait_idle(page)
    shot(page, "sec-11-clinician-types-admin-address")
    assert page.get_by_role("heading", name="Admin").count() == 0
    assert page.get_by_role("heading", name="Users").count() == 0


def test_html_in_a_patient_name_never_runs(page, app_server, accounts):
    db = open_database(app_server["db_url"])
    try:
        services.add_patient(db, mrn="XSS-1", given_name=GIVEN, family_name=FAMILY, birth_date=date(1950, 1, 2),
                             sex="female", population="community", actor=accounts["clinician"])
        draft = services.start_assessment(db, "XSS-1", assessed_on=date.today(), footwear="shoes", safety_screen=SCREEN,
                                          prior_falls=0, walking_aid=False, actor=accounts["clinician"])
        for seconds in (5.0, 5.4):
            services.record_trial(db, draft, {"seconds": seconds, "timing_source": "manual"}, actor=accounts["clinician"])
        services.finalize_assessment(db, draft, actor=accounts["clinician"])
    finally:
        db.dispose()
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page, app_server["url"], accounts["clinician"])
    page.get_by_label("Search by name or MRN").fill("XSS")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.wait_for_timeout(1000)
    shot(page, "sec-08-xss-patients")

    goto(page, "History")
    choose(page, "Patient", "XSS-1")
    page.get_by_text("Falls reported at follow-up").wait_for()
    shot(page, "sec-09-xss-history")

    goto(page, "Result")  # the one selection (made on History) is kept: the patient header names her
    header = page.locator(".st-key-patient_header").filter(has_text="MRN XSS-1")
    header.wait_for()
    page.get_by_role("heading", name=re.compile("Assessment of")).wait_for()
    wait_idle(page)
    shot(page, "sec-10-xss-result")
    assert GIVEN in header.inner_text() and FAMILY in header.inner_text()  # shown as text
    assert page.locator("img[src='x']").count() == 0  # the name made no element
    page.wait_for_timeout(1000)
    assert dialogs == [], dialogs
    # the handler does catch a dialog when one opens
    page.evaluate("window.alert('probe')")
    assert dialogs == ["probe"]


@pytest.fixture
def one_minute_server(request, monkeypatch):
    """The app with a one-minute idle timeout (the variable is read by the server it starts).

    Request it before ``page`` so the server starts after the variable is set.
    """
    monkeypatch.setenv("STEPBACK_SESSION_TIMEOUT_MINUTES", "1")
    return request.getfixturevalue("app_server")


def test_an_untouched_page_signs_out_after_the_idle_timeout(one_minute_server, page):
    from conftest import ADMIN

    db = open_database(one_minute_server["db_url"])
    try:
        services.add_user(db, username=ADMIN, password=PASSWORD, role="admin", actor="system")
    finally:
        db.dispose()
    sign_in(page, one_minute_server["url"], ADMIN)
    page.get_by_text("Signed in as").wait_for()
    # nobody touches the page: the periodic check signs out and hides the page within ~30 s of the minute
    page.get_by_text("signed out after 1 minute without activity").wait_for(timeout=120_000)
    assert page.get_by_role("heading", name="Patients").count() == 0
    assert page.get_by_text("Signed in as").count() == 0
    shot(page, "sec-12-idle-signed-out")


TRACKER = "![x](http://127.0.0.1:9/track.png)"
PHISH = "[Click to re-verify your password](http://127.0.0.1:9/phish)"


def _final_assessment(db_url, mrn, given, family, actor):
    db = open_database(db_url)
    try:
        services.add_patient(db, mrn=mrn, given_name=given, family_name=family, birth_date=date(1950, 1, 2),
                             sex="female", population="community", actor=actor)
        draft = services.start_assessment(db, mrn, assessed_on=date.today(), footwear="shoes", safety_screen=SCREEN,
                                          prior_falls=0, walking_aid=False, actor=actor)
        for seconds in (5.0, 5.4):
            services.record_trial(db, draft, {"seconds": seconds, "timing_source": "manual"}, actor=actor)
        services.finalize_assessment(db, draft, actor=actor)
    finally:
        db.dispose()


def test_markdown_in_a_name_makes_no_image_and_no_link(page, app_server, accounts):
    _final_assessment(app_server["db_url"], "MD-1", TRACKER, PHISH, accounts["clinician"])
    remote: list[str] = []
    page.on("request", lambda r: remote.append(r.url) if ":9/" in r.url else None)
    sign_in(page, app_server["url"], accounts["clinician"])
    goto(page, "Result")
    choose(page, "Patient", "MD-1")
    header = page.locator(".st-key-patient_header").filter(has_text="MRN MD-1")  # the patient header names her
    header.wait_for()
    page.get_by_role("heading", name=re.compile("Assessment of")).wait_for()
    wait_idle(page)
    shot(page, "sec-13-markdown-name-result")
    shown = header.inner_text().replace("\u2060", "")  # invisible joiners break autolinks
    assert TRACKER in shown and PHISH in shown  # the name, as typed
    assert page.locator("img[src*='track.png']").count() == 0
    assert page.get_by_role("link", name="Click to re-verify your password").count() == 0
    assert page.locator("a[href*='127.0.0.1:9']").count() == 0  # not even the bare URL is a link
    assert remote == []


def test_no_report_or_export_is_ever_at_a_media_url(page, app_server, accounts):
    """A /media URL serves its file to anyone, without a session: StepBack puts no patient file there."""
    _final_assessment(app_server["db_url"], "MEDIA-1", "Mia", "Medi", accounts["clinician"])
    media: list[str] = []
    page.on("request", lambda r: media.append(r.url) if urlsplit(r.url).path.startswith("/media/") else None)
    sign_in(page, app_server["url"], accounts["clinician"])
    goto(page, "Result")
    choose(page, "Patient", "MEDIA-1")
    page.get_by_role("button", name="Download patient report (PDF)").wait_for()
    wait_idle(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download patient report (PDF)").click()
    assert open(info.value.path(), "rb").read(5) == b"%PDF-"
    page.get_by_text("Patient report", exact=True).click()  # the preview: pdf.js draws it from a data: URI
    drawn = page.locator(".react-pdf__Page canvas").first
    drawn.wait_for(timeout=60_000)
    wait_idle(page)
    drawn.scroll_into_view_if_needed()
    assert drawn.bounding_box()["height"] > 300  # a page of the report, drawn
    shot(page, "sec-14a-preview")
    goto(page, "Data")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export all patients and assessments (CSV)").click()
    assert "MEDIA-1" in open(info.value.path(), encoding="utf-8-sig").read()
    shot(page, "sec-14-export-delivered")
    goto(page, "Clinic")
    page.get_by_text("patients matching a search").click()
    page.get_by_label("Patients matching (name or MRN); blank: the first in name order").fill("MEDIA-1")
    page.keyboard.press("Enter")
    wait_idle(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Build and download the reports (ZIP)").click()
    assert open(info.value.path(), "rb").read(2) == b"PK"
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the quality report (PDF)").click()
    assert open(info.value.path(), "rb").read(5) == b"%PDF-"
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out (in every tab).").wait_for()
    sign_in(page, app_server["url"], accounts["admin"])
    goto(page, "Audit", "Audit trail")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export these rows (CSV)").click()
    assert "action" in open(info.value.path(), encoding="utf-8-sig").readline()
    goto(page, "Data")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download FHIR NDJSON (ZIP)").click()
    assert open(info.value.path(), "rb").read(2) == b"PK"
    assert media == [], media  # no file went through Streamlit's media URLs
    linked = page.eval_on_selector_all("[src*='/media/'],[href*='/media/']", "els => els.map(e => e.src || e.href)")
    assert [u for u in linked if urlsplit(u).path.startswith("/media/")] == []
    # and a request with no session cookie for a media id gets nothing
    for url in media + [app_server["url"] + "/media/0123456789abcdef.pdf"]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)  # no cookies: a fresh client
        assert refused.value.code == 404


def test_signing_out_in_one_tab_signs_out_the_other(page, app_server, accounts):
    sign_in(page, app_server["url"], accounts["clinician"])
    other = page.context.new_page()
    sign_in(other, app_server["url"], accounts["clinician"])
    other.get_by_text("Signed in as").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out (in every tab).").wait_for()
    # the other tab is untouched: its periodic check (every 30 s) signs it out and hides the page
    other.get_by_text("you signed out in another tab").wait_for(timeout=75_000)
    assert other.get_by_role("heading", name="Patients").count() == 0
    shot(other, "sec-15-other-tab-signed-out")
