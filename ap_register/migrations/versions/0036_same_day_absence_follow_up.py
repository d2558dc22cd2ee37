"""same-day absence follow-up: each LA's times, an alert's escalation, and contact attempts

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 19:00:00

Each LA gains the times of its same-day absence follow-up (England's clock): by when a provider's
morning register must show a child (10:00), earlier for a looked-after child or a child at an
unregistered provider (9:30), and by when the family must have been reached before the alert goes
to its named officer (13:30), with that officer (none: the LA's administrators). An alert gains
when it was escalated; each attempt to reach the family about an alert is kept.

Down: the attempts, the escalation times and the LA's settings go.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table copied: other tables refer to both, with rows in them).
    op.add_column('local_authority', sa.Column('absence_check_at', sa.Time(), server_default='10:00:00', nullable=False))
    op.add_column(
        'local_authority', sa.Column('absence_check_early_at', sa.Time(), server_default='09:30:00', nullable=False)
    )
    op.add_column(
        'local_authority', sa.Column('absence_escalate_at', sa.Time(), server_default='13:30:00', nullable=False)
    )
    op.add_column('local_authority', sa.Column('absence_officer_id', sa.Integer(), nullable=True))
    op.add_column('alert', sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'contact_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('made_by_id', sa.Integer(), nullable=True),
        sa.Column('made_by_name', sa.String(length=200), nullable=False),
        sa.Column('organisation', sa.String(length=200), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('contact_name', sa.String(length=200), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_contact_attempt_alert_id_alert')),
        sa.ForeignKeyConstraint(
            ['contact_id'], ['pupil_contact.id'], name=op.f('fk_contact_attempt_contact_id_pupil_contact'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(['made_by_id'], ['user_account.id'], name=op.f('fk_contact_attempt_made_by_id_user_account')),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_contact_attempt_pupil_id_pupil')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_attempt')),
    )
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_attempt_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_attempt_pupil_id'), ['pupil_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_attempt_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_contact_attempt_alert_id'))
    op.drop_table('contact_attempt')
    # Plain DROP COLUMN (SQLite 3.35 or later), as the columns were added.
    op.drop_column('alert', 'escalated_at')
    for name in ('absence_officer_id', 'absence_escalate_at', 'absence_check_early_at', 'absence_check_at'):
        op.drop_column('local_authority', name)
