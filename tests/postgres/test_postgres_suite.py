"""The store tests (tests/records, tests/exchange, tests/accounts) against a real PostgreSQL server.

The server is started by the ``postgres_server`` fixture (conftest.py); the
suites run in a subprocess with ``STEPBACK_TEST_DATABASE_URL`` pointing at
it, exactly as a developer would run them by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("tests/records", "tests/exchange", "tests/accounts")
#: Tests that must skip themselves on a server database (they test the SQLite file itself).
MUST_SKIP = (
    "tests/records/test_records_db.py::test_wal_mode_is_on",
    "tests/records/test_records_db.py::test_connection_pragmas",
    "tests/exchange/test_exchange_backup.py::test_backup_while_another_thread_writes_is_a_committed_point",
)
TIMEOUT_SECONDS = 1800


def _cases(junit: Path) -> list[tuple[str, str, str | None]]:
    """(node id, outcome, skip reason) of every test case in a JUnit XML report (module-level tests)."""
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        nodeid = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        skipped = case.find("skipped")
        if case.find("failure") is not None or case.find("error") is not None:
            out.append((nodeid, "failed", None))
        elif skipped is not None:
            out.append((nodeid, "skipped", skipped.get("message")))
        else:
            out.append((nodeid, "passed", None))
    return out


def _commits(server) -> int:
    """Transactions committed in the test databases on the server (``<database>`` and ``<database>_*``)."""
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres") as connection:
        return connection.execute(
            "SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database WHERE datname LIKE %s",
            (f"{server.database}%",),
        ).fetchone()[0]


def test_store_tests_pass_on_postgresql(postgres_server, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "STEPBACK_DATABASE_URL"}
    env["STEPBACK_TEST_DATABASE_URL"] = postgres_server.url
    junit = tmp_path / "postgres.xml"
    commits_before = _commits(postgres_server)
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITES, "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
    )
    elapsed = time.monotonic() - began
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, f"store tests failed on PostgreSQL ({postgres_server.url}):\n{tail}"

    cases = _cases(junit)
    outcomes = {outcome: sum(1 for _, o, _ in cases if o == outcome) for outcome in ("passed", "skipped", "failed")}
    skipped = {nodeid: reason for nodeid, outcome, reason in cases if outcome == "skipped"}
    postgres_server.notes.append(
        f"{postgres_server.version} on port {postgres_server.port}: {outcomes['passed']} passed, "
        f"{outcomes['skipped']} skipped (SQLite-only), {outcomes['failed']} failed in {elapsed:.0f} s ({', '.join(SUITES)})"
    )
    assert outcomes["failed"] == 0
    assert outcomes["passed"] >= 100, outcomes  # the suites really ran, not just collected
    # the SQLite-only tests skip themselves, and nothing else skips
    skipped_ids = {n.split("[")[0] for n in skipped}
    for nodeid in MUST_SKIP:
        assert nodeid in skipped_ids, f"{nodeid} should skip on PostgreSQL; skipped were {sorted(skipped_ids)}"
    for nodeid, reason in skipped.items():
        assert "sqlite" in (reason or "").lower(), f"{nodeid} skipped on PostgreSQL for another reason: {reason}"
    # and they ran against this server: thousands of transactions were committed on it
    assert _commits(postgres_server) - commits_before > 1000
