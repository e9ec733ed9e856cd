"""The database schema: SQLAlchemy 2 declarative models.

Portable across SQLite and PostgreSQL: only generic types (``JSON``,
``Date``, ``DateTime(timezone=True)``, ``LargeBinary``, ``Float``) and
constraints named through :data:`NAMING_CONVENTION`, so Alembic can alter
them later on either backend.

Only :mod:`records` sees these classes; services hand callers frozen views
(:mod:`records.views`), never ORM objects.

A final assessment is never edited in place. An amendment is a new row of
the same lineage (``version + 1``, ``supersedes_id`` = the old row's id);
the current version of a lineage is the row nobody supersedes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Constraint and index names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Assessment states. A draft collects trials; a final row is never changed.
DRAFT = "draft"
FINAL = "final"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: sa.DateTime(timezone=True),
        dict[str, Any]: sa.JSON,
        bytes: sa.LargeBinary,
    }


class Clinician(Base):
    __tablename__ = "clinicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]
    # Sign-in (migration 0002; see records.accounts). A clinician added before
    # accounts existed has no password hash and cannot sign in until one is set.
    #: argon2id hash (PHC string); never the password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    #: Failed sign-ins since the last success or lock.
    failed_attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0", default=0)
    locked_until: Mapped[datetime | None]
    #: Set when an admin disables the account; the row (and its history) stays.
    disabled_at: Mapped[datetime | None]
    clinic: Mapped[str | None] = mapped_column(sa.String(200))
    #: Raised to end every open session of the user (migration 0008).
    session_generation: Mapped[int] = mapped_column(sa.Integer, server_default="0", default=0)


class SignInThrottle(Base):
    """Failed sign-ins per username and source (migration 0008; see records.accounts)."""

    __tablename__ = "sign_in_throttle"

    #: SHA-256 (hex) of the case-folded username typed; never the text itself.
    username_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The client address the attempts came from.
    source: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, server_default="0", default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(sa.String(64), unique=True)
    given_name: Mapped[str] = mapped_column(sa.String(200))
    family_name: Mapped[str] = mapped_column(sa.String(200))
    birth_date: Mapped[date]
    sex: Mapped[str | None] = mapped_column(sa.String(16))
    population: Mapped[str] = mapped_column(sa.String(32))
    #: Case-folded MRN and "given family" name, for case-insensitive search.
    mrn_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    name_key: Mapped[str] = mapped_column(sa.String(401), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: The clinic the patient belongs to (migration 0003); None on a single-clinic install.
    clinic: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    #: Preferred handout language, en / es / zh-Hans (migration 0006); None: not recorded.
    language: Mapped[str | None] = mapped_column(sa.String(16))


class ClinicSettings(Base):
    """The deployment's clinic: printed on the reports (migration 0006). One row, id 1."""

    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(40))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    #: PNG or JPEG bytes (migration 0007), checked by :func:`records.clinic_settings.validate_logo`.
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(sa.String(64))


class AssessmentLineage(Base):
    """One assessment as the clinician knows it; its rows are its versions."""

    __tablename__ = "assessment_lineages"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    created_at: Mapped[datetime]


class AssessmentRow(Base):
    """One version of an assessment (a draft, or a final snapshot)."""

    __tablename__ = "assessments"
    __table_args__ = (
        sa.UniqueConstraint("lineage_id", "version"),
        sa.CheckConstraint("status IN ('draft', 'final')", name="status"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.Index(None, "patient_id", "status"),
        # Latest assessment per patient (summaries, "due"): migration 0003.
        sa.Index(None, "patient_id", "status", "assessed_on", "lineage_id"),
        # Open drafts (every page that offers to resume one): migration 0003.
        sa.Index(None, "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lineage_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_lineages.id"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    #: The row this one amends; unique, so a version is amended at most once.
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assessments.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"))
    status: Mapped[str] = mapped_column(sa.String(16))
    assessed_on: Mapped[date]
    start: Mapped[str] = mapped_column(sa.String(16))
    footwear: Mapped[str | None] = mapped_column(sa.String(16))
    assistive_device: Mapped[str] = mapped_column(sa.String(16))
    practice_walk_done: Mapped[bool] = mapped_column(sa.Boolean)
    stop_reason: Mapped[str | None] = mapped_column(sa.String(32))
    safety_screen: Mapped[dict[str, Any] | None]
    #: Predictors for the fall-risk model: falls in the past year (2 = two or more).
    prior_falls: Mapped[int | None] = mapped_column(sa.SmallInteger)
    walking_aid: Mapped[bool | None] = mapped_column(sa.Boolean)
    #: Snapshot of the patient at the assessment date (set when final).
    age: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sex: Mapped[str | None] = mapped_column(sa.String(16))
    population: Mapped[str] = mapped_column(sa.String(32))
    #: Snapshot of the score (assessment.score) when final.
    mean_seconds: Mapped[float | None] = mapped_column(sa.Float)
    speed_m_per_s: Mapped[float | None] = mapped_column(sa.Float)
    band: Mapped[str | None] = mapped_column(sa.String(32))
    percentile: Mapped[float | None] = mapped_column(sa.Float)
    z: Mapped[float | None] = mapped_column(sa.Float)
    reference_cohort: Mapped[str | None] = mapped_column(sa.String(64))
    previous_seconds: Mapped[float | None] = mapped_column(sa.Float)
    change_seconds: Mapped[float | None] = mapped_column(sa.Float)
    mdc95: Mapped[float | None] = mapped_column(sa.Float)
    change: Mapped[str | None] = mapped_column(sa.String(32))
    score: Mapped[dict[str, Any] | None]
    #: Fall-risk model output when final (all optional).
    probability: Mapped[float | None] = mapped_column(sa.Float)
    probability_low: Mapped[float | None] = mapped_column(sa.Float)
    probability_high: Mapped[float | None] = mapped_column(sa.Float)
    risk_category: Mapped[str | None] = mapped_column(sa.String(32))
    model_version: Mapped[str | None] = mapped_column(sa.String(64))
    #: The safe starting program's reassessment date (assessment.program), set
    #: when final (migration 0003); "due" is ``reassess_on <= today``.
    reassess_on: Mapped[date | None] = mapped_column(index=True)
    #: The safe starting program's tier and the reasons that set it
    #: (assessment.program.decide), stored when final and re-derived when the
    #: patient's population changes (migration 0004). Never less restrictive
    #: than the rule applied to the stored facts.
    program_tier: Mapped[str | None] = mapped_column(sa.String(16))
    program_reasons: Mapped[list[str] | None] = mapped_column(sa.JSON)
    amendment_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    finalized_at: Mapped[datetime | None]

    patient: Mapped[Patient] = relationship(lazy="joined", innerjoin=True)
    trials: Mapped[list[TrialRow]] = relationship(
        order_by="TrialRow.number", lazy="selectin", cascade="all, delete-orphan"
    )
    steadi: Mapped[SteadiRow | None] = relationship(lazy="selectin", cascade="all, delete-orphan")


class TrialRow(Base):
    """One timed walk, saved the moment it is recorded."""

    __tablename__ = "trials"
    __table_args__ = (
        sa.UniqueConstraint("assessment_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id"))
    number: Mapped[int] = mapped_column(sa.Integer)
    seconds: Mapped[float] = mapped_column(sa.Float)
    timing_source: Mapped[str] = mapped_column(sa.String(16))
    start: Mapped[str] = mapped_column(sa.String(16))
    valid: Mapped[bool] = mapped_column(sa.Boolean)
    invalid_reason: Mapped[str | None] = mapped_column(sa.Text)
    loss_of_balance: Mapped[bool] = mapped_column(sa.Boolean)
    hands_on_assistance: Mapped[bool] = mapped_column(sa.Boolean)
    steps: Mapped[int | None] = mapped_column(sa.Integer)
    recorded_at: Mapped[datetime]
    #: Camera timing beside the stopwatch (records/camera.py): the camera's time, or the
    #: code of why it could not time the walk; the stopwatch time when the camera time is scored.
    camera_seconds: Mapped[float | None] = mapped_column(sa.Float)
    camera_note: Mapped[str | None] = mapped_column(sa.String(32))
    stopwatch_seconds: Mapped[float | None] = mapped_column(sa.Float)


class SteadiRow(Base):
    """The STEADI answers of one assessment version."""

    __tablename__ = "steadi_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id"), unique=True)
    #: item key -> yes/no, when the whole Stay Independent brochure was answered.
    stay_independent: Mapped[dict[str, Any] | None]
    stay_independent_score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    tug_seconds: Mapped[float | None] = mapped_column(sa.Float)
    chair_stand_count: Mapped[int | None] = mapped_column(sa.SmallInteger)
    tandem_seconds: Mapped[float | None] = mapped_column(sa.Float)
    recorded_at: Mapped[datetime]


class FallEvent(Base):
    """A fall reported at follow-up."""

    __tablename__ = "fall_events"
    __table_args__ = (sa.Index(None, "patient_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"))
    occurred_on: Mapped[date]
    injury: Mapped[bool] = mapped_column(sa.Boolean)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    reported_by: Mapped[str] = mapped_column(sa.String(64))
    reported_at: Mapped[datetime]


class AuditRow(Base):
    """Who did what to which record, when. ``detail`` never holds patient names."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index(None, "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any] | None]


class ModelVersion(Base):
    """A fitted fall-risk model (skops bytes) with its card and metrics."""

    __tablename__ = "model_versions"
    __table_args__ = (
        # At most one active version, enforced by the database too.
        sa.Index(
            "uq_model_versions_one_active",
            "active",
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    artifact: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    artifact_sha256: Mapped[str] = mapped_column(sa.String(64))
    artifact_size: Mapped[int] = mapped_column(sa.Integer)
    card: Mapped[str] = mapped_column(sa.Text)
    metrics: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(sa.Boolean)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]


#: Every table, in an order safe for inserts (parents first).
TABLES = tuple(Base.metadata.sorted_tables)
