"""The clinic's logo is stored in the database, not as a path.

``clinic_settings.logo`` (nullable bytes, PNG or JPEG, checked on the way
in) replaces ``logo_path``: a path on one server means nothing to the other
app processes or to a restored backup, and a logo uploaded from the Admin
page has no path at all. No released version wrote ``logo_path``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # clinic_settings has no foreign keys, so batch mode (a copy of the table on SQLite) is safe.
    with op.batch_alter_table("clinic_settings") as batch:
        batch.add_column(sa.Column("logo", sa.LargeBinary, nullable=True))
        batch.drop_column("logo_path")


def downgrade() -> None:
    with op.batch_alter_table("clinic_settings") as batch:
        batch.add_column(sa.Column("logo_path", sa.String(1000), nullable=True))
        batch.drop_column("logo")
