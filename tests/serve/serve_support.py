"""Helpers of the serving tests: caddy present (or skip / fail in CI), free ports, the running server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
#: Seconds the two app processes may take to preload and Caddy to start (2 shared cores).
START_TIMEOUT = 300


def require_caddy() -> str:
    """The caddy program, or skip (fail when ``CI=true``)."""
    found = shutil.which("caddy")
    if found:
        return found
    message = "no caddy program on PATH: apt-get install caddy"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true, so the serving tests must not be skipped")
    pytest.skip(message)


def free_ports(n: int) -> list[int]:
    """``n`` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n > 65535:
            continue
        ok = True
        for port in range(first, first + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return list(range(first, first + n))
    raise RuntimeError("no run of free ports")


class Served:
    """A running ``stepback serve``: its process, ports, log and the internal CA's root."""

    def __init__(self, proc, port, backends, log_path, ca_root, db_url):
        self.proc, self.port, self.backends = proc, port, backends
        self.log_path, self.ca_root, self.db_url = log_path, ca_root, db_url

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode
