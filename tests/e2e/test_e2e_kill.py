"""Kill the running app mid-assessment (SIGKILL, no clean shutdown): every
timed walk recorded before the kill is in the SQLite file and is offered for
resumption after a restart (issue 6).

One walk is typed (manual), one is timed with the in-browser stopwatch; the
test reads the exact times the page confirmed and asserts that the database
holds exactly those, before and after the restart.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from conftest import (
    ADMIN,
    ARTIFACTS,
    BROWSER_ARGS,
    CHROMIUM,
    CLINICIAN,
    PASSWORD,
    _require_browser,
    choose,
    pre_test_steps,
    shot,
    sign_in,
    start_app,
    stop_app,
    wait_idle,
)

from records import services
from records.db import open_database

pytestmark = pytest.mark.e2e

MRN = "KILL-001"
#: The walk typed by hand (seconds, as typed).
TYPED_SECONDS = 5.31
#: How long the stopwatch walk runs between the Start and Stop taps, milliseconds.
STOPWATCH_WAIT_MS = 5000


# ------------------------------------------------------------------ helpers






def kill_shot(page, name: str) -> None:
    shot(page, f"kill-{name}")








def open_new_assessment(page) -> None:
    page.get_by_role("link", name="New assessment").click()
    page.get_by_role("heading", name="New assessment").wait_for()
    wait_idle(page)


def walk_to_timed_trials(page) -> None:
    """From the New assessment page: pick the patient and go through the pre-test steps."""
    choose(page, "Patient", f"MRN {MRN}")
    pre_test_steps(page)


def record_typed_walk(page, seconds: float) -> None:
    """Type a time and wait until the page confirms walk 1 saved with it."""
    page.get_by_text("Type a time measured with another stopwatch").click()
    box = page.get_by_label("Seconds", exact=True)
    box.fill(f"{seconds:.2f}")
    box.press("Tab")
    page.get_by_role("button", name="Save typed time").click()
    # The page's own confirmation, rendered from the saved draft (the toast
    # "Walk 1 saved: ... (manual)" is transient and may be gone already).
    page.get_by_text(f"Walk 1 saved: {seconds:.2f} s", exact=True).wait_for()
    page.get_by_text("Timed walk 2 of 2").wait_for()
    wait_idle(page)


def record_stopwatch_walk(page) -> float:
    """Time walk 2 with the in-browser stopwatch; return the seconds the page showed and confirmed."""
    start = page.get_by_role("button", name="Start", exact=True)
    stop = page.get_by_role("button", name="Stop", exact=True)
    start.click()
    page.wait_for_timeout(STOPWATCH_WAIT_MS)
    stop.click()
    shown = page.get_by_test_id("sw-display").inner_text()
    match = re.fullmatch(r"(\d+\.\d\d) s", shown.strip())
    assert match, shown
    seconds = float(match.group(1))
    page.get_by_text(f"Walk 2 saved: {seconds:.2f} s", exact=True).wait_for()
    page.get_by_text("2 walks saved — an extra walk is optional").wait_for()
    wait_idle(page)
    return seconds


def integrity_check(db_path: Path) -> str:
    """SQLite's own check of the file (WAL included), read-only."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


# --------------------------------------------------------------------- test


def test_killing_the_app_mid_assessment_loses_no_trial(tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    db_path = tmp_path / "kill.sqlite3"
    db_url = f"sqlite:///{db_path}"

    db = open_database(db_url)
    try:
        services.add_user(db, username=ADMIN, password=PASSWORD, role="admin", display_name="Bo Boss", actor="system")
        services.add_user(db, username=CLINICIAN, password=PASSWORD, display_name="Jo Doe", actor=ADMIN)
        services.add_patient(db, mrn=MRN, given_name="Kit", family_name="Killian", birth_date=date(1948, 3, 9),
                             sex="female", actor=ADMIN)
    finally:
        db.dispose()

    first = second = None
    first_log = second_log = None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = None
            try:
                # ---- run 1: record two walks, then SIGKILL the server
                first, url1, first_log = start_app(db_url, tmp_path / "server-1.log")
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.set_default_timeout(30_000)
                sign_in(page, url1, CLINICIAN)
                open_new_assessment(page)
                walk_to_timed_trials(page)
                record_typed_walk(page, TYPED_SECONDS)
                stopwatch_seconds = record_stopwatch_walk(page)
                expected = [(1, TYPED_SECONDS, "manual"), (2, stopwatch_seconds, "stopwatch")]
                kill_shot(page, "01-two-walks-saved-before-kill")

                os.kill(first.pid, signal.SIGKILL)
                assert first.wait(timeout=10) == -signal.SIGKILL
                context.close()

                # ---- the file itself, as the killed process left it
                assert integrity_check(db_path) == "ok"
                db = open_database(db_url)
                try:
                    drafts = services.open_drafts(db, MRN)
                    assert len(drafts) == 1, drafts
                    draft = drafts[0]
                    assert [(t.number, t.seconds, t.timing_source) for t in draft.trials] == expected
                    assert services.count_rows(db)["trials"] == 2
                    assert services.history(db, MRN) == []
                finally:
                    db.dispose()

                # ---- run 2: restart on the same file, new browser context, resume
                second, url2, second_log = start_app(db_url, tmp_path / "server-2.log")
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.set_default_timeout(30_000)
                sign_in(page, url2, CLINICIAN)
                open_new_assessment(page)
                offer = (f"Unfinished assessment #{draft.id} — Killian, Kit (MRN {MRN}, born 1948-03-09), "
                         f"{draft.assessed_on.isoformat()}, 2 timed walks saved")
                page.get_by_text(offer).wait_for()
                kill_shot(page, "02-after-restart-resume-offer")

                page.get_by_role("button", name="Resume this assessment").click()
                page.get_by_text("2 walks saved — an extra walk is optional").wait_for()
                page.get_by_text(f"Walk 2 saved: {stopwatch_seconds:.2f} s", exact=True).wait_for()
                wait_idle(page)
                page.get_by_role("button", name="Continue to the observations").click()
                page.get_by_text("What happened on each walk").wait_for()
                for number, seconds, source in expected:
                    page.get_by_text(f"Walk {number} — {seconds:.2f} s ({source})", exact=True).wait_for()
                assert page.get_by_text(re.compile(r"^Walk 3 — ")).count() == 0
                wait_idle(page)
                page.get_by_text("What happened on each walk").scroll_into_view_if_needed()
                kill_shot(page, "03-resumed-observations")
                page.get_by_role("button", name="Continue to STEADI items").click()
                page.get_by_role("button", name="Continue to review").click()
                page.get_by_role("heading", name="Review and finalize").wait_for()
                page.get_by_role("button", name="Finalize and see the result").click()
                page.get_by_role("heading", name="Result").wait_for()
                wait_idle(page)
                kill_shot(page, "04-result")
                context.close()
            except BaseException:
                if page is not None and not page.is_closed():
                    page.screenshot(path=str(ARTIFACTS / "kill-failure.png"), full_page=True)
                raise
            finally:
                browser.close()

        db = open_database(db_url)
        try:
            assert services.open_drafts(db, MRN) == []
            finals = services.history(db, MRN)
            assert len(finals) == 1, finals
            final = finals[0]
            assert final.id == draft.id
            assert [(t.number, t.seconds, t.timing_source) for t in final.trials] == expected
            assert final.mean_seconds == pytest.approx((TYPED_SECONDS + stopwatch_seconds) / 2, abs=1e-9)
        finally:
            db.dispose()
        assert integrity_check(db_path) == "ok"
    finally:
        stop_app(first, first_log)
        stop_app(second, second_log)
