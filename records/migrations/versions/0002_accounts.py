"""Accounts: sign-in columns on clinicians (password hash, lockout, disabling, clinic).

Existing clinicians keep their rows; their ``password_hash`` is NULL until an
administrator sets a password (``records.accounts.set_password``).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clinicians') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('clinic', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clinicians') as batch:
        batch.drop_column('clinic')
        batch.drop_column('disabled_at')
        batch.drop_column('locked_until')
        batch.drop_column('failed_attempts')
        batch.drop_column('password_hash')
