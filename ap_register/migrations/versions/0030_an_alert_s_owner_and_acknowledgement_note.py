"""an alert's owner and the note left on acknowledging it

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 17:50:00

An alert can be given to a person (its owner: the officer who is to act on it), and whoever
acknowledges it may say what they are doing. Alerts raised before have neither.

Down: the two columns go (their foreign key and index with them).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('acknowledgement_note', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_alert_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_alert_assigned_to_id_user_account'), 'user_account', ['assigned_to_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alert_assigned_to_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_alert_assigned_to_id'))
        batch_op.drop_column('acknowledgement_note')
        batch_op.drop_column('assigned_to_id')
