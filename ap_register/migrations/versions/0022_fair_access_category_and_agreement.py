"""fair access: the protocol category and the day the LA agreed to consider the child

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 07:00:00

A place is due within 20 school days of the LA agreeing that a child will be considered under its
fair access protocol (School Admissions Code 2021 para 3.21), and only children in the categories
of para 3.17 may be. Referrals recorded before kept the clock from their submission: each fair
access referral's agreement is taken as its day of submission, so its clock does not move; their
categories were not recorded and stay blank.

Down: the two columns go.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

referral = sa.table(
    'referral',
    sa.column('move', sa.String),
    sa.column('submitted_on', sa.Date),
    sa.column('fair_access_agreed_on', sa.Date),
)


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fair_access_category', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('fair_access_agreed_on', sa.Date(), nullable=True))
    op.execute(
        referral.update()
        .where(referral.c.move == 'fair_access')
        .values(fair_access_agreed_on=referral.c.submitted_on)
    )


def downgrade():
    # Plain DROP COLUMN, not a batch copy: a copy would drop a table decisions and agendas refer to.
    op.drop_column('referral', 'fair_access_agreed_on')
    op.drop_column('referral', 'fair_access_category')
