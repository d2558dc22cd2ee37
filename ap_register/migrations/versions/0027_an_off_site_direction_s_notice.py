"""an off-site direction's written notice: its contents, and the day notice went to the LA

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 11:00:00

The notice of an off-site direction says where the pupil attends, who they report to, the times
of the sessions and the reasons for the direction and its aims (SI 2010/1156 reg 3(4)); where the
pupil has an EHC plan it goes to the LA too (reg 3(1) and (3)). A placement gains those contents
and the day notice went to the LA. Directions recorded before keep blanks (the register did not
ask then): the daily checks ask for them on those still open, unless they came from an LA's old
records.

Down: the five columns go (plain DROP COLUMN: SQLite 3.35 or later).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

COLUMNS = ('notice_address', 'notice_report_to', 'notice_session_times', 'notice_reasons', 'la_notice_date')


def upgrade():
    for name in COLUMNS[:3]:
        op.add_column('placement', sa.Column(name, sa.String(length=400), nullable=True))
    op.add_column('placement', sa.Column('notice_reasons', sa.Text(), nullable=True))
    op.add_column('placement', sa.Column('la_notice_date', sa.Date(), nullable=True))


def downgrade():
    for name in reversed(COLUMNS):
        op.drop_column('placement', name)
