"""inclusion: CUPS assisted sessions, guardianships, mandates, who acted on whose behalf, receipt codes,
and the country a person lives in

Revision ID: inclusion_0001
Revises: f7e96b9cf31c
Create Date: 2026-11-29 09:02:22.890235
"""
from alembic import op
import sqlalchemy as sa
import portal.core.db


revision = 'inclusion_0001'
down_revision = 'f7e96b9cf31c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('guardianship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('guardian_idnp', sa.String(length=13), nullable=False),
    sa.Column('ward_idnp', sa.String(length=13), nullable=False),
    sa.Column('ward_first_name', sa.String(length=100), nullable=False),
    sa.Column('ward_last_name', sa.String(length=100), nullable=False),
    sa.Column('ward_birth_date', sa.Date(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('authority', sa.String(length=200), nullable=False),
    sa.Column('decision_number', sa.String(length=64), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('ended_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardianship')),
    sa.UniqueConstraint('ref', name=op.f('uq_guardianship_ref'))
    )
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardianship_guardian_idnp'), ['guardian_idnp'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardianship_ward_idnp'), ['ward_idnp'], unique=False)

    op.create_table('assisted_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('specialist_id', sa.Integer(), nullable=False),
    sa.Column('centre_code', sa.String(length=32), nullable=False),
    sa.Column('login_session_id', sa.String(length=64), nullable=True),
    sa.Column('visitor_id', sa.Integer(), nullable=True),
    sa.Column('identified_by', sa.String(length=16), nullable=False),
    sa.Column('document_type', sa.String(length=32), nullable=True),
    sa.Column('document_number', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('consent_ref', sa.String(length=32), nullable=True),
    sa.Column('saml_request_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['specialist_id'], ['account.id'], name=op.f('fk_assisted_session_specialist_id_account')),
    sa.ForeignKeyConstraint(['visitor_id'], ['account.id'], name=op.f('fk_assisted_session_visitor_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assisted_session')),
    sa.UniqueConstraint('ref', name=op.f('uq_assisted_session_ref'))
    )
    with op.batch_alter_table('assisted_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assisted_session_centre_code'), ['centre_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_assisted_session_saml_request_id'), ['saml_request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assisted_session_specialist_id'), ['specialist_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assisted_session_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_assisted_session_visitor_id'), ['visitor_id'], unique=False)

    op.create_table('mandate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('grantor_id', sa.Integer(), nullable=False),
    sa.Column('grantee_idnp', sa.String(length=13), nullable=False),
    sa.Column('grantee_name', sa.String(length=200), nullable=False),
    sa.Column('services', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('consent_ref', sa.String(length=32), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('renounced_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grantor_id'], ['account.id'], name=op.f('fk_mandate_grantor_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mandate')),
    sa.UniqueConstraint('ref', name=op.f('uq_mandate_ref'))
    )
    with op.batch_alter_table('mandate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mandate_grantee_idnp'), ['grantee_idnp'], unique=False)
        batch_op.create_index(batch_op.f('ix_mandate_grantor_id'), ['grantor_id'], unique=False)

    op.create_table('on_behalf',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('centre_code', sa.String(length=32), nullable=True),
    sa.Column('assisted_session_id', sa.Integer(), nullable=True),
    sa.Column('mandate_id', sa.Integer(), nullable=True),
    sa.Column('guardianship_id', sa.Integer(), nullable=True),
    sa.Column('consent_ref', sa.String(length=32), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_basis', sa.String(length=16), nullable=True),
    sa.Column('submitted_centre_code', sa.String(length=32), nullable=True),
    sa.Column('submitted_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['account.id'], name=op.f('fk_on_behalf_actor_id_account')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_on_behalf_application_id_application')),
    sa.ForeignKeyConstraint(['assisted_session_id'], ['assisted_session.id'], name=op.f('fk_on_behalf_assisted_session_id_assisted_session')),
    sa.ForeignKeyConstraint(['guardianship_id'], ['guardianship.id'], name=op.f('fk_on_behalf_guardianship_id_guardianship')),
    sa.ForeignKeyConstraint(['mandate_id'], ['mandate.id'], name=op.f('fk_on_behalf_mandate_id_mandate')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['account.id'], name=op.f('fk_on_behalf_submitted_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_on_behalf')),
    sa.UniqueConstraint('application_id', name=op.f('uq_on_behalf_application_id'))
    )
    op.create_table('tracking_code',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_tracking_code_application_id_application')),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_tracking_code'))
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('country')

    op.drop_table('tracking_code')
    op.drop_table('on_behalf')
    with op.batch_alter_table('mandate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mandate_grantor_id'))
        batch_op.drop_index(batch_op.f('ix_mandate_grantee_idnp'))

    op.drop_table('mandate')
    with op.batch_alter_table('assisted_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assisted_session_visitor_id'))
        batch_op.drop_index(batch_op.f('ix_assisted_session_status'))
        batch_op.drop_index(batch_op.f('ix_assisted_session_specialist_id'))
        batch_op.drop_index(batch_op.f('ix_assisted_session_saml_request_id'))
        batch_op.drop_index(batch_op.f('ix_assisted_session_centre_code'))

    op.drop_table('assisted_session')
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardianship_ward_idnp'))
        batch_op.drop_index(batch_op.f('ix_guardianship_guardian_idnp'))

    op.drop_table('guardianship')
