"""one waiting transfer request per UPN and receiving LA

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 21:20:00

A receiving LA asks once for a child's record: a partial unique index on the requests still
waiting (UPN, receiving LA). Requests made twice before it existed are settled first: the
earliest stays waiting, the later ones are withdrawn with a note saying why. (Created only if
missing: a database made while the index briefly lived in 0016 has it already.)
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'requested'")


def upgrade():
    op.execute(
        sa.text(
            "UPDATE pupil_transfer SET status = 'withdrawn', decided_at = CURRENT_TIMESTAMP, "
            "decision_note = :note "
            "WHERE status = 'requested' AND id > ("
            "  SELECT MIN(earlier.id) FROM pupil_transfer AS earlier"
            "  WHERE earlier.upn = pupil_transfer.upn AND earlier.to_la_id = pupil_transfer.to_la_id"
            "  AND earlier.status = 'requested')"
        ).bindparams(note="Withdrawn by the register: an earlier request for this UPN was already waiting")
    )
    op.create_index(
        'uq_pupil_transfer_waiting', 'pupil_transfer', ['upn', 'to_la_id'], unique=True,
        postgresql_where=WAITING, sqlite_where=WAITING, if_not_exists=True,
    )


def downgrade():
    # The withdrawn duplicates stay withdrawn: they were asked twice, and asking again works.
    op.drop_index('uq_pupil_transfer_waiting', table_name='pupil_transfer', if_exists=True)
