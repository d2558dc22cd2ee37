"""what a confirmed draft made

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 10:00:00

A draft is no longer deleted when it is confirmed: its answers are cleared and it keeps the id of
what it made, so that the same draft confirmed again (a double click, two at once, the back
button) is shown the placement already made instead of making a second one. Drafts confirmed
before this revision were deleted, as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('form_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('made_id', sa.Integer(), nullable=True))


def downgrade():
    # Confirmed drafts hold nothing but what they made: without the column they mean nothing.
    op.execute("DELETE FROM form_draft WHERE made_id IS NOT NULL")
    with op.batch_alter_table('form_draft', schema=None) as batch_op:
        batch_op.drop_column('made_id')
