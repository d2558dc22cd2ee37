"""an alert is unique within its LA, not across the register

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 09:00:00

A finding about a provider that two LAs' pupils share (its oversight record, the independent-school
test) is each LA's to act on, so each keeps its own alert with the same key. The unique key
becomes (la_id, key); the daily job raised one LA's and failed on the second before.

Down: back to a unique key across the register, which fails while two LAs hold the same key (as
it should: the older schema cannot hold them).
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_constraint('uq_alert_key', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_alert_la_id_key'), ['la_id', 'key'])


def downgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_alert_la_id_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_alert_key'), ['key'])
