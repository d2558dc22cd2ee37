"""notes on a child's case

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 15:45:00

A note on a child's record (what was done or agreed, when, by whom, of what kind, and who may read
it), never edited: a correction is a later note naming the one it corrects.

Down: the table goes, and the notes with it (the audit trail keeps that each was written).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('happened_on', sa.Date(), nullable=False),
        sa.Column('category', sa.String(length=30), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('audience', sa.String(length=10), nullable=False),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author_name', sa.String(length=200), nullable=False),
        sa.Column('author_organisation', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_case_note_author_id_user_account')),
        sa.ForeignKeyConstraint(['corrects_id'], ['case_note.id'], name=op.f('fk_case_note_corrects_id_case_note')),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_case_note_pupil_id_pupil')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note')),
    )
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_note_corrects_id'), ['corrects_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_note_pupil_id'), ['pupil_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_note_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_case_note_corrects_id'))
    op.drop_table('case_note')
