"""Sign-in throttling per username and source; a per-user session generation.

- ``sign_in_throttle``: failed sign-ins per (username key, source). The key
  is a SHA-256 of the case-folded name typed, so a password typed into the
  username box is never stored in clear; the source is the client address.
  A lock therefore holds one source, not the account everywhere (issue 14).
- ``clinicians.session_generation``: raised on sign-out-everywhere and on
  disabling; every open page compares it with the one it signed in with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("username_key", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("clinicians") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("clinicians") as batch:
        batch.drop_column("session_generation")
    op.drop_table("sign_in_throttle")
