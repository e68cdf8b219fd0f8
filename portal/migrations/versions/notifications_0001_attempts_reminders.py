"""notifications: a claim token per row, every delivery attempt with its outcome, and reminders written once per due event

Revision ID: notifications_0001
Revises: f7e96b9cf31c
Create Date: 2026-11-29 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import portal.core.db


revision = "notifications_0001"
down_revision = "f7e96b9cf31c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))

    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("started_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", portal.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("provider_ref", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"],
                                name=op.f("fk_notification_attempt_notification_id_notification")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempt")),
        sa.UniqueConstraint("notification_id", "number", name="uq_notification_attempt_number"),
    )
    with op.batch_alter_table("notification_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_attempt_notification_id"), ["notification_id"],
                              unique=False)

    op.create_table(
        "notification_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_notification_reminder_account_id_account")),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_notification_reminder_claim_id_claim")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_reminder")),
        sa.UniqueConstraint("kind", "key", name="uq_notification_reminder_kind_key"),
    )
    with op.batch_alter_table("notification_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_reminder_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_reminder_claim_id"))
    op.drop_table("notification_reminder")
    with op.batch_alter_table("notification_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_attempt_notification_id"))
    op.drop_table("notification_attempt")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
