"""a child's home address and each parent's name and address

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 12:00:00

An LA's register of children not in school holds, for each child on it, the child's home address
and each parent's name and home address (Education Act 1996 s436C, inserted by the Children's
Wellbeing and Schools Act 2026 s38). A pupil gains the three; pupils recorded before keep blanks
until a pupils file gives them.

Down: the three columns go (plain DROP COLUMN: SQLite 3.35 or later).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('pupil', sa.Column('home_address', sa.String(length=400), nullable=True))
    op.add_column('pupil', sa.Column('home_postcode', sa.String(length=10), nullable=True))
    op.add_column('pupil', sa.Column('parents', sa.JSON(), nullable=True))


def downgrade():
    for name in ('parents', 'home_postcode', 'home_address'):
        op.drop_column('pupil', name)
