"""Camera timing beside the stopwatch (issue 16).

- ``trials.camera_seconds``: the time the tablet's camera measured for the walk
  (null when the camera was off or could not time it).
- ``trials.camera_note``: why the camera could not time the walk (a message
  code such as ``no-person``; never free text), null otherwise.
- ``trials.stopwatch_seconds``: the stopwatch time of the walk, kept when the
  clinician chose to score the camera time instead (``seconds`` always holds the
  scored time and ``timing_source`` says which one it is).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("camera_seconds", sa.Float, nullable=True))
        batch.add_column(sa.Column("camera_note", sa.String(32), nullable=True))
        batch.add_column(sa.Column("stopwatch_seconds", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("stopwatch_seconds")
        batch.drop_column("camera_note")
        batch.drop_column("camera_seconds")
