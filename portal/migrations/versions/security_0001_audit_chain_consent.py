"""security: the audit hash chain (seq, prev_hash, hash; the chain head row) and consent records

Events already in the table are chained in id order, so an existing database verifies after the upgrade.

Revision ID: security_0001
Revises: f7e96b9cf31c
Create Date: 2026-11-29 10:00:00
"""
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

import portal.core.db

revision = 'security_0001'
down_revision = 'f7e96b9cf31c'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', BIG, nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])

    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', BIG, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('base_seq', BIG, nullable=False),
    sa.Column('base_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )

    op.create_table('consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('subject_idnp', sa.String(length=13), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('granted_to_idnp', sa.String(length=13), nullable=True),
    sa.Column('granted_to_org', sa.String(length=64), nullable=True),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('text_version', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('recorded_by_idnp', sa.String(length=13), nullable=True),
    sa.Column('given_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_idnp', sa.String(length=13), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent')),
    sa.UniqueConstraint('ref', name=op.f('uq_consent_ref'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index('ix_consent_subject_kind', ['subject_idnp', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_granted_to_idnp'), ['granted_to_idnp'], unique=False)

    _chain_existing(head)


def _chain_existing(head) -> None:
    """Give events written before this revision their place in the chain (same hash as portal.audit.chain)."""
    from portal.audit.chain import canonical_details, hash_of

    bind = op.get_bind()
    events = sa.table('audit_event', sa.column('id', sa.Integer), sa.column('occurred_at', portal.core.db.UTCDateTime),
                      sa.column('action', sa.String), sa.column('actor_idnp', sa.String),
                      sa.column('subject_idnp', sa.String), sa.column('object_type', sa.String),
                      sa.column('object_id', sa.String), sa.column('details', sa.JSON),
                      sa.column('source_ip', sa.String), sa.column('seq', BIG), sa.column('prev_hash', sa.String),
                      sa.column('hash', sa.String))
    prev, seq = GENESIS, 0
    for row in bind.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        seq += 1
        e = SimpleNamespace(**dict(row))
        e.details = canonical_details(e.details)
        e.seq, e.prev_hash = seq, prev
        e.hash = hash_of(e)
        bind.execute(events.update().where(events.c.id == row["id"])
                     .values(seq=seq, prev_hash=prev, hash=e.hash, details=e.details))
        prev = e.hash
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": prev, "base_seq": 0, "base_hash": GENESIS}])


def downgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_granted_to_idnp'))
        batch_op.drop_index('ix_consent_subject_kind')
    op.drop_table('consent')
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
