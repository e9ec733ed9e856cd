"""Quality measures: falls screening (eCQM CMS139) and the plan of care for
patients screened at risk (MIPS #155), over a reporting period.

CMS139 "Falls: Screening for Future Fall Risk", as StepBack counts it:

* **denominator**: patients aged 65 or older on the first day of the period
  (:data:`MIN_AGE`) with a visit in the period, a visit being a StepBack
  assessment (final, including a test stopped before it was completed) or a
  row of the visit list exported from the EHR (``mrn,date``);
* **numerator**: those of them with a completed final assessment (not
  stopped) in the period: the assessments whose FHIR export carries the
  falls-screening Observation LOINC 73830-2 (:mod:`records.fhir`).

Plan of care (MIPS #155), as StepBack counts it: of the numerator's patients
whose latest completed assessment in the period was at risk
(:func:`at_risk`), the share with a documented program, that is whose
report with the safe starting program (patient or clinician report) was
printed for that assessment.

Drafts never count; an amended assessment counts as its current version.
Every query takes the caller's clinic scope (:func:`records.patients.clinic_scope`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from assessment import InputError
from assessment.gatekeeper import EARLIEST_DATE, brief, parse_date, parse_iso_date

from .assessments import _current_final_query
from .audit import write_audit
from .db import Database
from .schema import AssessmentRow, AuditRow, Patient
from .validation import validate_actor, validate_clinic, validate_mrn
from .views import age_on

#: Measures this module computes.
MEASURES = {"cms139": "Falls: Screening for Future Fall Risk (CMS139)"}
#: CMS139's denominator age: 65 or older at the start of the period (the measure's definition, issue #13).
MIN_AGE = 65
#: Model risk categories counted as "at risk". source: clinical-evidence.md §5, NHATS cohort
#: (STEADI moderate OR 2.62, high OR 4.76 for future falls): moderate and high are both raised risk.
AT_RISK_CATEGORIES = ("moderate", "high")
#: Columns of the EHR visit list.
VISIT_COLUMNS = ("mrn", "date")


def at_risk(risk_category: str | None) -> bool:
    """True when the model's risk category is one of :data:`AT_RISK_CATEGORIES`."""
    return risk_category in AT_RISK_CATEGORIES


@dataclass(frozen=True)
class Visit:
    """One row of the EHR visit list."""

    mrn: str
    on: date


@dataclass(frozen=True)
class Unscreened:
    """A denominator patient without a completed assessment in the period."""

    mrn: str
    name: str
    birth_date: date
    age: int
    last_visit: date


@dataclass(frozen=True)
class QualityReport:
    """The measure over one period, in one clinic scope (None: every clinic).

    ``rate`` and ``plan_rate`` are None when their denominator is 0.
    """

    measure: str
    period_from: date
    period_to: date
    clinic: str | None
    denominator: int
    numerator: int
    not_screened: tuple[Unscreened, ...]
    plan_denominator: int
    plan_numerator: int
    #: MRNs of at-risk patients with no printed program for their at-risk assessment.
    plan_missing: tuple[str, ...]
    #: Visit-list MRNs not found among the scope's patients (not counted).
    unknown_visit_mrns: tuple[str, ...] = field(default=())

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def plan_rate(self) -> float | None:
        return self.plan_numerator / self.plan_denominator if self.plan_denominator else None

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data (``stepback quality --json``)."""
        return {
            "measure": self.measure,
            "from": self.period_from.isoformat(),
            "to": self.period_to.isoformat(),
            "clinic": self.clinic,
            "denominator": self.denominator,
            "numerator": self.numerator,
            "rate": _round(self.rate),
            "not_screened": [u.mrn for u in self.not_screened],
            "plan_of_care": {
                "measure": "mips155",
                "denominator": self.plan_denominator,
                "numerator": self.plan_numerator,
                "rate": _round(self.plan_rate),
                "not_documented": list(self.plan_missing),
            },
            "unknown_visit_mrns": list(self.unknown_visit_mrns),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def validate_measure(value: Any) -> str:
    """A measure id from :data:`MEASURES` (case-insensitive)."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in MEASURES:
        raise InputError("measure", f"{brief(value)!r} is not known; allowed: {', '.join(MEASURES)}")
    return text


def _period_date(field: str, value: Any) -> date:
    """A period bound: a date YYYY-MM-DD from 1990-01-01 on (the future allowed)."""
    allowed = f"a date YYYY-MM-DD from {EARLIEST_DATE.isoformat()} on"
    parsed = parse_iso_date(field, value, allowed)
    if parsed < EARLIEST_DATE:
        raise InputError(field, f"{parsed.isoformat()} is out of range; allowed: {allowed}")
    return parsed


def validate_period(period_from: Any, period_to: Any) -> tuple[date, date]:
    """The reporting period: two dates YYYY-MM-DD from 1990-01-01 on, ``from`` not after ``to``.

    The end may lie in the future (a calendar year still running).
    """
    start = _period_date("from", period_from)
    end = _period_date("to", period_to)
    if end < start:
        raise InputError("to", f"{end} is before from ({start}); allowed: a date on or after from")
    return start, end


def read_visits(path: str | os.PathLike | None = None, *, data: bytes | None = None) -> list[Visit]:
    """The EHR visit list: a UTF-8 CSV with columns ``mrn`` and ``date`` (others are ignored).

    Parameters
    ----------
    path : path, optional
        The file; or give its bytes as ``data`` (an upload).

    Raises
    ------
    InputError
        Naming the file, line and column of the first bad row (``visits line 3:
        date``), or a missing column; nothing is read then.
    """
    try:
        raw = data if data is not None else Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("visits", f"{path}: no such file") from None
    except OSError as err:
        raise InputError("visits", f"cannot read the file: {err.strerror or type(err).__name__}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("visits", "not UTF-8 text; allowed: a UTF-8 CSV with columns mrn,date") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in VISIT_COLUMNS if c not in header]
    if missing:
        raise InputError("visits", f"column {missing[0]} missing; allowed: a CSV with columns mrn,date")
    reader.fieldnames = header
    visits: list[Visit] = []
    try:
        for line, row in enumerate(reader, start=2):
            try:
                mrn = validate_mrn((row.get("mrn") or "").strip(), "mrn")
                on = parse_date("date", (row.get("date") or "").strip(), date.today())  # a visit has happened
            except InputError as err:
                raise InputError(f"visits line {line}: {err.field}", err.message) from None
            visits.append(Visit(mrn, on))
    except csv.Error as err:
        raise InputError("visits", f"cannot read the CSV: {err}") from None
    return visits


def _min_birth_date(on: date) -> date:
    """The latest birth date of someone aged :data:`MIN_AGE` or more on ``on``."""
    try:
        return on.replace(year=on.year - MIN_AGE)
    except ValueError:  # 29 February, in a year that has none
        return date(on.year - MIN_AGE, 2, 28)


def falls_screening(
    db: Database,
    *,
    period_from: date | str,
    period_to: date | str,
    visits: Sequence[Visit] = (),
    clinic: str | None = None,
    measure: str = "cms139",
    actor: str,
) -> QualityReport:
    """CMS139 falls screening and the MIPS #155 plan of care over a period.

    Parameters
    ----------
    db : Database
    period_from, period_to : date or str
        The reporting period, inclusive (:func:`validate_period`).
    visits : sequence of Visit
        The EHR's visit list (:func:`read_visits`); visits outside the
        period are ignored, MRNs outside the scope are listed in
        ``unknown_visit_mrns`` and not counted.
    clinic : str, optional
        The caller's clinic scope (:func:`records.patients.clinic_scope`);
        None: every patient.
    measure : str
        ``cms139``.
    actor : str
        Username; a ``quality.report`` audit row (counts only) is written.

    Returns
    -------
    QualityReport
    """
    actor = validate_actor(actor)
    measure = validate_measure(measure)
    start, end = validate_period(period_from, period_to)
    clinic = validate_clinic(clinic)
    oldest_allowed = _min_birth_date(start)
    patients_q = sa.select(Patient.id, Patient.mrn, Patient.given_name, Patient.family_name, Patient.birth_date)
    assessed_q = (
        _current_final_query()
        .with_only_columns(AssessmentRow.id, AssessmentRow.patient_id, AssessmentRow.assessed_on,
                           AssessmentRow.stop_reason, AssessmentRow.risk_category, AssessmentRow.lineage_id)
        .join(Patient, Patient.id == AssessmentRow.patient_id)
        .where(AssessmentRow.assessed_on >= start, AssessmentRow.assessed_on <= end)
        .order_by(AssessmentRow.assessed_on, AssessmentRow.lineage_id)
    )
    if clinic is not None:
        patients_q = patients_q.where(Patient.clinic == clinic)
        assessed_q = assessed_q.where(Patient.clinic == clinic)
    with db.session(actor, read_only=True) as session:
        in_scope = {r.mrn: r for r in session.execute(patients_q)}
        assessed = session.execute(assessed_q).all()
        eligible = {r.id: r for r in in_scope.values() if r.birth_date <= oldest_allowed}
        last_visit: dict[int, date] = {}
        screened: dict[int, Any] = {}  # patient id -> latest completed assessment in the period
        for a in assessed:
            last_visit[a.patient_id] = max(last_visit.get(a.patient_id, a.assessed_on), a.assessed_on)
            if a.stop_reason is None:
                screened[a.patient_id] = a  # ordered by date: the latest wins
        unknown = sorted({v.mrn for v in visits if v.mrn not in in_scope})
        for v in visits:
            row = in_scope.get(v.mrn)
            if row is not None and start <= v.on <= end:
                last_visit[row.id] = max(last_visit.get(row.id, v.on), v.on)
        denominator = [pid for pid in eligible if pid in last_visit]
        numerator = [pid for pid in denominator if pid in screened]
        not_screened = sorted(
            (Unscreened(eligible[pid].mrn, f"{eligible[pid].family_name}, {eligible[pid].given_name}",
                        eligible[pid].birth_date, age_on(eligible[pid].birth_date, start), last_visit[pid])
             for pid in denominator if pid not in screened),
            key=lambda u: (u.name.casefold(), u.mrn),
        )
        risky = {pid: screened[pid].id for pid in numerator if at_risk(screened[pid].risk_category)}
        printed = _printed(session, risky.values())
        plan_missing = sorted(eligible[pid].mrn for pid, aid in risky.items() if aid not in printed)
        report = QualityReport(
            measure=measure, period_from=start, period_to=end, clinic=clinic,
            denominator=len(denominator), numerator=len(numerator), not_screened=tuple(not_screened),
            plan_denominator=len(risky), plan_numerator=len(risky) - len(plan_missing),
            plan_missing=tuple(plan_missing), unknown_visit_mrns=tuple(unknown),
        )
        write_audit(session, actor, "quality.report", "patient", None, {
            "measure": measure, "from": start.isoformat(), "to": end.isoformat(), "clinic": clinic is not None,
            "denominator": report.denominator, "numerator": report.numerator, "visits": len(visits),
        })
    return report


def _printed(session, assessment_ids: Iterable[int]) -> set[int]:
    """The assessments among these whose report (with the program) was printed (audit ``report.print``)."""
    wanted = {str(i) for i in assessment_ids}
    if not wanted:
        return set()
    rows = session.scalars(
        sa.select(AuditRow.entity_id).where(
            AuditRow.action == "report.print", AuditRow.entity == "assessment", AuditRow.entity_id.in_(wanted))
    )
    return {int(r) for r in rows}
