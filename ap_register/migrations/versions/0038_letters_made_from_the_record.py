"""letters made from the record

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06 22:45:00

A letter the law asks for (the notice of an off-site direction, the LA's letter about education
from the sixth day of a permanent exclusion, the panel's decision, a part-time timetable's
agreement), made from the record: the facts it was made from, the writer's own words, and once
sent, when, how and the PDF that went (a document on the child's record).

Down: the table goes (the sent letters' PDFs stay on the record as documents).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'letter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('placement_id', sa.Integer(), nullable=True),
        sa.Column('decision_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('audience', sa.String(length=10), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('edits', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by_name', sa.String(length=200), nullable=False),
        sa.Column('organisation', sa.String(length=200), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=True),
        sa.Column('sent_how', sa.String(length=10), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_by_id', sa.Integer(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_letter_pupil_id_pupil')),
        sa.ForeignKeyConstraint(['placement_id'], ['placement.id'], name=op.f('fk_letter_placement_id_placement')),
        sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_letter_decision_id_decision')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_letter_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_letter_sent_by_id_user_account')),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_letter_document_id_document')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter')),
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_pupil_id'), ['pupil_id'], unique=False)


def downgrade():
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_pupil_id'))
    op.drop_table('letter')
