"""Clinic-app benchmark: server-side page runs on a large database, and cold start.

With 100,000 patients and 500,000 final assessments (1,000,000 trials) bulk-
inserted into a temporary SQLite file (SQLAlchemy Core executemany), times
the server-side run of the Patients page (a name search, no search, and
as a clinician of one of four clinics), the History page (one patient's
five assessments) and the Clinic page (who is due, clinic-wide and for one
clinic) through ``streamlit.testing.v1.AppTest``,
and prints each with its ratio to an empty page run the same way (the
baseline). Target: ratio ≤ 3. Then times the app's cold start: from
``streamlit run app.py`` to the first page rendered in headless Chromium
(or to the health check when Chromium is missing).

    python bench/app.py [--patients 100000] [--per-patient 5] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GIVEN = ["Ana", "Bo", "Carmen", "Dai", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kofi", "Lena", "Mateo",
         "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara"]
#: Password of the bench accounts (a throw-away database).
BENCH_PASSWORD = "bench password, not secret"
#: Patients are spread over these clinics (issue 6); a clinician of one sees a quarter of them.
CLINICS = ["North", "South", "East", "West"]
FAMILY = ["García", "Smith", "Nguyen", "Okafor", "Lindqvist", "Rossi", "Kowalski", "Haddad", "Tanaka", "Silva",
          "Müller", "Dubois", "Ivanova", "Chen", "Patel", "Brown", "Khan", "Jensen", "Novak", "Moreau"]


def populate(url: str, n_patients: int, per_patient: int, seed: int = 11) -> None:
    """Bulk-insert patients, lineages, final assessments and two trials each."""
    import sqlalchemy as sa

    from assessment import score, validate_assessment
    from assessment.program import build_program
    from records import services
    from records.db import open_database
    from records.schema import Base
    from records.validation import name_key

    db = open_database(url)
    # An administrator (sees every patient) and a clinician of one clinic (issue 6).
    services.add_user(db, username="bench", password=BENCH_PASSWORD, role="admin", display_name="Bench",
                      actor="system")
    services.add_user(db, username="bench_north", password=BENCH_PASSWORD, role="clinician",
                      display_name="Bench North", clinic=CLINICS[0], actor="bench")
    t = Base.metadata.tables
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    # One realistic stored score dict (the scorer's own output) reused for every row.
    template = score(validate_assessment({"age": 76, "sex": "female", "trials": [5.1, 4.9]}), previous_seconds=5.4)
    score_dict = template.to_dict()
    patients, lineages, assessments, trials = [], [], [], []
    aid = 0
    today = date.today()
    # The stored reassessment date, as records computes it at finalize (the program of the row's inputs).
    anchor = date(2000, 1, 3)
    weeks = {band: build_program(risk_category="moderate", band=band, population="community", safety_screen=None,
                                 stop_reason=None, valid_trials=2, loss_of_balance=False, hands_on_assistance=False,
                                 assessed_on=anchor).reassess_on - anchor for band in ("high", "intermediate")}
    for i in range(1, n_patients + 1):
        g, f = GIVEN[i % len(GIVEN)], FAMILY[(i // len(GIVEN)) % len(FAMILY)]
        patients.append({"id": i, "mrn": f"M{i:07d}", "given_name": g, "family_name": f"{f}{i}",
                         "birth_date": date(1930 + i % 35, 1 + i % 12, 1 + i % 28), "sex": ("female", "male")[i % 2],
                         "population": "community", "mrn_key": f"m{i:07d}", "name_key": name_key(g, f"{f}{i}"),
                         "clinic": CLINICS[i % len(CLINICS)], "created_at": now, "updated_at": now})
        for k in range(per_patient):
            aid += 1
            # The latest visit falls in the past 200 days, so some patients are due and some are not.
            on = today - timedelta(days=300 * (per_patient - 1 - k) + i % 200)
            secs = float(np.round(rng.lognormal(np.log(5.0), 0.3), 2))
            band = "high" if secs >= 4.5 else "intermediate"
            lineages.append({"id": aid, "patient_id": i, "created_at": now})
            assessments.append({
                "id": aid, "lineage_id": aid, "version": 1, "patient_id": i, "status": "final", "assessed_on": on,
                "start": "standing", "footwear": "shoes", "assistive_device": "none", "practice_walk_done": True,
                "safety_screen": None, "prior_falls": 0, "walking_aid": False, "age": 80, "sex": "female",
                "population": "community", "mean_seconds": secs, "speed_m_per_s": 3.0 / secs,
                "band": band, "percentile": 50.0, "z": 0.0, "reassess_on": on + weeks[band],
                "reference_cohort": template.reference_cohort, "previous_seconds": None, "change_seconds": None,
                "mdc95": None, "change": None, "score": score_dict, "probability": 0.25, "probability_low": 0.2,
                "probability_high": 0.3, "risk_category": "moderate", "model_version": "bench",
                "created_by": "bench", "created_at": now, "finalized_at": now,
            })
            for n in (1, 2):
                trials.append({"assessment_id": aid, "number": n, "seconds": secs, "timing_source": "manual",
                               "start": "standing", "valid": True, "invalid_reason": None, "loss_of_balance": False,
                               "hands_on_assistance": False, "steps": None, "recorded_at": now})
    with db.engine.begin() as conn:
        conn.execute(sa.insert(t["patients"]), patients)
        conn.execute(sa.insert(t["assessment_lineages"]), lineages)
        conn.execute(sa.insert(t["assessments"]), assessments)
        conn.execute(sa.insert(t["trials"]), trials)
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def _empty_page() -> None:
    import streamlit as st

    st.title("Empty")


def time_runs(make, repeat: int) -> float:
    """Median seconds of ``repeat`` runs of a fresh AppTest (after one warm-up)."""
    times = []
    for i in range(repeat + 1):
        at = make()
        t0 = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(at.exception)
        if i:
            times.append(elapsed)
    return statistics.median(times)


def page_benchmarks(repeat: int, search: str, mrn: str) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    app = str(ROOT / "app.py")

    def signed_in(page: str, user: str = "bench", **state):
        def make():
            from datetime import UTC, datetime

            at = AppTest.from_file(app, default_timeout=120)
            # What ui.signin stores after a successful sign-in (the password check itself is not timed).
            at.session_state["clinician"] = user
            at.session_state["clinician_name"] = user
            at.session_state["last_activity"] = datetime.now(UTC)
            at.session_state["session_generation"] = 0  # a new account's (records.accounts.live_account)
            for k, v in state.items():
                at.session_state[k] = v
            at.switch_page(page)
            return at
        return make

    return {
        "empty page (baseline)": time_runs(lambda: AppTest.from_function(_empty_page, default_timeout=120), repeat),
        f"Patients page, search {search!r}": time_runs(signed_in("ui/pages/patients.py", patients_search=search), repeat),
        "Patients page, no search": time_runs(signed_in("ui/pages/patients.py"), repeat),
        "Patients page, one clinic's clinician": time_runs(signed_in("ui/pages/patients.py", "bench_north"), repeat),
        f"History page, MRN {mrn}": time_runs(signed_in("ui/pages/history.py", selected_mrn=mrn), repeat),
        "Clinic page, all patients (admin)": time_runs(signed_in("ui/pages/clinic.py"), repeat),
        "Clinic page, one clinic's clinician": time_runs(signed_in("ui/pages/clinic.py", "bench_north"), repeat),
    }


def cold_start(url: str) -> tuple[float, str]:
    """Seconds from launching ``streamlit run app.py`` to the first page shown."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "STEPBACK_DATABASE_URL": url}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        health = time.perf_counter() - t0
        if not Path("/usr/bin/chromium").exists():
            return health, "server healthy (Chromium missing)"
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_label("Username").wait_for(timeout=120_000)
            first = time.perf_counter() - t0
            browser.close()
        return first, f"first page rendered in Chromium (server healthy after {health:.2f} s; includes browser launch)"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--per-patient", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        os.environ["STEPBACK_DATABASE_URL"] = url
        t0 = time.perf_counter()
        populate(url, args.patients, args.per_patient)
        print(f"populated {args.patients:,} patients, {args.patients * args.per_patient:,} assessments "
              f"in {time.perf_counter() - t0:.1f} s")
        results = page_benchmarks(args.repeat, "smith12", f"M{args.patients // 2:07d}")
        base = results["empty page (baseline)"]
        for name, seconds in results.items():
            print(f"{name:40s} {seconds * 1000:8.1f} ms   ratio {seconds / base:5.2f}x")
        seconds, what = cold_start(url)
        print(f"cold start: {seconds:.2f} s to {what}")


if __name__ == "__main__":
    main()
