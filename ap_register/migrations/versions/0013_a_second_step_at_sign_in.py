"""a second step at sign-in

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 23:11:18.212956

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE: a batch rebuild of user_account on SQLite would drop a table others refer to.
    op.add_column('user_account', sa.Column('totp_secret', sa.String(length=32), nullable=True))
    op.add_column('user_account', sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('user_account', 'totp_last_step')
    op.drop_column('user_account', 'totp_secret')
