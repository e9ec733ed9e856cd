"""Run the real app (``streamlit run app.py``) on a temporary database and drive
it in headless Chromium. Skipped when /usr/bin/chromium is missing, except
that it FAILS when ``CI=true``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: drives the running app in headless Chromium")


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing and CI=true: end-to-end tests must run in CI")
    pytest.skip(f"{CHROMIUM} is missing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db_url: str, log_path: Path) -> tuple[subprocess.Popen, str, object]:
    """``streamlit run app.py`` on a free port; returns (process, url, log file) once healthy."""
    port = _free_port()
    log = open(log_path, "w")  # noqa: SIM115 - open while the server runs; stop_app closes it
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
            pytest.fail("streamlit did not start: " + Path(log_path).read_text()[-2000:])
        time.sleep(0.25)


def stop_app(proc: subprocess.Popen | None, log) -> None:
    """End a server started by :func:`start_app` (if still running) and close its log."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if log is not None:
        log.close()


@pytest.fixture
def app_server(tmp_path):
    """Start ``streamlit run app.py`` on a free port and a fresh SQLite file."""
    _require_browser()
    db_url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    proc, url, log = start_app(db_url, tmp_path / "server.log")
    try:
        yield {"url": url, "db_url": db_url}
    finally:
        stop_app(proc, log)


@pytest.fixture
def page(app_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        yield pg
        context.close()
        browser.close()


#: Accounts the ``accounts`` fixture creates (real argon2 hashes) and their password.
ADMIN, CLINICIAN = "boss", "jdoe"
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(app_server):
    """The first administrator and a clinician, created in the running app's database."""
    from records import services
    from records.db import open_database

    db = open_database(app_server["db_url"])
    try:
        services.add_user(db, username=ADMIN, password=PASSWORD, role="admin", display_name="Bo Boss", actor="system")
        services.add_user(db, username=CLINICIAN, password=PASSWORD, display_name="Jo Doe", actor=ADMIN)
    finally:
        db.dispose()
    return {"admin": ADMIN, "clinician": CLINICIAN, "password": PASSWORD}


def sign_in(page, url: str, username: str, password: str = PASSWORD, *, shot=None) -> None:
    """Open the app and sign in through the form; ``shot(name)`` is called on the filled form."""
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    if shot is not None:
        shot()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patients").wait_for()


# ---------------------------------------------------------------- page helpers


def shot(page, name: str) -> None:
    """A full-page screenshot kept as a test artifact."""
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_idle(page) -> None:
    """Wait until Streamlit has finished the current rerun."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=30_000)


def nav(page, name: str) -> None:
    """Open a page from the sidebar; where it starts collapsed (below 1200 px) it is expanded
    for the tap and collapsed again, as a clinician on a tablet would."""
    expand = page.get_by_test_id("stExpandSidebarButton")
    collapsed = expand.is_visible()
    if collapsed:
        expand.click()
    page.get_by_role("link", name=name, exact=True).click()
    if collapsed:
        page.get_by_test_id("stSidebarCollapseButton").click()
        expand.wait_for()


def radio(page, question: str, option: str) -> None:
    page.get_by_role("radiogroup", name=question).get_by_text(option, exact=True).click()


def choose(page, label: str, option_text: str) -> None:
    """Pick the option containing ``option_text`` in the select box ``label`` (the box is opened
    again when its list has not shown after 15 s: a tap lost to a rerun on a busy machine)."""
    option = page.get_by_role("option", name=re.compile(re.escape(option_text))).first
    for attempt in range(3):
        page.get_by_label(label, exact=True).first.click()
        try:
            option.wait_for(timeout=15_000)
            break
        except Exception:
            if attempt == 2:
                raise
            print(f"choose: the {label!r} list did not open; opening it again")
            wait_idle(page)
    option.click()
    wait_idle(page)


def pre_test_steps(page, *, shot_as=None, start: str | None = None) -> None:
    """From "Begin a new assessment" to the first timed walk: safety screen (all clear),
    set-up checklist, script, practice walk. ``shot_as(name)`` takes screenshots on the way;
    ``start`` (``standing`` or ``rolling``) is chosen as the start convention when given."""
    from assessment.protocol import SETUP_CHECKLIST

    begin = page.get_by_role("button", name="Begin a new assessment")
    begin.click()
    try:
        page.get_by_text("Safety screen").first.wait_for(timeout=15_000)
    except Exception:  # seen only under heavy CPU load (other suites running): the tap was not acted on; tap again
        print("pre_test_steps: 'Begin a new assessment' tapped a second time")
        begin.click()
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
    if start:
        radio(page, "Start convention", f"{start} start")
    if shot_as:
        shot_as("03-safety-screen")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Set-up checklist").wait_for()
    for item in SETUP_CHECKLIST:
        page.get_by_text(item.text, exact=True).click()
        wait_idle(page)
    if shot_as:
        shot_as("04-setup")
    page.get_by_role("button", name="All done — continue").click()
    page.get_by_role("heading", name="Read this to the patient").wait_for()
    if shot_as:
        shot_as("05-script")
    page.get_by_role("button", name="I have read the script").click()
    radio(page, "Practice walk", "Done")
    wait_idle(page)
    page.get_by_role("button", name="Start the timed walks").click()
    page.get_by_text("Timed walk 1 of 2").wait_for()
    wait_idle(page)


def begin_wizard_for_new_patient(page, app_server, accounts, *, mrn: str, given: str, family: str,
                                 start: str | None = None) -> None:
    """Add a patient in the database, sign in on a 1024×768 tablet and run the wizard up to the
    first timed walk (``start``: the start convention, see :func:`pre_test_steps`)."""
    from records import services
    from records.db import open_database

    db = open_database(app_server["db_url"])
    try:
        services.add_patient(db, mrn=mrn, given_name=given, family_name=family, birth_date="1950-01-01",
                             sex="female", actor=CLINICIAN)
    finally:
        db.dispose()
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, app_server["url"], accounts["clinician"])
    nav(page, "New assessment")
    page.get_by_role("heading", name="New assessment").wait_for()
    choose(page, "Patient", mrn)
    page.locator(".st-key-patient_header").filter(has_text=f"MRN {mrn}").wait_for()  # the selection's rerun is done
    wait_idle(page)
    pre_test_steps(page, start=start)
