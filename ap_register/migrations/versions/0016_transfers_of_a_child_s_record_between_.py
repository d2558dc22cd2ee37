"""transfers of a child's record between LAs, and outreach proposals a school agrees

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 14:51:52.677508

A child's record moves between LAs only by a transfer the receiving LA asks for and the holding
LA releases (an import once moved it as a side effect). A provider's outreach for a named pupil
is a proposal until the pupil's school (or the LA) agrees; only then is the child linked to the
provider's engagement. Engagements already recorded stay as they are.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pupil_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upn', sa.String(length=13), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('to_la_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=True),
    sa.Column('from_la_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.CheckConstraint("(status = 'requested') = (decided_at IS NULL)", name=op.f('ck_pupil_transfer_decided_when_not_requested')),
    sa.CheckConstraint("status IN ('requested', 'released', 'declined', 'withdrawn')", name=op.f('ck_pupil_transfer_known_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_pupil_transfer_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['from_la_id'], ['local_authority.id'], name=op.f('fk_pupil_transfer_from_la_id_local_authority')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_pupil_transfer_pupil_id_pupil')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_pupil_transfer_requested_by_id_user_account')),
    sa.ForeignKeyConstraint(['to_la_id'], ['local_authority.id'], name=op.f('fk_pupil_transfer_to_la_id_local_authority')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pupil_transfer'))
    )
    with op.batch_alter_table('pupil_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pupil_transfer_from_la_id'), ['from_la_id'], unique=False)
        batch_op.create_index('ix_pupil_transfer_from_status', ['from_la_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_pupil_transfer_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pupil_transfer_to_la_id'), ['to_la_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pupil_transfer_upn'), ['upn'], unique=False)

    op.create_table('outreach_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('upn', sa.String(length=13), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'agreed') = (engagement_id IS NOT NULL)", name=op.f('ck_outreach_proposal_agreed_with_engagement')),
    sa.CheckConstraint("status IN ('waiting', 'agreed', 'declined', 'withdrawn')", name=op.f('ck_outreach_proposal_known_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_outreach_proposal_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['engagement_id'], ['outreach_engagement.id'], name=op.f('fk_outreach_proposal_engagement_id_outreach_engagement')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_outreach_proposal_proposed_by_id_user_account')),
    sa.ForeignKeyConstraint(['provider_id'], ['setting.id'], name=op.f('fk_outreach_proposal_provider_id_setting')),
    sa.ForeignKeyConstraint(['school_id'], ['setting.id'], name=op.f('fk_outreach_proposal_school_id_setting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_proposal'))
    )
    with op.batch_alter_table('outreach_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_proposal_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_proposal_school_id'), ['school_id'], unique=False)



def downgrade():
    with op.batch_alter_table('outreach_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_proposal_school_id'))
        batch_op.drop_index(batch_op.f('ix_outreach_proposal_provider_id'))

    op.drop_table('outreach_proposal')
    with op.batch_alter_table('pupil_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pupil_transfer_upn'))
        batch_op.drop_index(batch_op.f('ix_pupil_transfer_to_la_id'))
        batch_op.drop_index(batch_op.f('ix_pupil_transfer_pupil_id'))
        batch_op.drop_index('ix_pupil_transfer_from_status')
        batch_op.drop_index(batch_op.f('ix_pupil_transfer_from_la_id'))

    op.drop_table('pupil_transfer')
