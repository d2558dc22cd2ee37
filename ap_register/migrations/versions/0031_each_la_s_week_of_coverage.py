"""each LA's week of coverage, as the daily checks count it

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 21:50:00

The daily checks keep, per LA and school week, how many pupils it is responsible for and how many
were below full time, had no provision or overlapping bookings: the figures of the coverage
picture over the term. Weeks before this table are not counted (the page says so).

Down: the table goes; the next daily checks after an upgrade count the week again.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'coverage_week',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('pupils', sa.Integer(), nullable=False),
        sa.Column('below_full_time', sa.Integer(), nullable=False),
        sa.Column('no_provision', sa.Integer(), nullable=False),
        sa.Column('overlapping', sa.Integer(), nullable=False),
        sa.Column('counted_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['la_id'], ['local_authority.id'], name=op.f('fk_coverage_week_la_id_local_authority')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_week')),
        sa.UniqueConstraint('la_id', 'week', name=op.f('uq_coverage_week_la_id_week')),
    )


def downgrade():
    op.drop_table('coverage_week')
