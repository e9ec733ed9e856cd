"""``stepback serve`` started for real: Caddy with its internal CA, two app processes, PostgreSQL.

The throw-away PostgreSQL server is tests/postgres's fixture (reused, not
copied). Without caddy (or PostgreSQL) the tests are skipped, except that
they FAIL when ``CI=true``: CI installs both (.ci/run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from serve_support import PASSWORD, ROOT, START_TIMEOUT, Served, free_ports, require_caddy

from tests.postgres.conftest import postgres_server  # noqa: F401 - the shared fixture


@pytest.fixture(scope="module")
def served(postgres_server, tmp_path_factory):  # noqa: F811 - the imported fixture
    """``stepback serve --workers 2`` on loopback ports, on the PostgreSQL database, with two accounts."""
    require_caddy()
    from records import services
    from records.db import open_database

    db = open_database(postgres_server.url)
    try:
        if not services.list_users(db):
            services.add_user(db, username="boss", password=PASSWORD, role="admin", display_name="Bo Boss", actor="system")
    finally:
        db.dispose()
    tmp = tmp_path_factory.mktemp("serve")
    port, *backends = free_ports(3)
    log_path = tmp / "serve.log"
    env = {**os.environ, "STEPBACK_DATABASE_URL": postgres_server.url, "XDG_DATA_HOME": str(tmp / "xdg")}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--workers", "2", "--port", str(port),
                                 "--backend-port", str(backends[0]), "--session-ttl", "60"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    ca_root = tmp / "xdg" / "stepback" / "serve" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    server = Served(proc, port, backends, log_path, ca_root, postgres_server.url)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "Stop with Ctrl-C" not in server.log:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("stepback serve did not start:\n" + server.log[-3000:])
            time.sleep(0.5)
        yield server
    finally:
        server.stop()
