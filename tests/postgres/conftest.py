"""A throw-away PostgreSQL server for the store tests.

:func:`postgres_server` finds Debian's PostgreSQL binaries
(``/usr/lib/postgresql/<version>/bin``), creates a cluster in a temporary
folder, starts it on a free localhost port, creates a database and stops
the server afterwards. As root it runs them as the ``postgres`` OS user
(initdb refuses root). Without the binaries the tests are skipped, except
that they FAIL when ``CI=true``: CI installs ``postgresql`` (.ci/run).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Where Debian's postgresql packages put the server binaries.
BIN_GLOB = "/usr/lib/postgresql/*/bin"
DATABASE = "stepback_test"
#: The ``notes`` of each server started, for pytest's terminal summary.
SUMMARY: list[list[str]] = []


@dataclass(frozen=True)
class PostgresServer:
    """A running server: ``url`` is the SQLAlchemy URL of its empty database ``database``.

    Lines a test appends to ``notes`` are printed in pytest's terminal summary.
    """

    bin_dir: Path
    data_dir: Path
    port: int
    url: str
    database: str
    version: str
    notes: list[str] = field(default_factory=list)


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb and pg_ctl (else on PATH), or None."""
    candidates = [Path(d) for d in glob.glob(BIN_GLOB) if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()]
    candidates.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    if candidates:
        return candidates[-1]
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def require_bin_dir() -> Path:
    """The binaries, or skip (fail when ``CI=true``)."""
    found = find_bin_dir()
    if found is not None:
        return found
    message = f"no PostgreSQL server binaries ({BIN_GLOB}/initdb, pg_ctl): apt-get install postgresql"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true, so the PostgreSQL run must not be skipped")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    """Run as ``postgres`` when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=120, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def postgres_server():
    """Start a private PostgreSQL server with an empty database; stop it at the end of the session."""
    bin_dir = require_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="stepback-pg-"))  # directly under /tmp: the postgres user can reach it
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    data, log = root / "data", root / "server.log"
    port = free_port()
    started = False
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
              "--locale=C.UTF-8", "--no-sync"])
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
        started = True
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"
        _create_database(port)
        version = _run([str(bin_dir / "postgres"), "--version"]).stdout.strip()
        server = PostgresServer(bin_dir, data, port, url, DATABASE, version)
        SUMMARY.append(server.notes)
        yield server
    finally:
        if started:
            try:
                _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
            except RuntimeError as err:  # pragma: no cover - reported, then the folder goes anyway
                print(err)
        shutil.rmtree(root, ignore_errors=True)


def _create_database(port: int) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            connection = psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}"')


def pytest_terminal_summary(terminalreporter):
    """Print what the PostgreSQL run did."""
    lines = [line for notes in SUMMARY for line in notes]
    if lines:
        terminalreporter.section("store tests on PostgreSQL")
        for line in lines:
            terminalreporter.write_line(line)
