"""frameworks, lots and provider evidence: commissioning the AP market

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 02:30:00

An LA's frameworks (or dynamic markets) and their lots; each provider's approval onto a lot at its
rate; the evidence each provider gave the LA, with its expiry. Settings and their sites gain their
place on the British National Grid (GIAS Easting and Northing), for the directory's distances.

Down: the four tables and the four columns go.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

GRID = ('easting', 'northing')


def upgrade():
    op.create_table(
        'framework',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('grace_days', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('ends_on > starts_on', name=op.f('ck_framework_ends_after_it_starts')),
        sa.CheckConstraint('grace_days >= 0 AND grace_days <= 90', name=op.f('ck_framework_grace_days_in_range')),
        sa.CheckConstraint("kind IN ('framework', 'dynamic_market')", name=op.f('ck_framework_known_kind')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_framework_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['la_id'], ['local_authority.id'], name=op.f('fk_framework_la_id_local_authority')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_framework')),
        sa.UniqueConstraint('la_id', 'name', name=op.f('uq_framework_la_id_name')),
    )
    op.create_index(op.f('ix_framework_la_id'), 'framework', ['la_id'], unique=False)
    op.create_table(
        'framework_lot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('service', sa.String(length=30), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.CheckConstraint('number >= 1', name=op.f('ck_framework_lot_numbered')),
        sa.ForeignKeyConstraint(['framework_id'], ['framework.id'], name=op.f('fk_framework_lot_framework_id_framework')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_framework_lot')),
        sa.UniqueConstraint('framework_id', 'number', name=op.f('uq_framework_lot_framework_id_number')),
    )
    op.create_index(op.f('ix_framework_lot_framework_id'), 'framework_lot', ['framework_id'], unique=False)
    op.create_table(
        'lot_approval',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lot_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('applied_on', sa.Date(), nullable=False),
        sa.Column('rate', sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column('rate_unit', sa.String(length=20), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('applied', 'approved', 'declined', 'removed')", name=op.f('ck_lot_approval_known_status')),
        sa.CheckConstraint(
            "status != 'approved' OR (rate IS NOT NULL AND rate_unit IS NOT NULL)",
            name=op.f('ck_lot_approval_approved_at_a_rate'),
        ),
        sa.CheckConstraint('rate IS NULL OR rate >= 0', name=op.f('ck_lot_approval_rate_not_negative')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_lot_approval_decided_by_id_user_account')),
        sa.ForeignKeyConstraint(['lot_id'], ['framework_lot.id'], name=op.f('fk_lot_approval_lot_id_framework_lot')),
        sa.ForeignKeyConstraint(['provider_id'], ['setting.id'], name=op.f('fk_lot_approval_provider_id_setting')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_approval')),
        sa.UniqueConstraint('lot_id', 'provider_id', name=op.f('uq_lot_approval_lot_id_provider_id')),
    )
    op.create_index(op.f('ix_lot_approval_lot_id'), 'lot_approval', ['lot_id'], unique=False)
    op.create_index(op.f('ix_lot_approval_provider_id'), 'lot_approval', ['provider_id'], unique=False)
    op.create_table(
        'compliance_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('evidence_date', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=200), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('expires_on > evidence_date', name=op.f('ck_compliance_check_expires_after_the_evidence')),
        sa.ForeignKeyConstraint(['la_id'], ['local_authority.id'], name=op.f('fk_compliance_check_la_id_local_authority')),
        sa.ForeignKeyConstraint(['provider_id'], ['setting.id'], name=op.f('fk_compliance_check_provider_id_setting')),
        sa.ForeignKeyConstraint(
            ['recorded_by_id'], ['user_account.id'], name=op.f('fk_compliance_check_recorded_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_check')),
    )
    op.create_index(op.f('ix_compliance_check_la_id'), 'compliance_check', ['la_id'], unique=False)
    op.create_index(op.f('ix_compliance_check_provider_id'), 'compliance_check', ['provider_id'], unique=False)
    for table in ('setting', 'setting_site'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in GRID:
                batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))


def downgrade():
    for table in ('setting_site', 'setting'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in GRID:
                batch_op.drop_column(column)
    op.drop_index(op.f('ix_compliance_check_provider_id'), table_name='compliance_check')
    op.drop_index(op.f('ix_compliance_check_la_id'), table_name='compliance_check')
    op.drop_table('compliance_check')
    op.drop_index(op.f('ix_lot_approval_provider_id'), table_name='lot_approval')
    op.drop_index(op.f('ix_lot_approval_lot_id'), table_name='lot_approval')
    op.drop_table('lot_approval')
    op.drop_index(op.f('ix_framework_lot_framework_id'), table_name='framework_lot')
    op.drop_table('framework_lot')
    op.drop_index(op.f('ix_framework_la_id'), table_name='framework')
    op.drop_table('framework')
