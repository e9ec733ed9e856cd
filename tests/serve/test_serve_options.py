"""``stepback serve`` refuses bad options with one line and exit code 2, before starting anything."""

from __future__ import annotations

import socket
import subprocess

import pytest

import cli
from serve.caddy import caddyfile

from serve_support import require_caddy


def _refused(capsys, argv, field):
    assert cli.main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"stepback: error: {field}: "), err
    return err


def test_missing_caddy_is_refused(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "apt-get install caddy" in _refused(capsys, [], "caddy")


@pytest.mark.parametrize("argv, field", [
    (["--port", "0"], "--port"),
    (["--port", "70000"], "--port"),
    (["--workers", "0"], "--workers"),
    (["--host", "clinic.example"], "--host"),
    (["--session-ttl", "-1"], "--session-ttl"),
    (["--cert", "/nonexistent/cert.pem", "--key", "/nonexistent/key.pem"], "--cert"),
    (["--cert", "/nonexistent/cert.pem"], "--key"),
])
def test_bad_options_are_refused(capsys, argv, field):
    require_caddy()
    _refused(capsys, argv, field)


def test_a_file_that_is_not_a_certificate_is_refused(capsys, tmp_path):
    require_caddy()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate\n")
    key.write_text("not a key\n")
    assert "not a PEM certificate and its key" in _refused(capsys, ["--cert", str(cert), "--key", str(key)], "--cert")


def test_a_busy_port_is_refused(capsys):
    require_caddy()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        assert "in use" in _refused(capsys, ["--host", "127.0.0.1", "--port", str(busy)], "--port")
        assert "in use" in _refused(capsys, ["--port", str(busy + 1 if busy < 65000 else busy - 10),
                                             "--workers", "1", "--backend-port", str(busy)], "--backend-port")


def test_the_caddyfile_is_accepted_by_caddy(tmp_path):
    """Caddy's own validator accepts both forms (internal CA, clinic certificate)."""
    caddy = require_caddy()
    for extra in ({}, {"cert": tmp_path / "c.pem", "key": tmp_path / "k.pem"}):
        text = caddyfile(names=["localhost", "127.0.0.1", "::1"], port=18443, bind="127.0.0.1", backends=[18601, 18602],
                         cookie_secret="0" * 32, **extra)
        path = tmp_path / "Caddyfile"
        path.write_text(text)
        result = subprocess.run([caddy, "adapt", "--config", str(path), "--adapter", "caddyfile"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert '"policy":"cookie"' in result.stdout.replace(" ", "") or '"cookie"' in result.stdout
