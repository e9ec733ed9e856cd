"""Issue 11 in the browser: "End test…" (confirm, undo), a walk corrected and removed, a draft discarded,
an assessment amended with both versions shown in History."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest

from assessment.program import SAFETY_SCREEN_KEYS
from records import services
from records.audit import list_audit
from records.db import open_database

from conftest import ARTIFACTS, begin_wizard_for_new_patient, choose, nav, sign_in, wait_idle

pytestmark = pytest.mark.e2e


def test_end_test_keeps_the_running_walk_and_is_undone(page, app_server, accounts):
    begin_wizard_for_new_patient(page, app_server, accounts, mrn="END-1", given="Eve", family="Ender")
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="End test…").click()
    page.get_by_text("End the test?").wait_for()
    page.screenshot(path=str(ARTIFACTS / "issue11-end-test-confirm.png"))
    page.get_by_role("radiogroup", name="Why does the test end?").get_by_text("Patient reports pain").click()
    wait_idle(page)
    page.get_by_role("button", name="End the test").click()
    page.get_by_text("What happened on each walk").wait_for()
    wait_idle(page)
    db = open_database(app_server["db_url"])
    try:
        (draft,) = services.open_drafts(db, "END-1")
        assert draft.stop_reason == "pain"
        (walk,) = draft.trials
        assert 0.9 <= walk.seconds <= 3.0 and not walk.valid and walk.invalid_reason == "Test ended: Patient reports pain"
    finally:
        db.dispose()
    page.screenshot(path=str(ARTIFACTS / "issue11-end-test-ended.png"))
    page.get_by_role("button", name="Undo: go on with the test").click()
    page.get_by_text("Timed walk 1 of 2").wait_for()
    wait_idle(page)
    db = open_database(app_server["db_url"])
    try:
        (draft,) = services.open_drafts(db, "END-1")
        assert draft.stop_reason is None and draft.trials == ()
    finally:
        db.dispose()


def _type_walk(page, seconds: str, number: int) -> None:
    field = page.get_by_label("Seconds", exact=True)
    if not field.is_visible():  # the expander stays open after the first typed time
        page.get_by_text("Type a time measured with another stopwatch").click()
    field.fill(seconds)
    page.get_by_role("button", name="Save typed time").click()
    page.get_by_text(f"Walk {number} saved").first.wait_for()
    wait_idle(page)


def choose_in_popover(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box ``label`` of the popover that is open."""
    page.locator("[data-testid='stPopoverBody']:visible").get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option).first.click()
    wait_idle(page)


def _draft(db_url, mrn, until=lambda drafts: True, seconds: float = 30.0):
    """(open drafts of ``mrn``, audit rows) once ``until(drafts)`` holds (the click's rerun may still be running)."""
    deadline = time.monotonic() + seconds
    while True:
        db = open_database(db_url)
        try:
            drafts = services.open_drafts(db, mrn)
            audit = [(a.action, a.detail) for a in list_audit(db)]
        finally:
            db.dispose()
        if until(drafts) or time.monotonic() > deadline:
            return drafts, audit
        time.sleep(0.5)


def test_a_walk_is_corrected_and_removed_and_the_draft_discarded(page, app_server, accounts):
    begin_wizard_for_new_patient(page, app_server, accounts, mrn="FIX-1", given="Fay", family="Fixer")
    _type_walk(page, "4.10", 1)
    _type_walk(page, "4.30", 2)
    page.get_by_role("button", name="Continue to the observations").click()
    page.get_by_text("What happened on each walk").wait_for()
    wait_idle(page)

    # walk 1 was stopped late: its time is corrected, with a reason
    page.get_by_role("button", name="Correct or remove walk 1").click()
    choose_in_popover(page, "Why?", "started or stopped at the wrong moment")
    field = page.get_by_label("Corrected time, seconds")
    field.fill("3.95")
    field.press("Enter")
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "issue11-correct-walk.png"))
    page.get_by_role("button", name="Save corrected time").click()
    wait_idle(page)
    (draft,), audit = _draft(app_server["db_url"], "FIX-1", until=lambda d: d[0].trials[0].seconds != 4.10)
    assert [(t.number, t.seconds) for t in draft.trials] == [(1, 3.95), (2, 4.30)]
    assert any(action == "trial.correct" and "stopwatch_error" in str(detail) for action, detail in audit), audit

    # walk 2 was a false start: removed, with a reason
    page.get_by_role("button", name="Correct or remove walk 2").click()
    choose_in_popover(page, "Why?", "Not a timed walk")
    page.get_by_role("button", name="Remove walk 2", exact=True).click()
    wait_idle(page)
    (draft,), audit = _draft(app_server["db_url"], "FIX-1", until=lambda d: len(d[0].trials) == 1)
    assert [(t.number, t.seconds) for t in draft.trials] == [(1, 3.95)]

    # the whole draft was for the wrong patient: discarded, with a reason; nothing of it is left
    page.get_by_role("button", name="Discard this draft…").click()
    choose_in_popover(page, "Why?", "Recorded for the wrong patient")
    page.get_by_role("button", name="Discard the draft and its walks").click()
    page.get_by_role("button", name="Begin a new assessment").wait_for()
    drafts, audit = _draft(app_server["db_url"], "FIX-1", until=lambda d: d == [])
    assert drafts == []
    assert any(action == "assessment.discard" and "wrong_patient" in str(detail) for action, detail in audit), audit
    page.screenshot(path=str(ARTIFACTS / "issue11-draft-discarded.png"))


def test_an_amendment_keeps_both_versions_in_history(page, app_server, accounts):
    db = open_database(app_server["db_url"])
    try:
        services.add_patient(db, mrn="AM-1", given_name="Ada", family_name="Amend", birth_date=date(1944, 2, 3),
                             sex="female", population="community", actor=accounts["clinician"])
        view, _ = services.record_assessment(
            db, "AM-1", {"trials": [5.1, 5.3], "assessed_on": date.today().isoformat(), "prior_falls": 0,
                         "walking_aid": "no", "safety_screen": {k: "no" for k in SAFETY_SCREEN_KEYS}},
            actor=accounts["clinician"])
    finally:
        db.dispose()
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, app_server["url"], accounts["clinician"])
    nav(page, "History")
    page.get_by_role("heading", name="History").wait_for()
    choose(page, "Patient", "AM-1")
    page.get_by_text("Amend an assessment (a new version; the old one is kept)").click()
    page.get_by_label("Timed walks, seconds (comma-separated; replaces all walks)").fill("4.1, 4.3")
    page.get_by_label("Why is it amended? (required)").fill("Walk times were typed from the wrong sheet")
    page.get_by_role("button", name="Save the amendment").click()
    wait_idle(page)
    page.get_by_text(re.compile(r"Saved as version 2 \(assessment \d+\); version 1 is kept\.")).wait_for()
    wait_idle(page)
    # open the assessment: both versions are listed, the first marked superseded
    choose(page, "Open an assessment", "version 2")
    versions = page.get_by_text(re.compile(r"Versions of assessment \d+"))
    versions.wait_for()
    panel = page.locator("[data-testid='stExpander']").filter(has=versions)
    text = " ".join(panel.inner_text().split())
    assert "v1" in text and "5.20 s" in text and "(superseded)" in text, text
    assert "v2" in text and "4.20 s" in text and "Walk times were typed from the wrong sheet" in text, text
    page.screenshot(path=str(ARTIFACTS / "issue11-amended-history.png"))
