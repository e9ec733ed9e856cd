"""Camera timing beside the stopwatch (issue 16): store the camera's time of a walk and let
the clinician choose which time is scored.

The stopwatch time is scored unless the clinician chooses the camera time; the choice is
audited with both times. ``trials.seconds`` always holds the scored time and
``timing_source`` names its source (``stopwatch`` or ``camera``); the other time stays in
``camera_seconds`` / ``stopwatch_seconds``. Each function is one transaction.
"""

from __future__ import annotations

import math
from typing import Any

from assessment import InputError
from assessment.gatekeeper import brief, validate_trial
from assessment.protocol import CAMERA_NOTES, StartConvention, TimingSource

from .assessments import _draft_trial
from .audit import write_audit
from .db import Database
from .errors import Conflict
from .views import TrialView


def _camera_result(seconds: Any, note: Any) -> tuple[float | None, str | None]:
    if seconds is None:
        if not isinstance(note, str) or note not in CAMERA_NOTES:
            raise InputError("camera_note", f"{brief(note)!r} is not allowed; allowed: {', '.join(CAMERA_NOTES)}")
        return None, note
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise InputError("camera_seconds", f"{brief(seconds)!r} is not a time; allowed: seconds above 0")
    return round(float(seconds), 2), None


def record_camera_time(db: Database, assessment_id: int, number: int, seconds: Any, note: Any = None, *,
                       actor: str = "system") -> TrialView:
    """Save the camera's time of a saved walk of a draft, or why it could not time it.

    Parameters
    ----------
    db : Database
    assessment_id : int
        A draft's id.
    number : int
        The walk's number.
    seconds : float or None
        The camera time, or None when the camera could not time the walk.
    note : str or None
        With ``seconds`` None: a key of :data:`CAMERA_NOTES`.
    actor : str

    Returns
    -------
    TrialView
        The walk; its scored time is unchanged.

    Raises
    ------
    Conflict, NotFound, InputError
    """
    camera_seconds, camera_note = _camera_result(seconds, note)
    with db.session(actor) as session:
        row, trial_row = _draft_trial(session, assessment_id, number)
        trial_row.camera_seconds = camera_seconds
        trial_row.camera_note = camera_note
        session.flush()
        write_audit(session, actor, "trial.camera", "assessment", row.id,
                    {"trial": number, "camera_seconds": camera_seconds, "camera_note": camera_note})
        return TrialView.of(trial_row)


def choose_scored_time(db: Database, assessment_id: int, number: int, source: Any, *,
                       actor: str = "system") -> TrialView:
    """Score the camera time or the stopwatch time of a walk timed by both (audited).

    Parameters
    ----------
    db : Database
    assessment_id : int
        A draft's id.
    number : int
        The walk's number.
    source : str
        ``camera`` or ``stopwatch``.
    actor : str

    Returns
    -------
    TrialView

    Raises
    ------
    Conflict
        When the walk has no camera time or was not timed with the stopwatch.
    NotFound, InputError
    """
    allowed = (TimingSource.STOPWATCH.value, TimingSource.CAMERA.value)
    if source not in allowed:
        raise InputError("source", f"{brief(source)!r} is not allowed; allowed: {', '.join(allowed)}")
    with db.session(actor) as session:
        row, trial_row = _draft_trial(session, assessment_id, number)
        if trial_row.camera_seconds is None or trial_row.timing_source not in allowed:
            raise Conflict("source", f"walk {number} was not timed by both the stopwatch and the camera")
        before = trial_row.timing_source
        if source == before:
            return TrialView.of(trial_row)
        if source == TimingSource.CAMERA.value:
            trial_row.stopwatch_seconds = trial_row.seconds
            new_seconds = trial_row.camera_seconds
        else:
            new_seconds = trial_row.stopwatch_seconds
            trial_row.stopwatch_seconds = None
        raw = {**TrialView.of(trial_row).as_raw(), "seconds": new_seconds, "timing_source": source}
        trial = validate_trial(raw, number, StartConvention(row.start))
        from_seconds = trial_row.seconds
        trial_row.seconds = trial.seconds
        trial_row.timing_source = trial.timing_source.value
        session.flush()
        write_audit(session, actor, "trial.scored_time", "assessment", row.id,
                    {"trial": number, "from": before, "to": source, "from_seconds": from_seconds,
                     "to_seconds": trial.seconds})
        return TrialView.of(trial_row)
