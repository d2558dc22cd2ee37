"""two-step secrets sealed at rest

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 13:45:00

The secret moves to a wider column holding it sealed. Secrets stored before this revision were in
clear and are not carried over (the key that seals them lives outside the database): those people
set two-step sign-in up again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE: a batch rebuild of user_account on SQLite would drop a table others refer to.
    op.add_column('user_account', sa.Column('totp_sealed', sa.String(length=255), nullable=True))
    op.execute("UPDATE user_account SET totp_last_step = NULL")
    op.drop_column('user_account', 'totp_secret')


def downgrade():
    op.add_column('user_account', sa.Column('totp_secret', sa.String(length=32), nullable=True))
    op.execute("UPDATE user_account SET totp_last_step = NULL")
    op.drop_column('user_account', 'totp_sealed')
