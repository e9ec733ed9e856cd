"""End to end in headless Chromium: sign in, add a patient, run a 3MBW with the
in-browser stopwatch, finalize, download the patient PDF and read it."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from records import services
from records.db import open_database

from conftest import choose, pre_test_steps, shot, sign_in, wait_idle

pytestmark = pytest.mark.e2e

#: A recorded stopwatch time must match the interval between the two taps as
#: the browser saw them (event timestamps) to within this, seconds.
BROWSER_TOLERANCE_S = 0.1
#: And the wall-clock interval of the Python side around the taps, which also
#: contains Playwright's round trips (honest but generous), seconds.
WALL_TOLERANCE_S = 0.5

#: Records the timestamp of every pointerdown the page sees (composed events
#: cross the component's shadow root), independent of the component's code.
TAP_RECORDER = """
window.__taps = [];
document.addEventListener('pointerdown', (e) => window.__taps.push(e.timeStamp), true);
"""










def test_assessment_with_browser_stopwatch(page, app_server, accounts):
    page.add_init_script(TAP_RECORDER)
    sign_in(page, app_server["url"], accounts["clinician"], shot=lambda: shot(page, "01-sign-in"))

    # add a patient
    page.get_by_label("MRN", exact=True).fill("E2E-001")
    page.get_by_label("Given name").fill("Ana")
    page.get_by_label("Family name").fill("García")
    page.get_by_role("spinbutton", name="year, Birth date").click()
    page.keyboard.type("19460517")
    choose(page, "Sex", "female")
    page.get_by_role("button", name="Add patient").click()
    page.get_by_text("Added Ana García (MRN E2E-001).").wait_for()
    wait_idle(page)
    shot(page, "02-patients")

    # the wizard
    page.get_by_role("button", name="New assessment").click()
    page.get_by_role("heading", name="New assessment").wait_for()
    pre_test_steps(page, shot_as=lambda name: shot(page, name))

    start = page.get_by_role("button", name="Start", exact=True)
    stop = page.get_by_role("button", name="Stop", exact=True)
    start.wait_for()
    shot(page, "06-stopwatch")

    recorded = []
    for walk, wait_s in ((1, 2.0), (2, 2.5)):
        page.evaluate("window.__taps = []")
        t0 = time.perf_counter()
        start.click()
        page.wait_for_timeout(wait_s * 1000)
        stop.click()
        wall = time.perf_counter() - t0
        taps = page.evaluate("window.__taps")
        page.get_by_text(f"Walk {walk} saved").first.wait_for()
        wait_idle(page)
        assert len(taps) == 2, taps
        browser_interval = (taps[1] - taps[0]) / 1000.0
        recorded.append((browser_interval, wall))
    shot(page, "07-walks-saved")

    db = open_database(app_server["db_url"])
    try:
        draft = services.open_drafts(db, "E2E-001")[0]
        assert [t.timing_source for t in draft.trials] == ["stopwatch", "stopwatch"]
        for trial, (browser_interval, wall), wait_s in zip(draft.trials, recorded, (2.0, 2.5)):
            assert abs(trial.seconds - browser_interval) <= BROWSER_TOLERANCE_S, (trial.seconds, browser_interval)
            assert abs(trial.seconds - wait_s) <= WALL_TOLERANCE_S, (trial.seconds, wait_s)
            assert trial.seconds <= wall + 0.01, (trial.seconds, wall)
    finally:
        db.dispose()

    page.get_by_role("button", name="Continue to the observations").click()
    page.get_by_text("What happened on each walk").wait_for()
    page.get_by_role("button", name="Continue to STEADI items").click()
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_role("heading", name="Review and finalize").wait_for()
    shot(page, "08-review")
    page.get_by_role("button", name="Finalize and see the result").click()
    page.get_by_role("heading", name="Result").wait_for()
    page.get_by_role("button", name="Download patient report (PDF)").wait_for()
    wait_idle(page)
    shot(page, "09-result")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download patient report (PDF)").click()
    pdf = info.value
    data = open(pdf.path(), "rb").read()
    assert data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Ana García" in text
    mean = sum(t.seconds for t in draft.trials) / 2
    assert f"{mean:.1f} seconds" in text, text[:500]

    for name in ("History", "Clinic", "Model"):
        page.get_by_role("link", name=name).click()
        page.get_by_role("heading", name=name).first.wait_for()
        wait_idle(page)
        shot(page, f"10-{name.lower()}")
