"""SIGKILL a process in the middle of an assessment, then restart: every trial it
reported saved is there, and the draft is offered for resuming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assessment.protocol import MAX_TIMED_TRIALS
from records import Database
from records import services as svc

from hardening_support import add_patients, make_db

ROOT = Path(__file__).resolve().parents[2]

#: The killed process: drafts for each MRN given, trials one by one, each id printed
#: only after its transaction committed; with ``idle`` it then sleeps, else it keeps writing.
RECORDER = """
import sys, time
from records import Database
from records import services as svc
url, mode, mrns = sys.argv[1], sys.argv[2], sys.argv[3:]
db = Database(url)
for mrn in mrns:
    draft = svc.start_assessment(db, mrn, assessed_on="2024-03-04", assistive_device="cane", actor="killed")
    print("draft", draft, flush=True)
    for k in range({max_trials}):
        trial = svc.record_trial(db, draft, {{"seconds": 4.0 + k / 10, "timing_source": "stopwatch"}}, actor="killed")
        print("trial", trial.id, draft, trial.number, flush=True)
        if mode == "idle" and k == 2:
            print("sleeping", flush=True)
            time.sleep(600)
print("done", flush=True)
time.sleep(600)
""".format(max_trials=MAX_TIMED_TRIALS)


def _run_and_kill(url: str, mode: str, mrns: list[str], kill_after_trials: int) -> tuple[list[str], list[tuple[int, int, int]]]:
    """Start the recorder, SIGKILL it once it printed ``kill_after_trials`` trials; return what it printed."""
    process = subprocess.Popen(
        [sys.executable, "-c", RECORDER, url, mode, *mrns],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    drafts: list[str] = []
    trials: list[tuple[int, int, int]] = []
    deadline = time.monotonic() + 120
    try:
        while len(trials) < kill_after_trials:
            line = process.stdout.readline()
            assert line, f"recorder ended early: {process.stderr.read()}"
            assert time.monotonic() < deadline, "recorder too slow"
            kind, *values = line.split()
            if kind == "draft":
                drafts.append(values[0])
            elif kind == "trial":
                trials.append(tuple(int(v) for v in values))
        if mode == "idle":
            assert process.stdout.readline().strip() == "sleeping"
    finally:
        os.kill(process.pid, signal.SIGKILL)  # no cleanup, no atexit, no rollback: a power cut for the process
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return drafts, trials


@pytest.mark.parametrize(
    ("mode", "kill_after"),
    [("idle", 3), ("writing", MAX_TIMED_TRIALS + 4)],
    ids=["killed-while-idle", "killed-while-writing"],
)
def test_after_sigkill_every_reported_trial_is_saved_and_the_draft_is_offered(tmp_path, mode, kill_after):
    path = tmp_path / "killed.sqlite3"
    db = make_db(path)
    mrns = add_patients(db, 4)
    db.dispose()

    drafts, trials = _run_and_kill(f"sqlite:///{path}", mode, mrns, kill_after)

    restarted = Database(f"sqlite:///{path}")  # a fresh engine: as after restarting the app
    with restarted.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    offered = {d.id: d for d in svc.open_drafts(restarted, actor="after-restart")}
    for trial_id, draft_id, number in trials:
        assert draft_id in offered, f"draft {draft_id} not offered after the restart"
        saved = {t.id: t for t in offered[draft_id].trials}
        assert trial_id in saved, f"trial {trial_id} (#{number} of draft {draft_id}) reported saved but missing"
        assert saved[trial_id].number == number
        assert saved[trial_id].seconds == pytest.approx(4.0 + (number - 1) / 10)
    # at most the one trial in flight at the kill was saved without being reported
    reported = {t[0] for t in trials}
    stored = {t.id for d in offered.values() for t in d.trials}
    assert reported <= stored and len(stored - reported) <= 1
    assert {int(d) for d in drafts} <= offered.keys()

    # resume the most recent draft, as the wizard does, and finish it
    draft_id = trials[-1][1]
    resumed = offered[draft_id]
    if len(resumed.trials) < MAX_TIMED_TRIALS:
        svc.record_trial(restarted, draft_id, 4.5, actor="after-restart")
    final = svc.finalize_assessment(restarted, draft_id, actor="after-restart")
    assert final.status == "final" and final.assistive_device == "cane"
    assert draft_id not in {d.id for d in svc.open_drafts(restarted)}
    restarted.dispose()
