"""Stored model versions: exactly one active, old versions kept."""

from __future__ import annotations

import hashlib

import pytest

from records import services as svc


def _save(db, version, artifact):
    return svc.save_model_version(
        db, version=version, kind="evidence", artifact=artifact, card=f"# Model {version}",
        metrics={"auc": 0.7, "brier": 0.15, "n": 483}, actor="alice",
    )


def _active(db) -> list[str]:
    return [m.version for m in svc.list_model_versions(db) if m.active]


def test_save_two_and_switch_the_active_one(db):
    first, second = _save(db, "2025.1", b"\x00first-model"), _save(db, "2025.2", b"\x00second")
    assert not first.active and not second.active and first.artifact is None
    assert svc.active_model_version(db) is None

    svc.activate_model_version(db, "2025.1", actor="alice")
    assert _active(db) == ["2025.1"]
    active = svc.active_model_version(db)
    assert (active.version, active.artifact) == ("2025.1", b"\x00first-model")
    assert active.activated_at is not None

    svc.activate_model_version(db, "2025.2", actor="bob")
    assert _active(db) == ["2025.2"]
    assert svc.active_model_version(db).artifact == b"\x00second"

    svc.activate_model_version(db, "2025.2")  # activating the active one again changes nothing
    assert _active(db) == ["2025.2"]
    stored = svc.list_model_versions(db)
    assert [m.version for m in stored] == ["2025.1", "2025.2"]  # old versions stay
    assert stored[0].metrics == {"auc": 0.7, "brier": 0.15, "n": 483}
    assert stored[0].artifact_sha256 == hashlib.sha256(b"\x00first-model").hexdigest()
    assert stored[0].artifact_size == len(b"\x00first-model")
    assert svc.get_model_version(db, "2025.1").artifact == b"\x00first-model"
    assert [(r.actor, r.action) for r in reversed(svc.list_audit(db, entity="model_version"))] == [
        ("alice", "model.save"), ("alice", "model.save"), ("alice", "model.activate"),
        ("bob", "model.activate"), ("system", "model.activate"),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"version": "has space"}, "version"), ({"kind": ""}, "kind"), ({"artifact": b""}, "artifact"),
     ({"artifact": "text"}, "artifact"), ({"card": " "}, "card"), ({"metrics": {"x": float("nan")}}, "metrics")],
)
def test_bad_model_versions_are_rejected(db, changes, field):
    from assessment import InputError

    raw = {"version": "v1", "kind": "local", "artifact": b"x", "card": "card", "metrics": {}, **changes}
    with pytest.raises(InputError) as info:
        svc.save_model_version(db, **raw)
    assert info.value.field == field
    assert svc.list_model_versions(db) == []
