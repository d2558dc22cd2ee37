"""when a pupil's record was anonymised

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 22:49:34.620563

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE: a batch rebuild of pupil on SQLite would drop a table others refer to.
    op.add_column('pupil', sa.Column('anonymised_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('pupil', 'anonymised_on')
