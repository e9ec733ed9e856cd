"""The safe starting program's tier and reasons: ``assessments.program_tier``, ``program_reasons``.

The program decision (:func:`assessment.program.decide`) now weighs every
signal stored with an assessment (band and faller cut-offs, model category,
falls, walking aid, device used on the test, screen, walks, STEADI, the
patient's population). Its tier and the reasons that set it are stored when
an assessment becomes final, and re-derived when the patient's population
changes, so what a patient was given can be read back and checked.

Existing final rows are backfilled with the decision on their stored facts
and their reassessment date recomputed; a row whose facts the decision
refuses is stored as ``supervised`` with that said in its reasons (the safer
side). The backfill is a read of each final row with its trials, one
UPDATE per row in batches.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows updated per statement during the backfill.
BATCH = 2000

#: Reason stored when a row's facts cannot be decided (never left unset).
UNDECIDED = ("The stored facts could not be checked by the program rule: supervised until reassessed "
             "[clinical-evidence.md §6, who should not start alone]")


def upgrade() -> None:
    op.add_column('assessments', sa.Column('program_tier', sa.String(length=16), nullable=True))
    op.add_column('assessments', sa.Column('program_reasons', sa.JSON(), nullable=True))
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_column('assessments', 'program_reasons')
    op.drop_column('assessments', 'program_tier')


def _backfill(connection) -> None:
    from assessment.errors import InputError
    from assessment.program import program_for

    meta = sa.MetaData()
    assessments = sa.Table('assessments', meta, autoload_with=connection)
    patients = sa.Table('patients', meta, autoload_with=connection)
    trials = sa.Table('trials', meta, autoload_with=connection)
    flags = {
        r.assessment_id: (bool(r.lob), bool(r.hands))
        for r in connection.execute(
            sa.select(
                trials.c.assessment_id,
                sa.func.max(sa.case((trials.c.loss_of_balance, 1), else_=0)).label('lob'),
                sa.func.max(sa.case((trials.c.hands_on_assistance, 1), else_=0)).label('hands'),
            ).group_by(trials.c.assessment_id)
        )
    }
    query = (
        sa.select(assessments, patients.c.population.label('patient_population'))
        .select_from(assessments.join(patients, patients.c.id == assessments.c.patient_id))
        .where(assessments.c.status == 'final')
    )
    update = (
        sa.update(assessments)
        .where(assessments.c.id == sa.bindparam('row_id'))
        .values(program_tier=sa.bindparam('tier'), program_reasons=sa.bindparam('reasons'),
                reassess_on=sa.bindparam('due'))
    )
    updates: list[dict] = []
    for row in connection.execute(query).mappings():
        lob, hands = flags.get(row['id'], (False, False))
        record = SimpleNamespace(**dict(row), trials=[SimpleNamespace(loss_of_balance=lob, hands_on_assistance=hands)])
        record.program_tier = None
        try:
            program = program_for(record, patient_population=row['patient_population'])
            tier, reasons, due = program.tier, list(program.reasons), program.reassess_on
        except (InputError, KeyError, TypeError, ValueError):
            tier, reasons, due = 'supervised', [UNDECIDED], row['reassess_on']
        updates.append({'row_id': row['id'], 'tier': tier, 'reasons': reasons, 'due': due})
        if len(updates) >= BATCH:
            connection.execute(update, updates)
            updates = []
    if updates:
        connection.execute(update, updates)
