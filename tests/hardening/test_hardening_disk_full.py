"""Issue 14: a disk that fills up during `stepback report --due` leaves no truncated PDF.

The reports go to a small tmpfs mounted by the test (root only; skipped
where mounting is not permitted), the database stays on the ordinary disk.
The CLI runs as its own process, as a clinic runs it. Afterwards: every PDF
in the folder is whole (it opens and has its pages), there is no temporary
file, each report audited as printed is a file that is there (and only
those), and stderr is one line saying how many were written and where.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from records import services as svc
from records.audit import list_audit

from hardening_support import make_db

ROOT = Path(__file__).resolve().parents[2]
PATIENTS = 40


@pytest.fixture
def small_disk(tmp_path):
    """A 400 KiB tmpfs at ``tmp_path/disk`` (unmounted afterwards)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", f"stepback-{uuid.uuid4().hex[:8]}",
                           str(mount_point)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()[:200]}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_stops_the_batch_with_whole_audited_reports_only(tmp_path, small_disk, workers):
    db_path = tmp_path / "clinic.sqlite3"
    db = make_db(db_path)
    long_ago = (date.today() - timedelta(days=400)).isoformat()
    for i in range(PATIENTS):  # assessed long ago: every one is due
        svc.add_patient(db, mrn=f"D{i:03d}", given_name=f"Given{i}", family_name="Due", birth_date="1945-01-01",
                        sex="female", actor="setup")
        svc.record_assessment(db, f"D{i:03d}", {"trials": ["6.5"], "assessed_on": long_ago}, actor="setup")
    out_dir = small_disk / "due"
    env = {**os.environ, "STEPBACK_CLINICIAN": "printer"}
    env.pop("STEPBACK_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "cli", "report", "--due", "--db", str(db_path), "--out-dir",
                           str(out_dir), "--workers", str(workers)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    files = sorted(p.name for p in out_dir.iterdir())
    pdfs = [name for name in files if name.endswith(".pdf") and not name.startswith(".")]
    assert files == pdfs, f"temporary files left: {sorted(set(files) - set(pdfs))}"
    assert 0 < len(pdfs) < 2 * PATIENTS, "the disk should fill part way through"
    assert lines[0].startswith("stepback: error: --out-dir: No space left on device; stopped after "
                               f"{len(pdfs)} of {2 * PATIENTS} reports"), lines[0]
    assert str(out_dir) in lines[0]
    for name in pdfs:  # every PDF left is whole
        reader = PdfReader(out_dir / name)
        assert len(reader.pages) >= 1 and reader.pages[0].extract_text().strip(), name
    printed = list_audit(db, action="report.print", limit=10 * PATIENTS)
    assert len(printed) == len(pdfs)  # one audit row per report written, none for the others
    db.dispose()
