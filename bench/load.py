"""Load bench: a clinic's worth of tablets at once, through `stepback serve` (Caddy, TLS).

Starts `stepback serve` on loopback only (``--host 127.0.0.1``) on a
temporary database with ``--patients`` patients (three final assessments
each) and one account per clinician, then:

1. a single-user run: one simulated clinician signs in and does the
   scenario below for as many actions as each clinician does under load
   (at least one whole cycle, so it reaches finalise);
2. the load run: ``--clinicians`` simulated clinicians, arriving over the
   first think interval, each signing in and then doing one action every
   ``--think`` seconds for ``--seconds`` seconds.

A simulated clinician is a real websocket session speaking Streamlit's
protocol (``bench/stclient.py``), with cookies, so Caddy's sticky sessions
apply as for a browser; no browser renders, so the figures are the
server's (and TLS's) time from the tap to the end of the rerun(s) it
starts. One cycle of the scenario is a whole assessment in the New
assessment wizard (choose the patient, begin, safety screen, each set-up
tick, script, practice walk, two stopwatch laps, an observation tick, a
STEADI answer, finalise), then Result, History (find and pick a patient)
and Patients (open, search): 26 actions, so at 5 s apart each clinician
finalises once in 2 minutes. A tap inside one of the wizard's fragments
reruns only that fragment, as in a browser. Prints the median and p95 of
each action in both runs and their ratio (load / single user), the
figures against the targets, the errors (script exceptions, timeouts,
missing widgets) and the dropped websockets, and counts the final
assessments the clinicians left in the database. Exits 1 when there were
errors or dropped websockets or no run reached finalise.

    python bench/load.py [--clinicians 20] [--seconds 120] [--think 5] [--workers N] [--patients 2000]
    python bench/load.py --quick      # smoke run: 2 clinicians, one cycle each (tests/serve/test_load_quick.py)
    python bench/load.py --plain      # one `streamlit run app.py` process, no Caddy: the set-up before `serve`

Targets (issue 15): under load p95 ≤ 1 s per action and sign-in p95 ≤ 2 s,
0 errors, 0 dropped websockets; single user p90 rerun ≤ 0.3 s, first
finalise ≤ 1 s.
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

from assessment.program import SAFETY_SCREEN_QUESTIONS  # noqa: E402
from assessment.protocol import SETUP_CHECKLIST  # noqa: E402
from ui.flow import PRE_TEST_KEYS  # noqa: E402
from ui.wizard import GO_QUESTIONS  # noqa: E402

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

    def app_memory_mb(self) -> list[float]:
        """Resident memory (MB) of each Python process serving the app (Caddy left out)."""
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            todo += [int(c) for c in children]
            rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            if b"streamlit" in cmdline or b"serve.worker" in cmdline:
                found.append(rss / 1024)
        return found

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
        self.laps = 0

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
        """Open the app (the page, the TLS and websocket handshakes, the first run), then sign in."""
        t0 = time.perf_counter()
        cookies = self._affinity_cookie()
        self.browser = Browser(self.server.base, ssl_context=self.server.ssl, cookies=cookies, timeout=RUN_TIMEOUT)
        self.browser.open()
        self._timed("open the app", self.browser.run, since=t0)
        self.browser.set_value(self.run, "text_input", "Username", self.username)
        self.browser.set_value(self.run, "text_input", "Password", BENCH_PASSWORD)
        self._timed("sign in", lambda: self.browser.click(self.run, "Sign in"))
        if self.run.widget("button", "Sign out") is None:
            self.results.error("sign in", f"{self.username} is not signed in after the form")
            raise RunFailed("not signed in")
        self.results.add("sign-in, open to signed in", time.perf_counter() - t0)

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

    def scenario(self) -> list[tuple[str, object]]:
        """One cycle of taps: a whole assessment in the wizard (through finalise), then Result, History, Patients.

        Each entry is (action, call); a call returns the script run the tap
        ended with. Taps inside the wizard's fragments (ticks, the
        stopwatch's lap, STEADI answers) rerun only their fragment, as in a
        browser.
        """
        b = self.browser
        return [
            ("New assessment: open", lambda: b.run(page="New assessment")),
            ("New assessment: choose patient", self._choose),
            ("New assessment: begin", self._begin),
            ("Safety screen: continue", self._safety),
            *[("Set-up: tick", lambda item=item: self._change("checkbox", item.text, True)) for item in SETUP_CHECKLIST],
            ("Set-up: continue", lambda: self._click("All done — continue")),
            ("Script: read", lambda: self._click("I have read the script")),
            ("Practice walk: done", lambda: self._change("radio", "Practice walk", "Done")),
            ("Practice walk: start the timed walks", lambda: self._click("Start the timed walks")),
            ("Timed walks: stopwatch lap", self._lap),
            ("Timed walks: stopwatch lap", self._lap),
            ("Timed walks: continue", lambda: self._click("Continue to the observations")),
            ("Observations: tick", lambda: self._change("checkbox", "Lost balance", True)),
            ("Observations: continue", lambda: self._click("Continue to STEADI items")),
            ("STEADI: enter a time", lambda: self._change("number_input", "Timed Up and Go, seconds", 12.5)),
            ("STEADI: continue", lambda: self._click("Continue to review")),
            ("Review: finalise", self._finalise),
            ("Result: open", lambda: b.run(page="Result")),
            ("History: open", lambda: b.run(page="History")),
            ("History: pick patient", self._pick),
            ("Patients: open", lambda: b.run(page="Patients")),
            ("Patients: search", self._search),
        ]

    def act(self) -> None:
        """The next action of the scenario (one tap, timed to the end of the rerun(s) it starts)."""
        steps = self.scenario()
        action, call = steps[self.step % len(steps)]
        self.step += 1
        self._timed(action, call)

    def _click(self, label: str):
        return self.browser.click(self.run, label)

    def _change(self, kind: str, label: str, value):
        return self.browser.change(self.run, kind, label, value)

    @staticmethod
    def _then(first, second):
        """``second`` after ``first``, timed as one action (the clinician waits for both)."""
        second.seconds += first.seconds
        return second

    def _choose(self):
        b = self.browser
        run = b.change(self.run, "text_input", "Find patient by name or MRN", self.search)
        picker = run.widget("selectbox", "Patient")
        if picker is None or not picker.options:
            raise RunFailed(f"no patient found for {self.search!r} in the wizard")
        return self._then(run, b.change(run, "selectbox", "Patient", picker.options[0]))

    def _begin(self):
        """Tap "Begin a new assessment of <patient>" (the button names the selected patient)."""
        labels = [e.button.label for e in self.run.elements if e.WhichOneof("type") == "button"]
        label = next((t for t in labels if t.startswith("Begin a new assessment")), None)
        if label is None:
            raise RunFailed("no 'Begin a new assessment' button after choosing the patient")
        return self._click(label)

    def _safety(self):
        b = self.browser
        for question in GO_QUESTIONS.values():
            b.set_value(self.run, "radio", question, "Yes")
        for key in PRE_TEST_KEYS:
            b.set_value(self.run, "radio", SAFETY_SCREEN_QUESTIONS[key], "No")
        b.set_value(self.run, "radio", "Falls in the past 12 months", "None")
        return self._click("Continue")  # the form's submit button: the answers go with it

    def _lap(self):
        """What the stopwatch's Stop tap sends: the lap (the time itself is measured in the browser)."""
        self.laps += 1
        lap = {"seconds": round(random.uniform(3.5, 6.5), 2), "id": f"{self.laps}:{time.time_ns()}"}
        return self.browser.component_event(self.run, "stepback_stopwatch", "lap", lap)

    def _finalise(self):
        run = self._click("Finalize and see the result")
        if not any(e.WhichOneof("type") == "heading" and e.heading.body == "Result" for e in run.elements):
            raise RunFailed("finalise did not open the Result page")
        return run

    def _search(self):
        return self._change("text_input", "Search by name or MRN", self.search)

    def _pick(self):
        b = self.browser
        run = b.change(self.run, "text_input", "Find patient by name or MRN", self.search)
        picker = run.widget("selectbox", "Patient")
        if picker is None or not picker.options:
            return run
        return self._then(run, b.change(run, "selectbox", "Patient", picker.options[0]))

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


#: ``--quick``: a smoke run (CI): two clinicians, one whole cycle of the scenario each, 0.5 s apart.
QUICK = {"clinicians": 2, "think": 0.5, "patients": 100, "workers": 2}
#: Entries that are not one tap after sign-in (left out of the "every action" figures).
SIGN_IN = ("open the app", "sign in", "sign-in, open to signed in")


def _scenario_length() -> int:
    return len(Clinician(None, "", "", Results()).scenario())


def _count_done(db_url: str, users: list[str]) -> tuple[int, int]:
    """(final assessments, stopwatch walks in them) that the simulated clinicians finalised."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            names = {f"u{i}": u for i, u in enumerate(users)}
            who = ", ".join(f":{k}" for k in names)
            finals = conn.execute(sa.text(f"SELECT count(*) FROM assessments WHERE status = 'final' "
                                          f"AND created_by IN ({who})"), names).scalar_one()
            laps = conn.execute(sa.text(f"SELECT count(*) FROM trials t JOIN assessments a ON a.id = t.assessment_id "
                                        f"WHERE a.status = 'final' AND a.created_by IN ({who}) "
                                        f"AND t.timing_source = 'stopwatch'"), names).scalar_one()
    finally:
        engine.dispose()
    return finals, laps


def _report(single: Results, load: Results, args, actions: int, load_before, load_after) -> bool:
    """Print the table and the figures against the targets; True when the run measured what it claims."""
    print(f"\n{args.clinicians} clinicians, one action every {args.think:g} s "
          + (f"for one cycle of the scenario each" if args.quick else f"for {args.seconds:g} s")
          + f"; single-user run: {actions} actions. {os.cpu_count()} cores; load average (1 min) before "
          f"{load_before[0]:.2f}, after {load_after[0]:.2f} (other work on the machine counts).")
    print(f"{'action':38s} {'single med':>10s} {'single p95':>10s} {'load n':>7s} {'load med':>9s} "
          f"{'load p95':>9s} {'ratio med':>9s} {'ratio p95':>9s}")
    seen = list(dict.fromkeys([*SIGN_IN, *single.times, *load.times]))
    for action in seen:
        s, ld = single.times.get(action, []), load.times.get(action, [])
        if not ld and not s:
            continue
        sm = statistics.median(s) if s else float("nan")
        sp = _pct(s, 0.95) if s else float("nan")
        lm = statistics.median(ld) if ld else float("nan")
        lp = _pct(ld, 0.95) if ld else float("nan")
        print(f"{action:38s} {sm:10.3f} {sp:10.3f} {len(ld):7d} {lm:9.3f} {lp:9.3f} {lm / sm:9.2f} {lp / sp:9.2f}")
    every_s = [v for k, vs in single.times.items() if k not in SIGN_IN for v in vs]
    every_l = [v for k, vs in load.times.items() if k not in SIGN_IN for v in vs]
    if every_s and every_l:
        print(f"{'every action after sign-in':38s} {statistics.median(every_s):10.3f} {_pct(every_s, 0.95):10.3f} "
              f"{len(every_l):7d} {statistics.median(every_l):9.3f} {_pct(every_l, 0.95):9.3f} "
              f"{statistics.median(every_l) / statistics.median(every_s):9.2f} "
              f"{_pct(every_l, 0.95) / _pct(every_s, 0.95):9.2f}")
    print("\nTargets (issue 15):")
    if every_s:
        print(f"  single clinician: p90 of every action {_pct(every_s, 0.90):.3f} s (target ≤ 0.3 s); first "
              f"finalise {single.times['Review: finalise'][0] if single.times.get('Review: finalise') else float('nan'):.3f} s"
              " (target ≤ 1 s)")
    if every_l:
        worst = max((k for k in load.times if k not in SIGN_IN), key=lambda k: _pct(load.times[k], 0.95))
        print(f"  {args.clinicians} clinicians: p95 of every action {_pct(every_l, 0.95):.3f} s, worst action "
              f"{worst!r} p95 {_pct(load.times[worst], 0.95):.3f} s (target ≤ 1 s per action)")
    signin = load.times.get("sign-in, open to signed in", [])
    if signin:
        print(f"  sign-in p95 (open the app to signed in) {_pct(signin, 0.95):.3f} s (target ≤ 2 s)")
    print(f"  errors: single {len(single.errors)}, load {len(load.errors)}; dropped websockets: single "
          f"{single.dropped}, load {load.dropped} (target 0)")
    for line in (single.errors + load.errors)[:10]:
        print("    " + line[:200])
    finalised = (len(single.times.get("Review: finalise", [])), len(load.times.get("Review: finalise", [])))
    print(f"  finalised through the wizard: single {finalised[0]}, load {finalised[1]}")
    return not (single.errors or load.errors or single.dropped or load.dropped) and all(finalised)


def main(argv: list[str] | None = None) -> int:
    """Run the bench; 0 when it ran without errors or dropped websockets and reached finalise, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinicians", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the load run after sign-in")
    parser.add_argument("--think", type=float, default=5.0, help="seconds between one clinician's actions")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="app processes of `stepback serve`")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--plain", action="store_true", help="one `streamlit run app.py` process, no Caddy, no TLS")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 clinicians, 2 app processes, 100 patients, one whole cycle of the "
                             "scenario each (through finalise), 0.5 s between actions")
    args = parser.parse_args(argv)
    if args.quick:
        vars(args).update(QUICK)
    if not (1 <= args.clinicians <= 100 and 0 < args.seconds <= 1800 and 0.5 <= args.think <= 60
            and 1 <= args.workers <= 16 and 10 <= args.patients <= 100_000):
        parser.error("bounded: --clinicians 1–100, --seconds up to 1800, --think 0.5–60, --workers 1–16, "
                     "--patients 10–100000")
    cycle = _scenario_length()
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
        memory: dict[str, list[float]] = {}
        server = Server(db_url, tmp_path, args.workers, args.plain)
        what = ("one `streamlit run app.py` process, plain HTTP" if args.plain
                else f"`stepback serve`: Caddy with TLS, {args.workers} app process(es)")
        print(f"server: {what}, started in {time.perf_counter() - t0:.1f} s", flush=True)
        try:
            # The single user does at least one whole cycle (through finalise), as each clinician under load does.
            actions = cycle if args.quick else max(cycle, int(args.seconds // args.think))
            single = Results()
            clinician_loop(Clinician(server, users[0], family[0], single), 0.0, min(args.think, 1.0),
                           time.monotonic() + actions * (args.think + RUN_TIMEOUT), actions)
            memory["after the single-user run"] = server.app_memory_mb()
            load = Results()
            if args.quick:
                until, per_clinician = time.monotonic() + cycle * (args.think + RUN_TIMEOUT), cycle
            else:
                until, per_clinician = time.monotonic() + args.think + args.seconds, None
            threads = [threading.Thread(target=clinician_loop, daemon=True,
                                        args=(Clinician(server, user, family[i % len(family)], load),
                                              random.uniform(0, args.think), args.think, until, per_clinician))
                       for i, user in enumerate(users)]
            for t in threads:
                t.start()
            deadline = until + 2 * RUN_TIMEOUT
            for t in threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            stuck = sum(t.is_alive() for t in threads)
            for _ in range(stuck):
                load.error("still waiting", f"a clinician was still waiting {2 * RUN_TIMEOUT:.0f} s after the end")
            memory["after the load run"] = server.app_memory_mb()
        finally:
            server.stop()
        finals, laps = _count_done(db_url, users)
    load_after = os.getloadavg()
    ok = _report(single, load, args, actions, load_before, load_after)
    print(f"  in the database: {finals} final assessments by the simulated clinicians, {laps} stopwatch walks in them")
    base = sum(memory.get("after the single-user run", [])) or float("nan")
    for when, sizes in memory.items():
        print(f"  app processes' resident memory {when}: " + ", ".join(f"{mb:.0f} MB" for mb in sizes)
              + f" (ratio to the single-user run: {sum(sizes) / base:.2f})")
    return 0 if ok and finals else 1


if __name__ == "__main__":
    sys.exit(main())
