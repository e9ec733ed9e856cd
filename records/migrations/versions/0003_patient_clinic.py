"""Clinic scoping and reassessment dates: ``patients.clinic``, ``assessments.reassess_on``.

- ``patients.clinic`` (nullable, indexed): a clinician with a clinic sees its
  patients (issue 6); NULL on a single-clinic install.
- ``assessments.reassess_on`` (nullable, indexed): the safe starting
  program's reassessment date, stored when an assessment becomes final so
  "who is due" is a query, not a program built per patient.
- an index on ``assessments (patient_id, status, assessed_on, lineage_id)``
  for each patient's latest assessment, and one on ``(status, id)`` for the
  open drafts (a full scan of every assessment before).

Existing final rows are backfilled with the date
:func:`assessment.program.build_program` gives for their stored inputs (the
same inputs as ``reports.inputs.program_for``). The mapping is written out
here rather than imported from ``records`` so this revision keeps working
when the services change; a row the program rejects stays NULL (and is
treated as due).

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows updated per statement during the backfill.
BATCH = 5000


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN / CREATE INDEX on every backend: no table is
    # recreated, so rows that other tables reference stay where they are.
    op.add_column('patients', sa.Column('clinic', sa.String(length=200), nullable=True))
    op.create_index('ix_patients_clinic', 'patients', ['clinic'], unique=False)
    op.add_column('assessments', sa.Column('reassess_on', sa.Date(), nullable=True))
    op.create_index('ix_assessments_reassess_on', 'assessments', ['reassess_on'], unique=False)
    op.create_index(
        'ix_assessments_patient_id_status_assessed_on_lineage_id', 'assessments',
        ['patient_id', 'status', 'assessed_on', 'lineage_id'], unique=False,
    )
    op.create_index('ix_assessments_status_id', 'assessments', ['status', 'id'], unique=False)
    _backfill_reassess_on(op.get_bind())


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite 3.35+, PostgreSQL) after dropping the
    # column's indexes; batch mode would recreate ``assessments``, which
    # trials reference, and fail with foreign keys on.
    op.drop_index('ix_assessments_status_id', table_name='assessments')
    op.drop_index('ix_assessments_patient_id_status_assessed_on_lineage_id', table_name='assessments')
    op.drop_index('ix_assessments_reassess_on', table_name='assessments')
    op.drop_column('assessments', 'reassess_on')
    op.drop_index('ix_patients_clinic', table_name='patients')
    op.drop_column('patients', 'clinic')


def _backfill_reassess_on(connection) -> None:
    """Store each final row's program reassessment date (weeks memoised per set of inputs)."""
    from assessment.errors import InputError
    from assessment.program import build_program

    meta = sa.MetaData()
    assessments = sa.Table('assessments', meta, autoload_with=connection)
    trials = sa.Table('trials', meta, autoload_with=connection)
    flags = (
        sa.select(
            trials.c.assessment_id,
            sa.func.max(sa.case((trials.c.loss_of_balance, 1), else_=0)).label('lob'),
            sa.func.max(sa.case((trials.c.hands_on_assistance, 1), else_=0)).label('hands'),
        )
        .group_by(trials.c.assessment_id)
        .subquery()
    )
    query = (
        sa.select(
            assessments.c.id, assessments.c.risk_category, assessments.c.score, assessments.c.population,
            assessments.c.safety_screen, assessments.c.stop_reason, assessments.c.assessed_on,
            flags.c.lob, flags.c.hands,
        )
        .select_from(assessments.outerjoin(flags, flags.c.assessment_id == assessments.c.id))
        .where(assessments.c.status == 'final', assessments.c.reassess_on.is_(None))
    )
    anchor = date(2000, 1, 3)
    weeks: dict[tuple, object] = {}
    updates: list[dict] = []
    update = (
        sa.update(assessments)
        .where(assessments.c.id == sa.bindparam('row_id'))
        .values(reassess_on=sa.bindparam('due'))
    )
    for row in connection.execute(query).all():
        score = row.score or {}
        screen = row.safety_screen
        args = dict(
            risk_category=row.risk_category, band=score.get('band'), population=row.population,
            safety_screen=dict(screen) if screen is not None else None, stop_reason=row.stop_reason,
            valid_trials=int(score.get('valid_trials') or 0), loss_of_balance=bool(row.lob),
            hands_on_assistance=bool(row.hands),
        )
        key = tuple(sorted((k, v if not isinstance(v, dict) else tuple(sorted(v.items()))) for k, v in args.items()))
        if key not in weeks:
            try:
                weeks[key] = build_program(**args, assessed_on=anchor).reassess_on - anchor
            except InputError:
                weeks[key] = None
        if weeks[key] is None:
            continue
        updates.append({'row_id': row.id, 'due': row.assessed_on + weeks[key]})
        if len(updates) >= BATCH:
            connection.execute(update, updates)
            updates = []
    if updates:
        connection.execute(update, updates)
