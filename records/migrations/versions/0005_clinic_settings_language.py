"""The patient's preferred handout language and the deployment's clinic settings.

- ``patients.language`` (nullable): en, es or zh-Hans; NULL = not recorded
  (the handout is then printed in English unless ``report --language`` says
  otherwise).
- ``clinic_settings``: one row (id 1) with the clinic's name, phone,
  optional address and logo path, printed on both reports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD/DROP COLUMN (as 0003): batch mode would recreate ``patients``,
    # which assessments reference, and fail with foreign keys on.
    op.add_column("patients", sa.Column("language", sa.String(16), nullable=True))
    op.create_table(
        "clinic_settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("logo_path", sa.String(1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clinic_settings")
    op.drop_column("patients", "language")
