"""Run the real app (``streamlit run app.py``) on a temporary database and drive
it in headless Chromium. Skipped when /usr/bin/chromium is missing, except
that it FAILS when ``CI=true``."""

from __future__ import annotations

import os
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


@pytest.fixture
def app_server(tmp_path):
    """Start ``streamlit run app.py`` on a free port and a fresh SQLite file."""
    _require_browser()
    port = _free_port()
    db_url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    env = {**os.environ, "STEPBACK_DATABASE_URL": db_url}
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("streamlit did not start: " + (tmp_path / "server.log").read_text()[-2000:])
        time.sleep(0.25)
    yield {"url": url, "db_url": db_url}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
