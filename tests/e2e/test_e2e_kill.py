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
import subprocess
import sys
import time
import urllib.request
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
    ROOT,
    _free_port,
    _require_browser,
    sign_in,
)

from assessment.protocol import SETUP_CHECKLIST
from records import services
from records.db import open_database

pytestmark = pytest.mark.e2e

MRN = "KILL-001"
#: The walk typed by hand (seconds, as typed).
TYPED_SECONDS = 5.31
#: How long the stopwatch walk runs between the Start and Stop taps, milliseconds.
STOPWATCH_WAIT_MS = 5000


# ------------------------------------------------------------------ helpers


def _start_app(db_url: str, log_path: Path) -> tuple[subprocess.Popen, str, object]:
    """``streamlit run app.py`` on a free port; returns (process, url, log file) once healthy."""
    port = _free_port()
    log = open(log_path, "w")  # noqa: SIM115 - open while the server runs; _stop_app closes it
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "STEPBACK_DATABASE_URL": db_url},
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url, log
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=10)
            log.close()
            pytest.fail("streamlit did not start: " + log_path.read_text()[-2000:])
        time.sleep(0.25)


def _stop_app(proc: subprocess.Popen | None, log) -> None:
    """Clean-up only: end a server this test started (if still running)."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if log is not None:
        log.close()


def shot(page, name: str) -> None:
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"kill-{name}.png"), full_page=True)


def wait_idle(page) -> None:
    """Wait until Streamlit has finished the current rerun."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=30_000)


def radio(page, question: str, option: str) -> None:
    page.get_by_role("radiogroup", name=question).get_by_text(option, exact=True).click()


def choose(page, label: str, option_text: str) -> None:
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=re.compile(re.escape(option_text))).first.click()


def open_new_assessment(page) -> None:
    page.get_by_role("link", name="New assessment").click()
    page.get_by_role("heading", name="New assessment").wait_for()
    wait_idle(page)


def walk_to_timed_trials(page) -> None:
    """From the New assessment page: pick the patient and go through the pre-test steps."""
    choose(page, "Patient", f"MRN {MRN}")
    page.get_by_role("button", name="Begin a new assessment").click()
    page.get_by_text("Safety screen").first.wait_for()
    for q in ("Can the patient stand up and walk without hands-on help?",
              "Does the patient understand the test and agree to do it?",
              "Is the patient free of pain and dizziness right now?"):
        radio(page, q, "Yes")
    for q in ("Balance disorder or vertigo?", "Neurological condition (Parkinson's, stroke, MS, other)?",
              "Acute joint injury or joint pain?", "A fall with injury in the past 3 months?",
              "Uses a walking aid?", "Has a treadmill with handrails at home?"):
        radio(page, q, "No")
    radio(page, "Falls in the past 12 months", "None")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Set-up checklist").wait_for()
    for item in SETUP_CHECKLIST:
        page.get_by_text(item.text, exact=True).click()
        wait_idle(page)
    page.get_by_role("button", name="All done — continue").click()
    page.get_by_role("heading", name="Read this to the patient").wait_for()
    page.get_by_role("button", name="I have read the script").click()
    radio(page, "Practice walk", "Done")
    wait_idle(page)
    page.get_by_role("button", name="Start the timed walks").click()
    page.get_by_text("Timed walk 1 of 2").wait_for()
    wait_idle(page)


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
                first, url1, first_log = _start_app(db_url, tmp_path / "server-1.log")
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.set_default_timeout(30_000)
                sign_in(page, url1, CLINICIAN)
                open_new_assessment(page)
                walk_to_timed_trials(page)
                record_typed_walk(page, TYPED_SECONDS)
                stopwatch_seconds = record_stopwatch_walk(page)
                expected = [(1, TYPED_SECONDS, "manual"), (2, stopwatch_seconds, "stopwatch")]
                shot(page, "01-two-walks-saved-before-kill")

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
                second, url2, second_log = _start_app(db_url, tmp_path / "server-2.log")
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.set_default_timeout(30_000)
                sign_in(page, url2, CLINICIAN)
                open_new_assessment(page)
                offer = f"Unfinished assessment #{draft.id} — MRN {MRN}, {draft.assessed_on.isoformat()}, 2 timed walks saved"
                page.get_by_text(offer).wait_for()
                shot(page, "02-after-restart-resume-offer")

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
                shot(page, "03-resumed-observations")
                page.get_by_role("button", name="Continue to STEADI items").click()
                page.get_by_role("button", name="Skip STEADI").click()
                page.get_by_role("heading", name="Review and finalize").wait_for()
                page.get_by_role("button", name="Finalize and see the result").click()
                page.get_by_role("heading", name="Result").wait_for()
                wait_idle(page)
                shot(page, "04-result")
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
        _stop_app(first, first_log)
        _stop_app(second, second_log)
