"""eligibility: results kept with each claim, cross-check flags and keys, the claim's risk level

Revision ID: eligibility_0001
Revises: f7e96b9cf31c
Create Date: 2026-11-29 09:30:00
"""
from alembic import op
import sqlalchemy as sa
import portal.core.db


revision = 'eligibility_0001'
down_revision = 'f7e96b9cf31c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('claim_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('benefit_code', sa.String(length=64), nullable=False),
    sa.Column('judged_on', sa.Date(), nullable=False),
    sa.Column('submitted_result', sa.JSON(), nullable=False),
    sa.Column('submitted_stamp', sa.String(length=64), nullable=False),
    sa.Column('current_result', sa.JSON(), nullable=True),
    sa.Column('current_stamp', sa.String(length=64), nullable=True),
    sa.Column('checked_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_requested_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_requested_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_assessment_claim_id_claim')),
    sa.ForeignKeyConstraint(['review_requested_by_id'], ['account.id'],
                            name=op.f('fk_claim_assessment_review_requested_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_assessment')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_claim_assessment_claim_id'))
    )
    op.create_table('risk_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('raised_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cleared_by_id', sa.Integer(), nullable=True),
    sa.Column('cleared_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_risk_flag_application_id_application')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_risk_flag_claim_id_claim')),
    sa.ForeignKeyConstraint(['cleared_by_id'], ['account.id'], name=op.f('fk_risk_flag_cleared_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_flag')),
    sa.UniqueConstraint('claim_id', 'key', name='uq_risk_flag_claim_key')
    )
    with op.batch_alter_table('risk_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_flag_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_flag_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_flag_status'), ['status'], unique=False)

    op.create_table('claim_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('benefit_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('idnp', sa.String(length=13), nullable=True),
    sa.Column('applicant_idnp', sa.String(length=13), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_claim_key_application_id_application')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_key_claim_id_claim')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_key'))
    )
    with op.batch_alter_table('claim_key', schema=None) as batch_op:
        batch_op.create_index('ix_claim_key_digest', ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_key_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_key_applicant_idnp'), ['applicant_idnp'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_key_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_key_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_claim_risk_level'), ['risk_level'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_risk_level'))
        batch_op.drop_column('risk_level')
    op.drop_table('claim_key')
    op.drop_table('risk_flag')
    op.drop_table('claim_assessment')
