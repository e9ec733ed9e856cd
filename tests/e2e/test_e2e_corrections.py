"""Issue 11 in the browser: "End test…" keeps the walk being timed, asks why, confirms, and can be undone."""

from __future__ import annotations

import pytest

from records import services
from records.db import open_database

from conftest import ARTIFACTS, begin_wizard_for_new_patient, wait_idle

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
