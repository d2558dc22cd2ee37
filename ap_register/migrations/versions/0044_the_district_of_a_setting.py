"""the district of a setting

The administrative district a school or provider is in (GIAS DistrictAdministrative), the area
a commissioner plans the sufficiency of places by.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-07 13:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('setting', schema=None) as batch_op:
        batch_op.drop_column('district')
