"""requests for a review meeting of an off-site direction

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 08:30:00

The parent (or the pupil at 18), and the LA where the pupil has an EHC plan, may ask in writing
for a review meeting of an off-site direction; the governing body must hold one as soon as
reasonably practicable unless one was held in the 10 weeks before the request (SI 2010/1156 reg
4A, inserted by SI 2012/2532 reg 5). A new table keeps each request and whether it required one.

Down: the table goes.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'review_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('placement_id', sa.Integer(), nullable=False),
        sa.Column('requested_on', sa.Date(), nullable=False),
        sa.Column('requested_by', sa.String(length=10), nullable=False),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("requested_by IN ('parent', 'la')", name=op.f('ck_review_request_requested_by_known')),
        sa.ForeignKeyConstraint(['placement_id'], ['placement.id'], name=op.f('fk_review_request_placement_id_placement')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_review_request_recorded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_request')),
    )
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_request_placement_id'), ['placement_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_request_placement_id'))
    op.drop_table('review_request')
