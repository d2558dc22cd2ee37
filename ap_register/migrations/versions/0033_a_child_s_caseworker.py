"""a child's caseworker

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 15:30:00

An LA officer can hold a child's case (their caseload): one officer a child at most, in a table of
its own so that the pupil table is not rebuilt. Children recorded before have nobody.

Down: the table goes (who held which case stays in the audit trail).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_assignment',
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['user_account.id'], name=op.f('fk_case_assignment_assigned_by_id_user_account')),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_case_assignment_pupil_id_pupil')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_assignment_user_id_user_account')),
        sa.PrimaryKeyConstraint('pupil_id', name=op.f('pk_case_assignment')),
    )
    with op.batch_alter_table('case_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_assignment_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_assignment_user_id'))
    op.drop_table('case_assignment')
