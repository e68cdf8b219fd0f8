"""back office: each case keeps its risk level, and the queue's index follows the queue's order

The queue is ordered by the worst risk level of a case's claims, then the deadline, then age.  That
level was a subquery per case, so no index could give the first page: every open case of the agency
was read and sorted.  ``agency_case.risk_level`` keeps it (the back office updates it whenever a claim's
level changes or a claim joins or leaves the case), and ``ix_agency_case_risk_queue`` on
``(agency_code, status, risk_level DESC, due_on, created_at, id)`` returns a page of one agency's open
(or waiting) cases in the queue's order without sorting.  ``ix_agency_case_closed`` does the same for the
queue page's "decided recently" (one agency's newest closed cases), which sorted every closed case of the
agency (a hundred thousand at the country's size).

On PostgreSQL the index is built CONCURRENTLY, so a live portal keeps writing cases while it builds.

Revision ID: backoffice_0002
Revises: backoffice_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "backoffice_0002"
down_revision = "backoffice_0001"
branch_labels = None
depends_on = "eligibility_0001"  # claim.risk_level

INDEXES = {
    # A page of one agency's open (or waiting) cases, most urgent first.
    "ix_agency_case_risk_queue": ["agency_code", "status", sa.text("risk_level DESC"), "due_on", "created_at", "id"],
    # "Decided recently": one agency's newest closed cases (read backwards).
    "ix_agency_case_closed": ["agency_code", "status", "closed_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("agency_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_level", sa.Integer(), server_default="0", nullable=False))
    # Existing cases: the worst level of their claims (cases of closed work included, for consistency).
    op.execute("UPDATE agency_case SET risk_level = COALESCE((SELECT MAX(claim.risk_level) FROM claim "
               "WHERE claim.case_id = agency_case.id), 0) "
               "WHERE EXISTS (SELECT 1 FROM claim WHERE claim.case_id = agency_case.id AND claim.risk_level > 0)")
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, columns in INDEXES.items():
                op.create_index(name, "agency_case", columns, postgresql_concurrently=True, if_not_exists=True)
    else:
        for name, columns in INDEXES.items():
            op.create_index(name, "agency_case", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="agency_case")
    with op.batch_alter_table("agency_case", schema=None) as batch_op:
        batch_op.drop_column("risk_level")
