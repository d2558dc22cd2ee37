"""what a stored score was made of

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:00:00

The provider comparison page reads the scores the nightly job keeps instead of recomputing a
year per request: each stored score also keeps what the page shows beside the figure (its
successes, the measure's extra figures, what is pending, how many pupils are behind it, the
benchmark's source and the provider's context). Scores stored before have none: the page
recomputes those until the next night.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('score', sa.Column('detail', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('score', 'detail')
