"""Plain, frozen views of stored records: what the services hand out.

Callers never hold an ORM object or a session; these views are built inside
the transaction and stay valid after it ends. Timestamps are UTC-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .schema import AssessmentRow, AuditRow, Clinician, FallEvent, ModelVersion, Patient, SteadiRow, TrialRow


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (SQLite returns naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years on the date ``on``."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class ClinicianView:
    id: int
    username: str
    display_name: str
    role: str
    created_at: datetime
    #: The clinician's clinic (None: sees every patient, single-clinic install).
    clinic: str | None = None

    @classmethod
    def of(cls, row: Clinician) -> ClinicianView:
        return cls(row.id, row.username, row.display_name, row.role, utc(row.created_at), row.clinic)


@dataclass(frozen=True)
class PatientView:
    id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str | None
    population: str
    created_at: datetime
    updated_at: datetime
    #: The patient's clinic, or None (single-clinic install).
    clinic: str | None = None
    #: Preferred handout language (en, es, zh-Hans), or None when not recorded.
    language: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age(self, on: date | None = None) -> int:
        """Age in whole years on ``on`` (default: today)."""
        return age_on(self.birth_date, on or date.today())

    @classmethod
    def of(cls, row: Patient) -> PatientView:
        return cls(
            row.id, row.mrn, row.given_name, row.family_name, row.birth_date, row.sex,
            row.population, utc(row.created_at), utc(row.updated_at), row.clinic, row.language,
        )


@dataclass(frozen=True)
class TrialView:
    id: int
    assessment_id: int
    number: int
    seconds: float
    timing_source: str
    start: str
    valid: bool
    invalid_reason: str | None
    loss_of_balance: bool
    hands_on_assistance: bool
    steps: int | None
    recorded_at: datetime
    camera_seconds: float | None = None
    camera_note: str | None = None
    stopwatch_seconds: float | None = None

    def as_raw(self) -> dict[str, Any]:
        """The trial as gatekeeper input (``assessment.gatekeeper.validate_trial``)."""
        return {
            "seconds": self.seconds,
            "timing_source": self.timing_source,
            "start": self.start,
            "valid": self.valid,
            "invalid_reason": self.invalid_reason,
            "loss_of_balance": self.loss_of_balance,
            "hands_on_assistance": self.hands_on_assistance,
            "steps": self.steps,
        }

    @classmethod
    def of(cls, row: TrialRow) -> TrialView:
        return cls(
            row.id, row.assessment_id, row.number, row.seconds, row.timing_source, row.start,
            row.valid, row.invalid_reason, row.loss_of_balance, row.hands_on_assistance,
            row.steps, utc(row.recorded_at), row.camera_seconds, row.camera_note, row.stopwatch_seconds,
        )


def steadi_raw(row: SteadiRow | None) -> dict[str, Any] | None:
    """Stored STEADI answers as gatekeeper input, without the items not recorded."""
    if row is None:
        return None
    values = {
        "stay_independent": dict(row.stay_independent) if row.stay_independent is not None else None,
        "stay_independent_score": row.stay_independent_score,
        "tug_seconds": row.tug_seconds,
        "chair_stand_count": row.chair_stand_count,
        "tandem_seconds": row.tandem_seconds,
    }
    return {k: v for k, v in values.items() if v is not None} or None


@dataclass(frozen=True)
class AssessmentView:
    """One version of an assessment, with its trials, STEADI answers and score."""

    id: int
    lineage_id: int
    version: int
    supersedes_id: int | None
    #: True when a newer version of this assessment exists.
    superseded: bool
    status: str
    mrn: str
    patient_id: int
    assessed_on: date
    start: str
    footwear: str | None
    assistive_device: str
    practice_walk_done: bool
    stop_reason: str | None
    safety_screen: dict[str, Any] | None
    prior_falls: int | None
    walking_aid: bool | None
    age: int | None
    sex: str | None
    population: str
    mean_seconds: float | None
    speed_m_per_s: float | None
    band: str | None
    percentile: float | None
    z: float | None
    reference_cohort: str | None
    previous_seconds: float | None
    change_seconds: float | None
    mdc95: float | None
    change: str | None
    score: dict[str, Any] | None
    probability: float | None
    probability_low: float | None
    probability_high: float | None
    risk_category: str | None
    model_version: str | None
    amendment_reason: str | None
    created_by: str
    created_at: datetime
    finalized_at: datetime | None
    trials: tuple[TrialView, ...] = field(default=())
    steadi: dict[str, Any] | None = None
    #: The starting program's reassessment date, stored when final.
    reassess_on: date | None = None
    #: The starting program's tier and the reasons that set it, stored when final.
    program_tier: str | None = None
    program_reasons: tuple[str, ...] = ()

    @property
    def amended(self) -> bool:
        """True for a version that amends an earlier one."""
        return self.version > 1

    @property
    def is_final(self) -> bool:
        return self.status == "final"

    @classmethod
    def of(cls, row: AssessmentRow, *, superseded: bool) -> AssessmentView:
        return cls(
            id=row.id,
            lineage_id=row.lineage_id,
            version=row.version,
            supersedes_id=row.supersedes_id,
            superseded=superseded,
            status=row.status,
            mrn=row.patient.mrn,
            patient_id=row.patient_id,
            assessed_on=row.assessed_on,
            start=row.start,
            footwear=row.footwear,
            assistive_device=row.assistive_device,
            practice_walk_done=row.practice_walk_done,
            stop_reason=row.stop_reason,
            safety_screen=dict(row.safety_screen) if row.safety_screen is not None else None,
            prior_falls=row.prior_falls,
            walking_aid=row.walking_aid,
            age=row.age,
            sex=row.sex,
            population=row.population,
            mean_seconds=row.mean_seconds,
            speed_m_per_s=row.speed_m_per_s,
            band=row.band,
            percentile=row.percentile,
            z=row.z,
            reference_cohort=row.reference_cohort,
            previous_seconds=row.previous_seconds,
            change_seconds=row.change_seconds,
            mdc95=row.mdc95,
            change=row.change,
            score=dict(row.score) if row.score is not None else None,
            probability=row.probability,
            probability_low=row.probability_low,
            probability_high=row.probability_high,
            risk_category=row.risk_category,
            model_version=row.model_version,
            amendment_reason=row.amendment_reason,
            created_by=row.created_by,
            created_at=utc(row.created_at),
            finalized_at=utc(row.finalized_at),
            trials=tuple(TrialView.of(t) for t in row.trials),
            steadi=steadi_raw(row.steadi),
            reassess_on=row.reassess_on,
            program_tier=row.program_tier,
            program_reasons=tuple(row.program_reasons or ()),
        )


@dataclass(frozen=True)
class PatientSummary:
    """A patient's latest current final assessment, in brief (Patients and Clinic pages).

    Every field but ``mrn`` is None for a patient never assessed.
    """

    mrn: str
    assessment_id: int | None
    last_assessed_on: date | None
    last_mean_seconds: float | None
    band: str | None
    risk_category: str | None
    #: The starting program's reassessment date (None: never assessed, or not known).
    reassess_on: date | None

    @property
    def assessed(self) -> bool:
        """True when the patient has a final assessment."""
        return self.assessment_id is not None

    def is_due(self, on: date | None = None) -> bool:
        """Due for (re)assessment on ``on`` (default today).

        A patient never assessed is due; so is one whose stored
        reassessment date is unknown (an old row the program could not
        date), to err on the side of seeing the patient.
        """
        return self.reassess_on is None or self.reassess_on <= (on or date.today())


@dataclass(frozen=True)
class DueReport:
    """Who is due for (re)assessment on a day, with the clinic's risk mix.

    ``patients`` holds at most the requested number, most overdue first
    (patients never assessed before everyone else); ``due_total`` counts them
    all.
    """

    on: date
    total_patients: int
    due_total: int
    never_assessed: int
    #: (risk category, band) of each patient's latest assessment → patients;
    #: (None, None) counts the patients never assessed (or assessed without a band).
    risk_mix: dict[tuple[str | None, str | None], int]
    patients: tuple[tuple[PatientView, PatientSummary], ...]


@dataclass(frozen=True)
class FallView:
    id: int
    mrn: str
    occurred_on: date
    injury: bool
    notes: str | None
    reported_by: str
    reported_at: datetime

    @classmethod
    def of(cls, row: FallEvent, mrn: str) -> FallView:
        return cls(row.id, mrn, row.occurred_on, row.injury, row.notes, row.reported_by, utc(row.reported_at))


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, Any] | None

    @classmethod
    def of(cls, row: AuditRow) -> AuditView:
        detail = dict(row.detail) if row.detail is not None else None
        return cls(row.id, utc(row.at), row.actor, row.action, row.entity, row.entity_id, detail)


@dataclass(frozen=True)
class ModelVersionView:
    """A stored model version; ``artifact`` holds the skops bytes only when asked for."""

    id: int
    version: str
    kind: str
    card: str
    metrics: dict[str, Any]
    active: bool
    artifact_sha256: str
    artifact_size: int
    created_by: str
    created_at: datetime
    activated_at: datetime | None
    artifact: bytes | None = None

    @classmethod
    def of(cls, row: ModelVersion, *, with_artifact: bool = False) -> ModelVersionView:
        return cls(
            row.id, row.version, row.kind, row.card, dict(row.metrics), row.active,
            row.artifact_sha256, row.artifact_size, row.created_by, utc(row.created_at),
            utc(row.activated_at), bytes(row.artifact) if with_artifact else None,
        )
