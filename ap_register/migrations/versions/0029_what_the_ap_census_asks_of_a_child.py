"""what the AP census asks of a child: sex, ethnicity, free school meals, UPRN

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 14:00:00

The AP census (DfE, January) returns, for each child, their sex as recognised in law, their
ethnicity, their eligibility for free school meals and their home's unique property reference
number. A pupil gains the five; pupils recorded before keep blanks until a pupils file gives them
(the census's check lists each blank by pupil).

Down: the five columns go (plain DROP COLUMN: SQLite 3.35 or later).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

COLUMNS = (
    ('sex', sa.String(length=1)),
    ('ethnicity', sa.String(length=4)),
    ('fsm_start', sa.Date()),
    ('fsm_end', sa.Date()),
    ('uprn', sa.String(length=12)),
)


def upgrade():
    for name, kind in COLUMNS:
        op.add_column('pupil', sa.Column(name, kind, nullable=True))


def downgrade():
    for name, _ in reversed(COLUMNS):
        op.drop_column('pupil', name)
