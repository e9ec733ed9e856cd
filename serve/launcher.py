"""Check the options of ``stepback serve``, start Caddy and the app processes, stop them cleanly."""

from __future__ import annotations

import ctypes
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from assessment.errors import InputError

from .caddy import HEALTH_PATH, caddyfile

#: The checkout holding ``app.py`` (StepBack is installed editable from it).
ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
#: Seconds an app process may take to load the model and answer its health check.
START_TIMEOUT = 180.0
#: Seconds a process gets to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
#: Most app processes one machine runs.
MAX_WORKERS = 64


def default_workers() -> int:
    """One app process per core."""
    return os.cpu_count() or 1


@dataclass(frozen=True)
class ServeOptions:
    """What ``stepback serve`` runs.

    Parameters
    ----------
    host : str
        Address Caddy's HTTPS listens on; ``0.0.0.0`` (default) is every interface.
    port : int
        HTTPS port (default 8443).
    workers : int
        Streamlit processes (default: one per core).
    backend_port : int
        Loopback port of the first process; the others take the next ports.
    names : tuple of str
        Extra host names or IP addresses the tablets use (certificates of the internal CA).
    cert, key : Path, optional
        The clinic's certificate and key (PEM), instead of Caddy's internal CA.
    session_ttl : int
        Streamlit's ``server.disconnectedSessionTTL``: seconds a session
        whose websocket dropped is kept for the browser to reconnect.
    """

    host: str = "0.0.0.0"
    port: int = 8443
    workers: int = field(default_factory=default_workers)
    backend_port: int = 8601
    names: tuple[str, ...] = ()
    cert: Path | None = None
    key: Path | None = None
    session_ttl: int = 120

    @property
    def backends(self) -> list[int]:
        """Loopback ports of the app processes."""
        return [self.backend_port + i for i in range(self.workers)]

    def certificate_names(self) -> list[str]:
        """Names served with internal-CA certificates: loopback, this machine's name, ``names``, ``host``."""
        out = ["localhost", "127.0.0.1", socket.gethostname(), *self.names]
        if self.host not in ("0.0.0.0", "::"):
            out.append(self.host)
        return list(dict.fromkeys(n for n in out if n))


def state_dir() -> Path:
    """Where Caddy keeps its CA, certificates and config: ``<user data dir>/stepback/serve``."""
    return Path(platformdirs.user_data_dir("stepback")) / "serve"


def root_certificate() -> Path:
    """The internal CA's root certificate, to install on the clinic's tablets."""
    return state_dir() / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def check_options(options: ServeOptions) -> str:
    """Refuse bad options before anything starts.

    Returns
    -------
    str
        The path of the ``caddy`` program.

    Raises
    ------
    InputError
        Naming the option and what is allowed: caddy missing, a port out of
        range or busy, a certificate or key missing or not matching.
    """
    caddy = shutil.which("caddy")
    if caddy is None:
        raise InputError("caddy", "the caddy program is not on PATH; install it (Debian: apt-get install caddy)")
    if not APP.exists():
        raise InputError("app", f"{APP} not found; install StepBack from its clone (pip install -e .)")
    try:
        ipaddress.ip_address(options.host)
    except ValueError:
        raise InputError("--host", f"{options.host!r} is not an IP address (0.0.0.0 = every interface)") from None
    if not 1 <= options.workers <= MAX_WORKERS:
        raise InputError("--workers", f"{options.workers} is not a number of processes from 1 to {MAX_WORKERS}")
    if not 1 <= options.port <= 65535:
        raise InputError("--port", f"{options.port} is not a port from 1 to 65535")
    if not 1024 <= options.backend_port <= 65535 - options.workers + 1:
        raise InputError("--backend-port", f"{options.backend_port} is not a port from 1024 to {65536 - options.workers}")
    if options.port in options.backends:
        raise InputError("--backend-port", f"the app ports {options.backends} include the HTTPS port {options.port}")
    if options.session_ttl < 0:
        raise InputError("--session-ttl", f"{options.session_ttl} is not a number of seconds ≥ 0")
    if (options.cert is None) != (options.key is None):
        raise InputError("--cert" if options.cert is None else "--key", "give both --cert and --key, or neither")
    if options.cert is not None:
        for name, path in (("--cert", options.cert), ("--key", options.key)):
            if not path.is_file():
                raise InputError(name, f"{path} is not a readable file")
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(options.cert, options.key)
        except (ssl.SSLError, OSError) as err:
            raise InputError("--cert", f"{options.cert} and {options.key} are not a PEM certificate and its key ({err.strerror or err})") from None
    if not _port_free(options.host, options.port):
        raise InputError("--port", f"{options.host}:{options.port} is in use or not allowed; choose another port")
    for port in options.backends:
        if not _port_free("127.0.0.1", port):
            raise InputError("--backend-port", f"127.0.0.1:{port} is in use; choose another first app port")
    return caddy


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the launcher dies without cleaning up."""
    os.setpgrp()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class _Children:
    """The launched processes; stopped in reverse order of start."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        self.procs.append(proc)
        return proc

    def forget(self, proc: subprocess.Popen) -> None:
        """Drop a process that has exited (it is being replaced)."""
        self.procs.remove(proc)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _worker_argv(port: int, session_ttl: int) -> list[str]:
    return [sys.executable, "-m", "serve.worker", str(APP),
            "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
            "--server.disconnectedSessionTTL", str(session_ttl), "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--browser.gatherUsageStats", "false"]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _wait_for(check, procs: list[subprocess.Popen], what: str, stop: threading.Event) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not check():
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"{what} exited while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {START_TIMEOUT:.0f} s")
        if stop.wait(0.25):
            return


def _listening(host: str, port: int) -> bool:
    target = "127.0.0.1" if host == "0.0.0.0" else ("::1" if host == "::" else host)
    try:
        with socket.create_connection((target, port), timeout=1):
            return True
    except OSError:
        return False


def _migrate() -> None:
    """Open (and migrate) the database once, before several processes open it at the same time."""
    from sqlalchemy.exc import SQLAlchemyError

    from records.db import DATABASE_URL_ENV, open_database

    try:
        open_database().dispose()
    except (SQLAlchemyError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(DATABASE_URL_ENV, f"cannot open the database: {first}") from None


def serve(options: ServeOptions, *, out=sys.stdout) -> int:
    """Run Caddy and the app processes until SIGINT or SIGTERM; then stop them all.

    An app process that exits is started again (at most once every 5 s).

    Returns
    -------
    int
        0 after a clean stop; 1 when a process could not start or Caddy stopped.
    """
    caddy = check_options(options)
    _migrate()
    state = state_dir()
    (state / "data").mkdir(parents=True, exist_ok=True)
    (state / "config").mkdir(parents=True, exist_ok=True)
    config = state / "Caddyfile"
    config.write_text(caddyfile(names=options.certificate_names(), port=options.port, bind=options.host,
                                backends=options.backends, cookie_secret=secrets.token_hex(16),
                                cert=options.cert, key=options.key), "utf-8")
    config.chmod(0o600)
    caddy_env = {**os.environ, "XDG_DATA_HOME": str(state / "data"), "XDG_CONFIG_HOME": str(state / "config")}

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    children = _Children()
    try:
        workers = {port: children.start(_worker_argv(port, options.session_ttl), dict(os.environ))
                   for port in options.backends}
        for port, proc in workers.items():
            _wait_for(lambda port=port: _healthy(port), [proc], f"the app process on 127.0.0.1:{port}", stop)
        if stop.is_set():
            return 0
        proxy = children.start([caddy, "run", "--config", str(config), "--adapter", "caddyfile"], caddy_env)
        _wait_for(lambda: _listening(options.host, options.port), [proxy], "caddy", stop)
        if not stop.is_set():
            _announce(options, out)
        restarted: dict[int, float] = {}
        while not stop.wait(1.0):
            if proxy.poll() is not None:
                print(f"stepback serve: caddy stopped (exit code {proxy.returncode}); stopping", file=sys.stderr)
                return 1
            for port, proc in list(workers.items()):
                if proc.poll() is not None and time.monotonic() - restarted.get(port, 0.0) > 5.0:
                    print(f"stepback serve: the app process on 127.0.0.1:{port} exited ({proc.returncode}); "
                          "starting it again", file=sys.stderr)
                    restarted[port] = time.monotonic()
                    children.forget(proc)
                    workers[port] = children.start(_worker_argv(port, options.session_ttl), dict(os.environ))
        return 0
    except RuntimeError as err:
        print(f"stepback serve: {err}; stopping", file=sys.stderr)
        return 1
    finally:
        children.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _announce(options: ServeOptions, out) -> None:
    names = ["<a name in your certificate>"] if options.cert is not None else options.certificate_names()
    print(f"StepBack is served over HTTPS on {options.host}:{options.port} by {options.workers} app "
          f"process(es) on 127.0.0.1:{options.backends[0]}-{options.backends[-1]}.", file=out)
    for name in names:
        host = f"[{name}]" if ":" in name else name
        print(f"  https://{host}:{options.port}/", file=out)
    if options.cert is None:
        print(f"Certificates come from Caddy's internal CA; install its root on each tablet: {root_certificate()}",
              file=out)
    print("Stop with Ctrl-C (SIGINT) or SIGTERM.", file=out, flush=True)
