"""Rebuild the shipped default artifact and its card: ``python -m models.build``."""

from __future__ import annotations

from pathlib import Path

from .card import CARD_PATH, write_card
from .persist import default_artifact_path, save
from .train import DEFAULT_SEED, train_evidence_model


def build_default(seed: int = DEFAULT_SEED) -> Path:
    """Train the evidence model with ``seed``, save it in the package and write ``models/card.md``."""
    model = train_evidence_model(seed)
    path = save(model, default_artifact_path())
    write_card(model, CARD_PATH)
    return path


if __name__ == "__main__":
    print(build_default())
