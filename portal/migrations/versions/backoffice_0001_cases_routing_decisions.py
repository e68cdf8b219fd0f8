"""back office: agency cases, transfers, versioned routing rules, decisions and appeals, household case files

Revision ID: backoffice_0001
Revises: f7e96b9cf31c
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa
import portal.core.db


revision = 'backoffice_0001'
down_revision = 'f7e96b9cf31c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_rule_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by_idnp', sa.String(length=13), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule_version')),
    sa.UniqueConstraint('version', name=op.f('uq_routing_rule_version_version'))
    )
    op.create_table('agency_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('excluded_worker_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('paused_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_days', sa.Integer(), nullable=False),
    sa.Column('escalated_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_agency_case_application_id_application')),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['account.id'], name=op.f('fk_agency_case_assigned_to_id_account')),
    sa.ForeignKeyConstraint(['excluded_worker_id'], ['account.id'], name=op.f('fk_agency_case_excluded_worker_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_case')),
    sa.UniqueConstraint('ref', name=op.f('uq_agency_case_ref'))
    )
    with op.batch_alter_table('agency_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_case_agency_code'), ['agency_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_case_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_case_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_case_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_case_status'), ['status'], unique=False)

    op.create_table('case_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('reference_idnp', sa.String(length=13), nullable=False),
    sa.Column('reference_name', sa.String(length=200), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('raion_code', sa.String(length=32), nullable=True),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('risk_level', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_case_file_application_id_application')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['account.id'], name=op.f('fk_case_file_opened_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file')),
    sa.UniqueConstraint('ref', name=op.f('uq_case_file_ref'))
    )
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_file_agency_code'), ['agency_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_reference_idnp'), ['reference_idnp'], unique=False)

    op.create_table('case_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_file_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['account.id'], name=op.f('fk_case_note_author_id_account')),
    sa.ForeignKeyConstraint(['case_file_id'], ['case_file.id'], name=op.f('fk_case_note_case_file_id_case_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note'))
    )
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_note_case_file_id'), ['case_file_id'], unique=False)

    op.create_table('case_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_agency', sa.String(length=32), nullable=False),
    sa.Column('to_agency', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['account.id'], name=op.f('fk_case_transfer_actor_id_account')),
    sa.ForeignKeyConstraint(['case_id'], ['agency_case.id'], name=op.f('fk_case_transfer_case_id_agency_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transfer'))
    )
    with op.batch_alter_table('case_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transfer_case_id'), ['case_id'], unique=False)

    op.create_table('home_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_file_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('next_visit_on', sa.Date(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_file_id'], ['case_file.id'], name=op.f('fk_home_visit_case_file_id_case_file')),
    sa.ForeignKeyConstraint(['visitor_id'], ['account.id'], name=op.f('fk_home_visit_visitor_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visit'))
    )
    with op.batch_alter_table('home_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_visit_case_file_id'), ['case_file_id'], unique=False)

    op.create_table('needs_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_file_id', sa.Integer(), nullable=False),
    sa.Column('areas', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('assessed_by_id', sa.Integer(), nullable=False),
    sa.Column('assessed_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['account.id'], name=op.f('fk_needs_assessment_assessed_by_id_account')),
    sa.ForeignKeyConstraint(['case_file_id'], ['case_file.id'], name=op.f('fk_needs_assessment_case_file_id_case_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_needs_assessment'))
    )
    with op.batch_alter_table('needs_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_needs_assessment_case_file_id'), ['case_file_id'], unique=False)

    op.create_table('plan_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_file_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('responsible_agency', sa.String(length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_file_id'], ['case_file.id'], name=op.f('fk_plan_item_case_file_id_case_file')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_plan_item_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_item'))
    )
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_item_case_file_id'), ['case_file_id'], unique=False)

    op.create_table('referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('case_file_id', sa.Integer(), nullable=False),
    sa.Column('from_agency', sa.String(length=32), nullable=False),
    sa.Column('to_agency', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['account.id'], name=op.f('fk_referral_answered_by_id_account')),
    sa.ForeignKeyConstraint(['case_file_id'], ['case_file.id'], name=op.f('fk_referral_case_file_id_case_file')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_referral_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral')),
    sa.UniqueConstraint('ref', name=op.f('uq_referral_ref'))
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_case_file_id'), ['case_file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_to_agency'), ['to_agency'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('period', sa.String(length=16), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('appeal_until', sa.Date(), nullable=False),
    sa.Column('on_appeal_id', sa.Integer(), nullable=True),
    sa.Column('letter_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('letter_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['agency_case.id'], name=op.f('fk_decision_case_id_agency_case')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_decision_claim_id_claim')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['account.id'], name=op.f('fk_decision_decided_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision')),
    sa.UniqueConstraint('number', name=op.f('uq_decision_number')),
    sa.UniqueConstraint('ref', name=op.f('uq_decision_ref'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_claim_id'), ['claim_id'], unique=False)

    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['agency_case.id'], name=op.f('fk_appeal_case_id_agency_case')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_appeal_claim_id_claim')),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_appeal_decision_id_decision')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['account.id'], name=op.f('fk_appeal_reviewer_id_account')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['account.id'], name=op.f('fk_appeal_submitted_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal')),
    sa.UniqueConstraint('ref', name=op.f('uq_appeal_ref'))
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_decision_id'), ['decision_id'], unique=False)

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_claim_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_claim_case_id_agency_case'), 'agency_case', ['case_id'], ['id'])

    # Version 1 of the routing rules, from config/reference/routing.toml.
    from portal.routing.rules import load_rules, rules_as_data

    version = sa.table('routing_rule_version', sa.column('version', sa.Integer()), sa.column('rules', sa.JSON()),
                       sa.column('reason', sa.Text()), sa.column('created_by_idnp', sa.String()),
                       sa.column('created_at', portal.core.db.UTCDateTime(timezone=True)))
    op.bulk_insert(version, [{"version": 1, "rules": rules_as_data(load_rules()),
                              "reason": "Seeded from config/reference/routing.toml", "created_by_idnp": None,
                              "created_at": dt.datetime.now(dt.timezone.utc)}])


def downgrade() -> None:

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_claim_case_id_agency_case'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_claim_case_id'))
        batch_op.drop_column('case_id')

    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_decision_id'))
        batch_op.drop_index(batch_op.f('ix_appeal_claim_id'))

    op.drop_table('appeal')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_claim_id'))

    op.drop_table('decision')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_to_agency'))
        batch_op.drop_index(batch_op.f('ix_referral_case_file_id'))

    op.drop_table('referral')
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_item_case_file_id'))

    op.drop_table('plan_item')
    with op.batch_alter_table('needs_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_needs_assessment_case_file_id'))

    op.drop_table('needs_assessment')
    with op.batch_alter_table('home_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_visit_case_file_id'))

    op.drop_table('home_visit')
    with op.batch_alter_table('case_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_transfer_case_id'))

    op.drop_table('case_transfer')
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_note_case_file_id'))

    op.drop_table('case_note')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_file_reference_idnp'))
        batch_op.drop_index(batch_op.f('ix_case_file_agency_code'))

    op.drop_table('case_file')
    with op.batch_alter_table('agency_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_case_status'))
        batch_op.drop_index(batch_op.f('ix_agency_case_due_on'))
        batch_op.drop_index(batch_op.f('ix_agency_case_assigned_to_id'))
        batch_op.drop_index(batch_op.f('ix_agency_case_application_id'))
        batch_op.drop_index(batch_op.f('ix_agency_case_agency_code'))

    op.drop_table('agency_case')
    op.drop_table('routing_rule_version')
