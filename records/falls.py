"""Fall events reported at follow-up, and the 12-month outcome labels built from them."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from assessment.errors import InputError
from assessment.gatekeeper import parse_bool

from .assessments import _current_final_query
from .audit import now, write_audit
from .db import Database
from .patients import patient_row
from .schema import AssessmentRow, FallEvent
from .validation import validate_event_date, validate_notes
from .views import FallView

#: Follow-up window for the fall outcome, days after the assessment date
#: (12 months; issue: labelled outcomes for recalibration).
OUTCOME_WINDOW_DAYS = 365


def record_fall(
    db: Database,
    mrn: str,
    *,
    occurred_on: date | str,
    injury: bool = False,
    notes: str | None = None,
    actor: str = "system",
) -> FallView:
    """Record a fall the patient reports at follow-up.

    Parameters
    ----------
    db : Database
    mrn : str
    occurred_on : date or str
        YYYY-MM-DD, from 1990-01-01 to today and not before the birth date.
    injury : bool
        Whether the fall caused an injury (yes/no).
    notes : str, optional
        Up to 2000 characters (never copied to the audit trail).
    actor : str
    """
    when = validate_event_date("occurred_on", occurred_on)
    hurt = parse_bool("injury", injury)
    text = validate_notes(notes)
    with db.session(actor) as session:
        patient = patient_row(session, mrn)
        if when < patient.birth_date:
            raise InputError("occurred_on", f"{when.isoformat()} is before the patient's birth date; allowed: a date after it")
        row = FallEvent(patient_id=patient.id, occurred_on=when, injury=hurt, notes=text, reported_by=actor, reported_at=now())
        session.add(row)
        session.flush()
        write_audit(session, actor, "fall.record", "fall_event", row.id, {"patient_id": patient.id, "injury": hurt})
        return FallView.of(row, patient.mrn)


def list_falls(db: Database, mrn: str, *, actor: str = "system") -> list[FallView]:
    """The patient's reported falls, oldest first."""
    with db.session(actor, read_only=True) as session:
        patient = patient_row(session, mrn)
        rows = session.scalars(
            sa.select(FallEvent).where(FallEvent.patient_id == patient.id).order_by(FallEvent.occurred_on, FallEvent.id)
        ).all()
        write_audit(session, actor, "fall.list", "patient", patient.id, {"count": len(rows)})
        return [FallView.of(r, patient.mrn) for r in rows]


def labelled_outcomes(db: Database, *, today: date | None = None, actor: str = "system") -> list[dict[str, Any]]:
    """Current final assessments whose 12-month fall outcome is known, for recalibration.

    ``fell`` is 1 when a fall occurred in (assessed_on, assessed_on + 365 days];
    0 when none did and that window has ended (assessed_on + 365 <= today);
    otherwise the assessment is left out, as are assessments without a mean
    time (stopped before a valid trial).

    Parameters
    ----------
    db : Database
    today : date, optional
        Default: today.
    actor : str

    Returns
    -------
    list of dict
        Keys: assessment_id, assessed_on, mean_seconds, age, sex, population,
        prior_falls, walking_aid, assistive_device, stay_independent_score,
        tug_seconds, chair_stand_count, tandem_seconds, fell.
    """
    today = today or date.today()
    window = timedelta(days=OUTCOME_WINDOW_DAYS)
    with db.session(actor, read_only=True) as session:
        falls: dict[int, list[date]] = defaultdict(list)
        for patient_id, occurred_on in session.execute(
            sa.select(FallEvent.patient_id, FallEvent.occurred_on).order_by(FallEvent.occurred_on)
        ):
            falls[patient_id].append(occurred_on)
        rows = session.scalars(_current_final_query().order_by(AssessmentRow.id)).all()
        out = []
        for row in rows:
            if row.mean_seconds is None:
                continue
            dates = falls.get(row.patient_id, [])
            end = row.assessed_on + window
            # first fall strictly after the assessment date
            i = bisect_right(dates, row.assessed_on)
            if i < len(dates) and dates[i] <= end:
                fell = 1
            elif end <= today:
                fell = 0
            else:
                continue
            steadi = row.steadi
            out.append(
                {
                    "assessment_id": row.id,
                    "assessed_on": row.assessed_on,
                    "mean_seconds": row.mean_seconds,
                    "age": row.age,
                    "sex": row.sex,
                    "population": row.population,
                    "prior_falls": row.prior_falls,
                    "walking_aid": row.walking_aid,
                    "assistive_device": row.assistive_device,
                    "stay_independent_score": steadi.stay_independent_score if steadi else None,
                    "tug_seconds": steadi.tug_seconds if steadi else None,
                    "chair_stand_count": steadi.chair_stand_count if steadi else None,
                    "tandem_seconds": steadi.tandem_seconds if steadi else None,
                    "fell": fell,
                }
            )
        write_audit(session, actor, "outcomes.export", "assessment", None, {"count": len(out)})
        return out
