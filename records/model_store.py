"""Stored fall-risk model versions (skops bytes), exactly one active at a time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import undefer

from assessment.errors import InputError

from .audit import now, write_audit
from .db import Database
from .errors import Conflict, NotFound
from .schema import ModelVersion
from .validation import validate_label
from .views import ModelVersionView


def save_model_version(
    db: Database,
    *,
    version: str,
    kind: str,
    artifact: bytes,
    card: str,
    metrics: Mapping[str, Any],
    actor: str = "system",
) -> ModelVersionView:
    """Store a fitted model; it is inactive until :func:`activate_model_version`.

    Parameters
    ----------
    db : Database
    version : str
        Unique label, 1–64 of letters, digits, ``_ . + -``.
    kind : str
        What was fitted (e.g. ``evidence`` or ``local``), same characters.
    artifact : bytes
        The skops-serialised pipeline.
    card : str
        The model card (Markdown).
    metrics : dict
        JSON-serialisable evaluation metrics.
    actor : str

    Raises
    ------
    Conflict
        When the version exists.
    """
    version = validate_label(version, "version")
    kind = validate_label(kind, "kind")
    if not isinstance(artifact, (bytes, bytearray, memoryview)) or len(artifact) == 0:
        raise InputError("artifact", "allowed: the model's skops bytes (not empty)")
    if not isinstance(card, str) or not card.strip():
        raise InputError("card", "allowed: the model card as non-empty text")
    if not isinstance(metrics, Mapping):
        raise InputError("metrics", "allowed: a mapping of metric name to value")
    try:
        metrics = json.loads(json.dumps(dict(metrics), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InputError("metrics", f"not JSON-serialisable ({exc}); allowed: names to numbers, text, lists") from None
    data = bytes(artifact)
    with db.session() as session:
        if session.scalar(sa.select(ModelVersion.id).where(ModelVersion.version == version)) is not None:
            raise Conflict("version", f"{version} already exists")
        row = ModelVersion(
            version=version,
            kind=kind,
            artifact=data,
            artifact_sha256=hashlib.sha256(data).hexdigest(),
            artifact_size=len(data),
            card=card,
            metrics=metrics,
            active=False,
            created_by=actor,
            created_at=now(),
        )
        session.add(row)
        session.flush()
        write_audit(session, actor, "model.save", "model_version", version, {"kind": kind, "sha256": row.artifact_sha256})
        return ModelVersionView.of(row)


def activate_model_version(db: Database, version: str, *, actor: str = "system") -> None:
    """Make ``version`` the one active model; the others stay stored, inactive.

    Raises
    ------
    NotFound
        When no such version exists.
    """
    version = validate_label(version, "version")
    with db.session() as session:
        row = session.scalar(sa.select(ModelVersion).where(ModelVersion.version == version).with_for_update())
        if row is None:
            raise NotFound("version", f"no model version {version}")
        # Two statements in this order, so the "one active" index never sees two.
        session.execute(
            sa.update(ModelVersion).where(ModelVersion.active.is_(True)).values(active=False),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            sa.update(ModelVersion).where(ModelVersion.id == row.id).values(active=True, activated_at=now()),
            execution_options={"synchronize_session": False},
        )
        write_audit(session, actor, "model.activate", "model_version", version)


def active_model_version(db: Database) -> ModelVersionView | None:
    """The active model version with its artifact bytes, or None."""
    with db.session(read_only=True) as session:
        row = session.scalar(sa.select(ModelVersion).options(undefer(ModelVersion.artifact)).where(ModelVersion.active.is_(True)))
        return ModelVersionView.of(row, with_artifact=True) if row is not None else None


def get_model_version(db: Database, version: str) -> ModelVersionView:
    """One stored version with its artifact bytes (NotFound("version") when missing)."""
    with db.session(read_only=True) as session:
        row = session.scalar(sa.select(ModelVersion).options(undefer(ModelVersion.artifact)).where(ModelVersion.version == version))
        if row is None:
            raise NotFound("version", f"no model version {version}")
        return ModelVersionView.of(row, with_artifact=True)


def list_model_versions(db: Database) -> list[ModelVersionView]:
    """Every stored version, oldest first, without the artifact bytes."""
    with db.session(read_only=True) as session:
        rows = session.scalars(sa.select(ModelVersion).order_by(ModelVersion.created_at, ModelVersion.id)).all()
        return [ModelVersionView.of(r) for r in rows]
