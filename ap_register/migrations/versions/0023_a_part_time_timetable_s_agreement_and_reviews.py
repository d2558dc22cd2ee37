"""a part-time timetable's agreement, purpose and reviews with the pupil and parents

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 08:00:00

A part-time timetable is agreed with the parents, for a purpose in the pupil's best interests and
never to manage behaviour, with a time limit, and reviewed regularly with the pupil and their
parents (Working together to improve school attendance, 2024, paras 65 and 66). A placement gains
the day the parent agreed and the purpose; a review gains who took part and the planned end it
moved, if it extended the placement. Timetables and reviews recorded before keep blanks: the
register did not ask then, and does not invent an answer now.

Down: the five columns go (plain DROP COLUMN: SQLite 3.35 or later).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_agreed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('part_time_purpose', sa.String(length=20), nullable=True))
    with op.batch_alter_table('placement_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pupil_took_part', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('parents_took_part', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('extended_from', sa.Date(), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35 and later, PostgreSQL): a batch copy of the placement table
    # would drop a table its reviews and movements refer to.
    for table, column in (
        ('placement_review', 'extended_from'),
        ('placement_review', 'parents_took_part'),
        ('placement_review', 'pupil_took_part'),
        ('placement', 'part_time_purpose'),
        ('placement', 'parent_agreed_on'),
    ):
        op.drop_column(table, column)
