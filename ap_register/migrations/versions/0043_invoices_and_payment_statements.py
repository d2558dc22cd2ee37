"""invoices and payment statements: a provider's monthly invoice and the LA's approved statement

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07 10:30:00

A provider's invoice for a month (one per LA, provider and month) with what it claims per pupil,
and the month's statement as the LA approved it (what was due, invoiced and paid, per pupil).

Down: the three tables go.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'provider_invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=60), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('how', sa.String(length=20), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_name', sa.String(length=200), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("how IN ('entered', 'imported')", name=op.f('ck_provider_invoice_known_how')),
        sa.ForeignKeyConstraint(['la_id'], ['local_authority.id'], name=op.f('fk_provider_invoice_la_id_local_authority')),
        sa.ForeignKeyConstraint(['provider_id'], ['setting.id'], name=op.f('fk_provider_invoice_provider_id_setting')),
        sa.ForeignKeyConstraint(
            ['recorded_by_id'], ['user_account.id'], name=op.f('fk_provider_invoice_recorded_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_invoice')),
        sa.UniqueConstraint('la_id', 'provider_id', 'month', name=op.f('uq_provider_invoice_la_id_provider_id_month')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_provider_invoice_la_id'), 'provider_invoice', ['la_id'], unique=False)
    op.create_index(op.f('ix_provider_invoice_provider_id'), 'provider_invoice', ['provider_id'], unique=False)
    op.create_table(
        'invoice_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('upn', sa.String(length=13), nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint('sessions >= 0 AND amount >= 0', name=op.f('ck_invoice_line_not_negative')),
        sa.ForeignKeyConstraint(
            ['invoice_id'], ['provider_invoice.id'], name=op.f('fk_invoice_line_invoice_id_provider_invoice')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line')),
        sa.UniqueConstraint('invoice_id', 'upn', name=op.f('uq_invoice_line_invoice_id_upn')),
    )
    op.create_index(op.f('ix_invoice_line_invoice_id'), 'invoice_line', ['invoice_id'], unique=False)
    op.create_table(
        'payment_statement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('due_total', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('invoiced_total', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('approved_total', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('la_paid', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('school_paid', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_by_name', sa.String(length=200), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            'due_total >= 0 AND invoiced_total >= 0 AND approved_total >= 0 AND la_paid >= 0 AND school_paid >= 0',
            name=op.f('ck_payment_statement_not_negative'),
        ),
        sa.ForeignKeyConstraint(
            ['approved_by_id'], ['user_account.id'], name=op.f('fk_payment_statement_approved_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['invoice_id'], ['provider_invoice.id'], name=op.f('fk_payment_statement_invoice_id_provider_invoice')
        ),
        sa.ForeignKeyConstraint(['la_id'], ['local_authority.id'], name=op.f('fk_payment_statement_la_id_local_authority')),
        sa.ForeignKeyConstraint(['provider_id'], ['setting.id'], name=op.f('fk_payment_statement_provider_id_setting')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_statement')),
        sa.UniqueConstraint('invoice_id', name=op.f('uq_payment_statement_invoice_id')),
        sa.UniqueConstraint('la_id', 'provider_id', 'month', name=op.f('uq_payment_statement_la_id_provider_id_month')),
    )
    op.create_index(op.f('ix_payment_statement_la_id'), 'payment_statement', ['la_id'], unique=False)
    op.create_index(op.f('ix_payment_statement_provider_id'), 'payment_statement', ['provider_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_payment_statement_provider_id'), table_name='payment_statement')
    op.drop_index(op.f('ix_payment_statement_la_id'), table_name='payment_statement')
    op.drop_table('payment_statement')
    op.drop_index(op.f('ix_invoice_line_invoice_id'), table_name='invoice_line')
    op.drop_table('invoice_line')
    op.drop_index(op.f('ix_provider_invoice_provider_id'), table_name='provider_invoice')
    op.drop_index(op.f('ix_provider_invoice_la_id'), table_name='provider_invoice')
    op.drop_table('provider_invoice')
