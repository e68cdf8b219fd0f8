"""ops: indexes that the country-size benchmark showed are needed (bench/queries.py)

* ``ix_claim_agency_status``: an agency's queue and its counts (agency + open statuses).  Without it
  PostgreSQL ANDs two large single-column bitmaps: 220 ms p50 / 800 ms p95 at 4 million claims.
* ``ix_claim_search``: the back office's filtered search (agency, benefit, status, newest submissions
  first, one page).  Without it: a sequential scan of the applications, about a second.
* ``ix_agency_case_queue``: an agency's open and waiting cases (the queue) by deadline.  Without it the
  queue reads every open case of every agency through ``ix_agency_case_status`` and filters by agency.

On PostgreSQL the indexes are built CONCURRENTLY (outside the migration's transaction), so a live portal
keeps writing claims while they build.

Revision ID: ops_0001
Revises: f7e96b9cf31c
"""
from alembic import op

revision = "ops_0001"
down_revision = "f7e96b9cf31c"
branch_labels = None
depends_on = "backoffice_0001"  # agency_case

INDEXES = {
    "ix_claim_agency_status": ("claim", ["agency_code", "status"]),
    "ix_claim_search": ("claim", ["agency_code", "benefit_code", "status", "created_at"]),
    "ix_agency_case_queue": ("agency_case", ["agency_code", "status", "due_on"]),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, (table, columns) in INDEXES.items():
                op.create_index(name, table, columns, postgresql_concurrently=True, if_not_exists=True)
    else:
        for name, (table, columns) in INDEXES.items():
            op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
