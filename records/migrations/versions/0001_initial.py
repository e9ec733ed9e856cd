"""Initial schema: clinicians, patients, assessments (versioned), trials,
STEADI answers, fall events, audit log and model versions.

Revision ID: 0001
Revises:
Create Date: 2025-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index(op.f('ix_audit_log_entity_entity_id'), 'audit_log', ['entity', 'entity_id'], unique=False)

    op.create_table('clinicians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinicians')),
    sa.UniqueConstraint('username', name=op.f('uq_clinicians_username'))
    )
    op.create_table('model_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('artifact', sa.LargeBinary(), nullable=False),
    sa.Column('artifact_sha256', sa.String(length=64), nullable=False),
    sa.Column('artifact_size', sa.Integer(), nullable=False),
    sa.Column('card', sa.Text(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_model_versions_version'))
    )
    op.create_index('uq_model_versions_one_active', 'model_versions', ['active'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mrn', sa.String(length=64), nullable=False),
    sa.Column('given_name', sa.String(length=200), nullable=False),
    sa.Column('family_name', sa.String(length=200), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=16), nullable=True),
    sa.Column('population', sa.String(length=32), nullable=False),
    sa.Column('mrn_key', sa.String(length=64), nullable=False),
    sa.Column('name_key', sa.String(length=401), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patients_mrn'))
    )
    op.create_index(op.f('ix_patients_mrn_key'), 'patients', ['mrn_key'], unique=False)
    op.create_index(op.f('ix_patients_name_key'), 'patients', ['name_key'], unique=False)

    op.create_table('assessment_lineages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_assessment_lineages_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_lineages'))
    )
    op.create_index(op.f('ix_assessment_lineages_patient_id'), 'assessment_lineages', ['patient_id'], unique=False)

    op.create_table('fall_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('injury', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_fall_events_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fall_events'))
    )
    op.create_index(op.f('ix_fall_events_patient_id_occurred_on'), 'fall_events', ['patient_id', 'occurred_on'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lineage_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('start', sa.String(length=16), nullable=False),
    sa.Column('footwear', sa.String(length=16), nullable=True),
    sa.Column('assistive_device', sa.String(length=16), nullable=False),
    sa.Column('practice_walk_done', sa.Boolean(), nullable=False),
    sa.Column('stop_reason', sa.String(length=32), nullable=True),
    sa.Column('safety_screen', sa.JSON(), nullable=True),
    sa.Column('prior_falls', sa.SmallInteger(), nullable=True),
    sa.Column('walking_aid', sa.Boolean(), nullable=True),
    sa.Column('age', sa.SmallInteger(), nullable=True),
    sa.Column('sex', sa.String(length=16), nullable=True),
    sa.Column('population', sa.String(length=32), nullable=False),
    sa.Column('mean_seconds', sa.Float(), nullable=True),
    sa.Column('speed_m_per_s', sa.Float(), nullable=True),
    sa.Column('band', sa.String(length=32), nullable=True),
    sa.Column('percentile', sa.Float(), nullable=True),
    sa.Column('z', sa.Float(), nullable=True),
    sa.Column('reference_cohort', sa.String(length=64), nullable=True),
    sa.Column('previous_seconds', sa.Float(), nullable=True),
    sa.Column('change_seconds', sa.Float(), nullable=True),
    sa.Column('mdc95', sa.Float(), nullable=True),
    sa.Column('change', sa.String(length=32), nullable=True),
    sa.Column('score', sa.JSON(), nullable=True),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('probability_low', sa.Float(), nullable=True),
    sa.Column('probability_high', sa.Float(), nullable=True),
    sa.Column('risk_category', sa.String(length=32), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('amendment_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finalized_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'final')", name=op.f('ck_assessments_status')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_assessments_version_positive')),
    sa.ForeignKeyConstraint(['lineage_id'], ['assessment_lineages.id'], name=op.f('fk_assessments_lineage_id_assessment_lineages')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_assessments_patient_id_patients')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['assessments.id'], name=op.f('fk_assessments_supersedes_id_assessments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('lineage_id', 'version', name=op.f('uq_assessments_lineage_id_version')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_assessments_supersedes_id'))
    )
    op.create_index(op.f('ix_assessments_lineage_id'), 'assessments', ['lineage_id'], unique=False)
    op.create_index(op.f('ix_assessments_patient_id_status'), 'assessments', ['patient_id', 'status'], unique=False)

    op.create_table('steadi_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('stay_independent', sa.JSON(), nullable=True),
    sa.Column('stay_independent_score', sa.SmallInteger(), nullable=True),
    sa.Column('tug_seconds', sa.Float(), nullable=True),
    sa.Column('chair_stand_count', sa.SmallInteger(), nullable=True),
    sa.Column('tandem_seconds', sa.Float(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_steadi_answers_assessment_id_assessments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_steadi_answers')),
    sa.UniqueConstraint('assessment_id', name=op.f('uq_steadi_answers_assessment_id'))
    )
    op.create_table('trials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('timing_source', sa.String(length=16), nullable=False),
    sa.Column('start', sa.String(length=16), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('invalid_reason', sa.Text(), nullable=True),
    sa.Column('loss_of_balance', sa.Boolean(), nullable=False),
    sa.Column('hands_on_assistance', sa.Boolean(), nullable=False),
    sa.Column('steps', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_trials_number_positive')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_trials_assessment_id_assessments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trials')),
    sa.UniqueConstraint('assessment_id', 'number', name=op.f('uq_trials_assessment_id_number'))
    )


def downgrade() -> None:
    op.drop_table('trials')
    op.drop_table('steadi_answers')
    op.drop_index(op.f('ix_assessments_patient_id_status'), table_name='assessments')
    op.drop_index(op.f('ix_assessments_lineage_id'), table_name='assessments')

    op.drop_table('assessments')
    op.drop_index(op.f('ix_fall_events_patient_id_occurred_on'), table_name='fall_events')

    op.drop_table('fall_events')
    op.drop_index(op.f('ix_assessment_lineages_patient_id'), table_name='assessment_lineages')

    op.drop_table('assessment_lineages')
    op.drop_index(op.f('ix_patients_name_key'), table_name='patients')
    op.drop_index(op.f('ix_patients_mrn_key'), table_name='patients')

    op.drop_table('patients')
    op.drop_index('uq_model_versions_one_active', table_name='model_versions')

    op.drop_table('model_versions')
    op.drop_table('clinicians')
    op.drop_index(op.f('ix_audit_log_entity_entity_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')

    op.drop_table('audit_log')
