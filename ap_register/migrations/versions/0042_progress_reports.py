"""progress reports: a provider's half-termly report on a pupil under the placement's agreement

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07 06:30:00

One report per agreement and half term: the attendance as the registers held it, progress against
each objective with its evidence, the pupil's own voice and the next steps. Never changed.

Down: the table goes.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'progress_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('counted_to', sa.Date(), nullable=False),
        sa.Column('sessions_agreed', sa.Integer(), nullable=False),
        sa.Column('sessions_attended', sa.Integer(), nullable=False),
        sa.Column('sessions_authorised', sa.Integer(), nullable=False),
        sa.Column('sessions_unauthorised', sa.Integer(), nullable=False),
        sa.Column('sessions_unmarked', sa.Integer(), nullable=False),
        sa.Column('sessions_not_counted', sa.Integer(), nullable=False),
        sa.Column('progress', sa.JSON(), nullable=False),
        sa.Column('pupil_voice', sa.Text(), nullable=False),
        sa.Column('next_steps', sa.Text(), nullable=False),
        sa.Column('submitted_by_id', sa.Integer(), nullable=True),
        sa.Column('submitted_by_name', sa.String(length=200), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('period_end >= period_start', name=op.f('ck_progress_report_ends_after_it_starts')),
        sa.CheckConstraint(
            'sessions_agreed >= 0 AND sessions_attended >= 0 AND sessions_authorised >= 0 '
            'AND sessions_unauthorised >= 0 AND sessions_unmarked >= 0 AND sessions_not_counted >= 0',
            name=op.f('ck_progress_report_counts_not_negative'),
        ),
        sa.ForeignKeyConstraint(
            ['agreement_id'], ['placement_agreement.id'], name=op.f('fk_progress_report_agreement_id_placement_agreement')
        ),
        sa.ForeignKeyConstraint(
            ['submitted_by_id'], ['user_account.id'], name=op.f('fk_progress_report_submitted_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['version_id'], ['agreement_version.id'], name=op.f('fk_progress_report_version_id_agreement_version')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_report')),
        sa.UniqueConstraint('agreement_id', 'period_start', name=op.f('uq_progress_report_agreement_id_period_start')),
    )
    op.create_index(op.f('ix_progress_report_agreement_id'), 'progress_report', ['agreement_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_progress_report_agreement_id'), table_name='progress_report')
    op.drop_table('progress_report')
