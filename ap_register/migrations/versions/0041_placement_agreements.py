"""placement agreements: a call-off's individual placement agreement, versioned and signed

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 03:00:00

A placement called off under a provider's approval on a lot carries its agreement; each change is
a new version with its reason; each version is accepted by the school, the provider and the parent.

Down: the three tables go.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'placement_agreement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('placement_id', sa.Integer(), nullable=False),
        sa.Column('approval_id', sa.Integer(), nullable=False),
        sa.Column('called_off_on', sa.Date(), nullable=False),
        sa.Column('called_off_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['approval_id'], ['lot_approval.id'], name=op.f('fk_placement_agreement_approval_id_lot_approval')
        ),
        sa.ForeignKeyConstraint(
            ['called_off_by_id'], ['user_account.id'], name=op.f('fk_placement_agreement_called_off_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['placement_id'], ['placement.id'], name=op.f('fk_placement_agreement_placement_id_placement')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_agreement')),
        sa.UniqueConstraint('placement_id', name=op.f('uq_placement_agreement_placement_id')),
    )
    op.create_index(op.f('ix_placement_agreement_approval_id'), 'placement_agreement', ['approval_id'], unique=False)
    op.create_table(
        'agreement_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('objectives', sa.JSON(), nullable=False),
        sa.Column('sessions', sa.String(length=10), nullable=False),
        sa.Column('hours_per_week', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('rate', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('rate_unit', sa.String(length=20), nullable=False),
        sa.Column('pays_on', sa.String(length=20), nullable=False),
        sa.Column('payer', sa.String(length=20), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('review_on', sa.Date(), nullable=False),
        sa.Column('safeguarding', sa.Text(), nullable=False),
        sa.Column('contacts', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by_name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('number >= 1', name=op.f('ck_agreement_version_numbered')),
        sa.CheckConstraint('review_on >= starts_on', name=op.f('ck_agreement_version_reviewed_after_it_starts')),
        sa.CheckConstraint('rate >= 0 AND hours_per_week >= 0', name=op.f('ck_agreement_version_not_negative')),
        sa.CheckConstraint("pays_on IN ('agreed', 'attended')", name=op.f('ck_agreement_version_known_basis')),
        sa.CheckConstraint("payer IN ('school', 'la', 'high_needs')", name=op.f('ck_agreement_version_known_payer')),
        sa.ForeignKeyConstraint(
            ['agreement_id'], ['placement_agreement.id'], name=op.f('fk_agreement_version_agreement_id_placement_agreement')
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user_account.id'], name=op.f('fk_agreement_version_created_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_version')),
        sa.UniqueConstraint('agreement_id', 'number', name=op.f('uq_agreement_version_agreement_id_number')),
    )
    op.create_index(op.f('ix_agreement_version_agreement_id'), 'agreement_version', ['agreement_id'], unique=False)
    op.create_table(
        'agreement_signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('party', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('how', sa.String(length=20), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_name', sa.String(length=200), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("party IN ('school', 'provider', 'parent')", name=op.f('ck_agreement_signature_known_party')),
        sa.ForeignKeyConstraint(
            ['recorded_by_id'], ['user_account.id'], name=op.f('fk_agreement_signature_recorded_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['version_id'], ['agreement_version.id'], name=op.f('fk_agreement_signature_version_id_agreement_version')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_signature')),
        sa.UniqueConstraint('version_id', 'party', name=op.f('uq_agreement_signature_version_id_party')),
    )
    op.create_index(op.f('ix_agreement_signature_version_id'), 'agreement_signature', ['version_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_agreement_signature_version_id'), table_name='agreement_signature')
    op.drop_table('agreement_signature')
    op.drop_index(op.f('ix_agreement_version_agreement_id'), table_name='agreement_version')
    op.drop_table('agreement_version')
    op.drop_index(op.f('ix_placement_agreement_approval_id'), table_name='placement_agreement')
    op.drop_table('placement_agreement')
