"""Load bench: a clinic's worth of tablets at once, through `stepback serve` (Caddy, TLS).

Starts `stepback serve` on loopback only (``--host 127.0.0.1``) on a
temporary database with ``--patients`` patients (three final assessments
each) and one account per clinician, then:

1. a single-user run: one simulated clinician signs in and does the
   scenario below for as many actions as each clinician does under load;
2. the load run: ``--clinicians`` simulated clinicians, arriving over the
   first think interval, each signing in and then doing one action every
   ``--think`` seconds for ``--seconds`` seconds.

A simulated clinician is a real websocket session speaking Streamlit's
protocol (``bench/stclient.py``), with cookies, so Caddy's sticky sessions
apply as for a browser; no browser renders, so the figures are the
server's (and TLS's) time from the tap to the end of the rerun. The
scenario cycles through the Patients page (open, search), History (find
and pick a patient), Result, and the New assessment wizard (open; begin,
or resume the draft begun in an earlier cycle). Prints the median and p95
of each action in both runs and their ratio (load / single user), the
errors (script exceptions, timeouts) and the dropped websockets.

    python bench/load.py [--clinicians 20] [--seconds 120] [--think 5] [--workers N] [--patients 2000]
    python bench/load.py --plain      # one `streamlit run app.py` process, no Caddy: the set-up before `serve`

Targets (issue 15): under load p95 ≤ 1 s per action and sign-in p95 ≤ 2 s,
0 errors, 0 dropped websockets; single user p90 rerun ≤ 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app import BENCH_PASSWORD, populate  # noqa: E402 - bench/app.py's bulk loader
from stclient import Browser, RunFailed  # noqa: E402

#: Seconds one script run may take before it counts as an error.
RUN_TIMEOUT = 60.0
#: Seconds `stepback serve` may take to start (the processes preload the model).
START_TIMEOUT = 300.0


def _free_ports(n: int) -> list[int]:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        try:
            socks = []
            for p in range(first, first + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return list(range(first, first + n))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no run of free loopback ports")


class Server:
    """`stepback serve` (or, with ``plain``, one `streamlit run app.py`) on loopback, stopped by :meth:`stop`."""

    def __init__(self, db_url: str, tmp: Path, workers: int, plain: bool) -> None:
        port, *backends = _free_ports(workers + 1)
        self.log_path = tmp / "server.log"
        env = {**os.environ, "STEPBACK_DATABASE_URL": db_url, "XDG_DATA_HOME": str(tmp / "xdg")}
        if plain:
            argv = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                    "--server.address", "127.0.0.1", "--server.port", str(port)]
            self.base, self.ssl = f"http://127.0.0.1:{port}", None
            ready = "URL:"
        else:
            argv = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                    "--workers", str(workers), "--backend-port", str(backends[0])]
            self.base = f"https://localhost:{port}"
            ready = "Stop with Ctrl-C"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while ready not in self.log_path.read_text("utf-8", "replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not start:\n" + self.log_path.read_text()[-2000:])
            time.sleep(0.3)
        if not plain:
            ca = tmp / "xdg" / "stepback" / "serve" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
            self.ssl = ssl.create_default_context(cafile=str(ca))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Results:
    """Seconds per action, errors and dropped websockets, shared by the clinician threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.dropped = 0

    def add(self, action: str, seconds: float) -> None:
        with self.lock:
            self.times[action].append(seconds)

    def error(self, action: str, message: str, dropped: bool = False) -> None:
        with self.lock:
            self.errors.append(f"{action}: {message}")
            self.dropped += dropped


class Clinician:
    """One simulated clinician: a websocket session that signs in and then taps through the scenario."""

    def __init__(self, server: Server, username: str, search: str, results: Results) -> None:
        self.server, self.username, self.search, self.results = server, username, search, results
        self.browser: Browser | None = None
        self.run = None
        self.step = 0

    def _timed(self, action: str, call, since: float | None = None) -> None:
        try:
            run = call()
        except RunFailed as err:
            self.results.error(action, str(err), dropped="closed" in str(err))
            raise
        self.run = run
        if run.exceptions:
            self.results.error(action, "; ".join(run.exceptions))
        self.results.add(action, run.seconds if since is None else time.perf_counter() - since)

    def sign_in(self) -> None:
        cookies = self._affinity_cookie()
        self.browser = Browser(self.server.base, ssl_context=self.server.ssl, cookies=cookies, timeout=RUN_TIMEOUT)
        t0 = time.perf_counter()
        self.browser.open()
        self._timed("open the app", self.browser.run, since=t0)  # with the TLS and websocket handshakes
        self.browser.set_value(self.run, "text_input", "Username", self.username)
        self.browser.set_value(self.run, "text_input", "Password", BENCH_PASSWORD)
        self._timed("sign in", lambda: self.browser.click(self.run, "Sign in"))

    def _affinity_cookie(self) -> dict:
        """What a browser gets from loading the page: Caddy's sticky-session cookie."""
        if self.server.ssl is None:
            return {}
        import http.client
        from http.cookies import SimpleCookie

        host, port = self.server.base.removeprefix("https://").split(":")
        conn = http.client.HTTPSConnection(host, int(port), context=self.server.ssl, timeout=RUN_TIMEOUT)
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        conn.close()
        out = {}
        for value in response.headers.get_all("Set-Cookie") or []:
            out.update({k: m.value for k, m in SimpleCookie(value).items()})
        return out

    def act(self) -> None:
        """The next action of the scenario (one tap, one measured rerun)."""
        b = self.browser
        steps = [
            ("Patients: open", lambda: b.run(page="Patients")),
            ("Patients: search", self._search),
            ("History: open", lambda: b.run(page="History")),
            ("History: pick patient", self._pick),
            ("Result: open", lambda: b.run(page="Result")),
            ("New assessment: open", lambda: b.run(page="New assessment")),
            ("New assessment: begin or resume", self._begin),
        ]
        action, call = steps[self.step % len(steps)]
        self.step += 1
        self._timed(action, call)

    def _search(self):
        self.browser.set_value(self.run, "text_input", "Search by name or MRN", self.search)
        return self.browser.run()

    def _pick(self):
        self.browser.set_value(self.run, "text_input", "Find patient by name or MRN", self.search)
        run = self.browser.run()
        picker = run.widget("selectbox", "Patient")
        if picker is None or not picker.options:
            return run
        self.browser.set_value(run, "selectbox", "Patient", picker.options[0])
        return self.browser.run()

    def _begin(self):
        for label in ("Resume this assessment", "Begin a new assessment"):
            if self.run.widget("button", label) is not None:
                return self.browser.click(self.run, label)
        return self.browser.run()

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()


def clinician_loop(clinician: Clinician, start_delay: float, think: float, until: float, actions: int | None) -> None:
    """Sign in after ``start_delay``, then one action every ``think`` seconds until ``until`` (or ``actions`` done)."""
    time.sleep(start_delay)
    try:
        clinician.sign_in()
        done = 0
        next_at = time.monotonic() + think
        while time.monotonic() < until and (actions is None or done < actions):
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += think
            clinician.act()
            done += 1
    except RunFailed:
        pass  # counted in Results
    except Exception as err:  # noqa: BLE001 - a failed handshake or connection is an error of the run, not of the bench
        clinician.results.error("connect", f"{type(err).__name__}: {err}", dropped=True)
    finally:
        try:
            clinician.close()
        except Exception:  # noqa: BLE001 - closing an already broken websocket
            pass


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinicians", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the load run after sign-in")
    parser.add_argument("--think", type=float, default=5.0, help="seconds between one clinician's actions")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="app processes of `stepback serve`")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--plain", action="store_true", help="one `streamlit run app.py` process, no Caddy, no TLS")
    args = parser.parse_args()
    if not (1 <= args.clinicians <= 100 and 0 < args.seconds <= 1800 and 0.5 <= args.think <= 60):
        parser.error("bounded: --clinicians 1–100, --seconds up to 1800, --think 0.5–60")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="stepback-load-") as tmp:
        tmp_path = Path(tmp)
        db_url = f"sqlite:///{tmp_path / 'load.sqlite3'}"
        os.environ["STEPBACK_DATABASE_URL"] = db_url
        t0 = time.perf_counter()
        populate(db_url, args.patients, 3)
        from records import services
        from records.db import open_database

        db = open_database(db_url)
        users = [f"clin{i:02d}" for i in range(1, args.clinicians + 1)]
        for name in users:
            services.add_user(db, username=name, password=BENCH_PASSWORD, role="clinician", display_name=name,
                              actor="bench")
        family = [p.family_name for p in services.list_patients(db, limit=args.clinicians, actor="bench")]
        db.dispose()
        print(f"database: {args.patients:,} patients, {args.clinicians} accounts ({time.perf_counter() - t0:.1f} s)")
        t0 = time.perf_counter()
        server = Server(db_url, tmp_path, args.workers, args.plain)
        what = ("one `streamlit run app.py` process, plain HTTP" if args.plain
                else f"`stepback serve`: Caddy with TLS, {args.workers} app process(es)")
        print(f"server: {what}, started in {time.perf_counter() - t0:.1f} s")
        try:
            actions = max(1, int(args.seconds // args.think))
            single = Results()
            clinician_loop(Clinician(server, users[0], family[0], single), 0.0, min(args.think, 1.0),
                           time.monotonic() + 10 * args.seconds, actions)
            load = Results()
            until = time.monotonic() + args.think + args.seconds
            threads = [threading.Thread(target=clinician_loop, daemon=True,
                                        args=(Clinician(server, user, family[i % len(family)], load),
                                              random.uniform(0, args.think), args.think, until, None))
                       for i, user in enumerate(users)]
            for t in threads:
                t.start()
            deadline = until + 2 * RUN_TIMEOUT
            for t in threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            stuck = sum(t.is_alive() for t in threads)
            for _ in range(stuck):
                load.error("still waiting", f"a clinician was still waiting {2 * RUN_TIMEOUT:.0f} s after the end")
        finally:
            server.stop()
    load_after = os.getloadavg()
    print(f"\n{args.clinicians} clinicians, one action every {args.think:g} s for {args.seconds:g} s; "
          f"single-user run: {actions} actions. {os.cpu_count()} cores; load average before "
          f"{load_before[0]:.2f}, after {load_after[0]:.2f} (other work on the machine counts).")
    print(f"{'action':34s} {'single med':>10s} {'single p95':>10s} {'load n':>7s} {'load med':>9s} "
          f"{'load p95':>9s} {'ratio med':>9s} {'ratio p95':>9s}")
    order = ["open the app", "sign in"] + sorted(k for k in load.times if k not in ("open the app", "sign in"))
    for action in order:
        s, ld = single.times.get(action, []), load.times.get(action, [])
        if not ld:
            continue
        sm = statistics.median(s) if s else float("nan")
        sp = _pct(s, 0.95) if s else float("nan")
        lm, lp = statistics.median(ld), _pct(ld, 0.95)
        print(f"{action:34s} {sm:10.3f} {sp:10.3f} {len(ld):7d} {lm:9.3f} {lp:9.3f} {lm / sm:9.2f} {lp / sp:9.2f}")
    every_s = [v for k, vs in single.times.items() if k not in ("open the app", "sign in") for v in vs]
    every_l = [v for k, vs in load.times.items() if k not in ("open the app", "sign in") for v in vs]
    if every_s and every_l:
        print(f"{'every action after sign-in':34s} {statistics.median(every_s):10.3f} {_pct(every_s, 0.95):10.3f} "
              f"{len(every_l):7d} {statistics.median(every_l):9.3f} {_pct(every_l, 0.95):9.3f} "
              f"{statistics.median(every_l) / statistics.median(every_s):9.2f} "
              f"{_pct(every_l, 0.95) / _pct(every_s, 0.95):9.2f}")
        print(f"single user p90 of every action: {_pct(every_s, 0.90):.3f} s")
    print(f"errors: single {len(single.errors)}, load {len(load.errors)}; dropped websockets: "
          f"single {single.dropped}, load {load.dropped}")
    for line in (single.errors + load.errors)[:10]:
        print("  " + line[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
