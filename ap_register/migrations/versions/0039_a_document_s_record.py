"""a document's record: the referral, review or note it is evidence for

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-06 23:00:00

A document uploaded to a referral to the panel, a placement review or a case note names it; one
uploaded to the child's record as a whole names none.

Down: the three columns go (the documents stay on the child's record).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

LINKS = (('referral_id', 'referral'), ('review_id', 'placement_review'), ('note_id', 'case_note'))


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        for column, table in LINKS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f'fk_document_{column}_{table}'), table, [column], ['id']
            )


def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        for column, table in LINKS:
            batch_op.drop_constraint(batch_op.f(f'fk_document_{column}_{table}'), type_='foreignkey')
            batch_op.drop_column(column)
