"""The clinician note of a walk timed by the camera beside the stopwatch (issue 16): what the
camera time measures (which foot point crosses which line, for the start convention) and both
times of each walk, in the rendered PDF; nothing about a camera when none timed a walk."""

from __future__ import annotations

from datetime import date

import pytest
from reportcheck import flat, pdf_text, render_pages
from reports import build_clinician_report, build_patient_report, render_pdf
from reports.inputs import report_inputs
from reports.samples import example_inputs

from records import Database
from records import services as svc

CROSSING = ("a line is crossed when the leading foot point (the ankle, heel or toe landmark furthest towards "
            "the finish) reaches the tape, interpolated between the video frames' timestamps.")


def _with_camera(start: str) -> dict:
    inputs = example_inputs(trials=(4.1, 3.9))
    inputs["assessment"]["start"] = start
    first, second = inputs["assessment"]["trials"]
    first.update(camera_seconds=4.02, camera_note=None, stopwatch_seconds=None)
    second.update(camera_seconds=None, camera_note="not-crossed-finish", stopwatch_seconds=None)
    return inputs


def _clinician_text(inputs: dict) -> str:
    return flat(" ".join(pdf_text(render_pdf(build_clinician_report(**inputs)))))


@pytest.mark.parametrize(("start", "rule"), [
    ("standing", "Standing start: from the first movement of the feet after 'go' (the leading foot point leaving "
                 "5 cm of where it stood, on its way to 15 cm) to the leading foot reaching the finish tape (the "
                 "stopwatch also counts the reaction time after 'go')."),
    ("rolling", "Rolling start: from the leading foot reaching the start tape (up to 1 s before the Start tap) to "
                "it reaching the finish tape (the stopwatch stops when the patient has fully crossed the finish line)."),
])
def test_clinician_note_says_what_the_camera_time_means_and_both_times(start, rule):
    text = _clinician_text(_with_camera(start))
    assert CROSSING in text
    assert rule in text
    assert "Walk 1: stopwatch 4.10 s, camera 4.02 s (difference -0.08 s); scored: stopwatch." in text
    assert "Walk 2: stopwatch 3.90 s; camera: not timed (the finish line was not crossed)." in text
    # the other convention's rule is not printed
    other = "Rolling start:" if start == "standing" else "Standing start:"
    assert other not in text


def test_patient_handout_and_a_walk_without_camera_say_nothing_about_a_camera():
    inputs = _with_camera("standing")
    handout = flat(" ".join(pdf_text(render_pdf(build_patient_report(**inputs)))))
    assert "camera" not in handout.lower()
    assert "camera" not in _clinician_text(example_inputs()).lower()


def test_a_stored_walk_scored_by_the_camera_prints_its_stopwatch_time_too(tmp_path, pdftoppm):
    """From real SQLite through reports.inputs: the camera time scored, the stopwatch time kept."""
    db = Database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    db.upgrade()
    try:
        svc.add_patient(db, mrn="C1", given_name="Ada", family_name="Lovelace", birth_date=date(1950, 3, 4),
                        sex="female", actor="alice")
        draft = svc.start_assessment(db, "C1", assessed_on=date(2024, 3, 4), start="rolling", actor="alice")
        svc.record_trial(db, draft, {"seconds": 4.52, "timing_source": "stopwatch"}, actor="alice")
        svc.record_trial(db, draft, {"seconds": 4.60, "timing_source": "stopwatch"}, actor="alice")
        svc.record_camera_time(db, draft, 1, 4.47, actor="alice")
        svc.choose_scored_time(db, draft, 1, "camera", actor="alice")
        final = svc.finalize_assessment(db, draft, actor="alice")
        inputs = report_inputs(svc.get_patient(db, "C1"), final, svc.history(db, "C1"))
    finally:
        db.dispose()
    pdf = render_pdf(build_clinician_report(**inputs))
    text = flat(" ".join(pdf_text(pdf)))
    assert "Walk 1: stopwatch 4.52 s, camera 4.47 s (difference -0.05 s); scored: camera." in text
    assert "Rolling start: from the leading foot reaching the start tape" in text
    assert "Walk 2:" not in text  # the camera did not time walk 2
    assert render_pages(pdftoppm, pdf, tmp_path)  # renders
