"""``stepback serve`` end to end: TLS through Caddy, the websocket, sticky sessions, no plain HTTP, clean stop.

The module starts one ``stepback serve --workers 2`` (Caddy with its
internal CA in front of two Streamlit processes, on a throw-away
PostgreSQL server) and talks to it as a browser does: HTTPS trusting the
internal CA's root, the app's websocket protocol (``bench/stclient.py``),
cookies. One test kills an app process (it is started again); the last stops everything with SIGTERM.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import time
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from bench.stclient import Browser
from serve.caddy import AFFINITY_COOKIE

from serve_support import PASSWORD


def _tls(served) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(served.ca_root))


def _get(served, path="/", cookies=None, host="localhost"):
    """(status, headers, body) of an HTTPS GET through Caddy."""
    conn = http.client.HTTPSConnection(host, served.port, context=_tls(served), timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, response.headers, body


def _affinity(headers) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie(value)
        if AFFINITY_COOKIE in cookie:
            return cookie[AFFINITY_COOKIE].value
    return None


def _sign_in(browser: Browser):
    run = browser.run()
    browser.set_value(run, "text_input", "Username", "boss")
    browser.set_value(run, "text_input", "Password", PASSWORD)
    return browser.click(run, "Sign in")


def test_the_app_page_is_served_over_https_with_a_certificate_of_the_internal_ca(served):
    assert served.ca_root.exists(), served.log[-2000:]
    for host in ("localhost", "127.0.0.1"):
        status, headers, body = _get(served, host=host)
        assert status == 200
        assert '<div id="root">' in body and "<title>" in body  # Streamlit's page
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert _affinity(headers), "Caddy gives the browser its sticky-session cookie"
    # The certificate really is checked: without the internal CA's root it is refused.
    with pytest.raises(urllib.error.URLError) as err:
        urllib.request.urlopen(f"https://localhost:{served.port}/", context=ssl.create_default_context(), timeout=10)
    assert isinstance(err.value.reason, ssl.SSLCertVerificationError)


def test_a_clinician_signs_in_over_the_websocket_through_caddy_on_postgresql(served):
    _, headers, _ = _get(served)
    browser = Browser(f"https://localhost:{served.port}", ssl_context=_tls(served),
                      cookies={AFFINITY_COOKIE: _affinity(headers)}, timeout=120)
    browser.open()
    try:
        run = _sign_in(browser)
        assert not run.exceptions, run.exceptions
        assert "Patients" in run.texts and "Signed in as Bo Boss (boss, admin)" in run.texts
        assert {"Patients", "New assessment", "Result", "History"} <= set(browser.pages)
        run = browser.run(page="History")
        assert "History" in run.texts and not run.exceptions
    finally:
        browser.close()


def test_sticky_sessions_keep_one_browser_on_one_app_process(served):
    # Fresh browsers are spread over both processes: two different affinity cookies appear.
    cookies = {_affinity(_get(served)[1]) for _ in range(16)}
    assert len(cookies) == 2, cookies
    mine, other = sorted(cookies)
    # With its cookie a browser is never moved: no new cookie on later requests.
    for _ in range(6):
        assert _affinity(_get(served, "/_stcore/health", cookies={AFFINITY_COOKIE: mine})[1]) is None
    base, tls = f"https://localhost:{served.port}", _tls(served)
    browser = Browser(base, ssl_context=tls, cookies={AFFINITY_COOKIE: mine}, timeout=120)
    browser.open()
    _sign_in(browser)
    session = browser.session_id
    browser.close()
    # A dropped websocket reconnects (as the browser does) to the same process and finds its session,
    # still signed in.
    for _ in range(3):
        again = Browser(base, ssl_context=tls, cookies={AFFINITY_COOKIE: mine}, timeout=120)
        again.open(resume=session)
        run = again.run()
        again.close()
        assert again.session_id == session
        assert "Signed in as Bo Boss (boss, admin)" in run.texts
    # The other process does not know that session: without stickiness the clinician would be signed out.
    stray = Browser(base, ssl_context=tls, cookies={AFFINITY_COOKIE: other}, timeout=120)
    stray.open(resume=session)
    run = stray.run()
    stray.close()
    assert stray.session_id != session
    assert "Username" in [e.text_input.label for e in run.elements if e.WhichOneof("type") == "text_input"]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) with a listening socket on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def _non_loopback_ipv4() -> str | None:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    addresses = [i[4][0] for i in infos if not i[4][0].startswith("127.")]
    return addresses[0] if addresses else None


def test_no_plain_http_is_served(served):
    # The app processes listen on loopback only (127.0.0.1 = 0100007F in /proc/net/tcp).
    for port in served.backends:
        assert _listening_addresses(port) == {"0100007F"}, port
    # Caddy's port answers plain HTTP with an error, never the app.
    targets = ["127.0.0.1"] + ([ip] if (ip := _non_loopback_ipv4()) else [])
    for host in targets:
        conn = http.client.HTTPConnection(host, served.port, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        conn.close()
        assert response.status == 400
        assert "HTTPS" in body and '<div id="root">' not in body
        if host != "127.0.0.1":  # the app ports are closed on the network interface
            for port in served.backends:
                with pytest.raises(OSError):
                    socket.create_connection((host, port), timeout=3).close()


def _worker_pid(port: int) -> int:
    """The pid of the app process started for loopback ``port`` (from /proc/*/cmdline)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve.worker" in argv and b"--server.port" in argv and argv[argv.index(b"--server.port") + 1] == str(port).encode():
            return int(entry.name)
    raise AssertionError(f"no app process for port {port}")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_an_app_process_that_dies_is_started_again(served):
    port = served.backends[1]
    old = _worker_pid(port)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 240
    while not (_healthy(port) and _worker_pid(port) != old):
        assert time.monotonic() < deadline, served.log[-2000:]
        time.sleep(0.5)
    assert f"the app process on 127.0.0.1:{port} exited" in served.log
    # Meanwhile and after, the clinic is still served through Caddy.
    assert _get(served, "/_stcore/health")[0] == 200


def test_sigterm_stops_caddy_and_every_app_process(served):
    assert served.proc.poll() is None
    assert served.stop(signal.SIGTERM) == 0, served.log[-2000:]
    for port in (served.port, *served.backends):
        assert not _listening_addresses(port), f"port {port} still listening after the stop"
