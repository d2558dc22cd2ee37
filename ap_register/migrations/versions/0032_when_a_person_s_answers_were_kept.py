"""when a person's answers were last kept across a lapsed session

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 04:55:00

Each page a person opens puts back the answers kept for it, if any. The time they were kept, on
the person's own row (read with them anyway), lets a page ask for kept answers only when there
may be some: most pages then make no query for them at all. Answers kept before the upgrade
take their draft's time.

Down: the column goes; pages ask for kept answers on every page again.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER on both databases (SQLite drops a column itself since 3.35): a batch would
    # copy the table, and the copy's constraints would stop an earlier revision's downgrade.
    op.add_column('user_account', sa.Column('answers_kept_at', sa.DateTime(timezone=True), nullable=True))
    # Answers kept before the upgrade are still put back: their time is the draft's own.
    op.execute(
        "UPDATE user_account SET answers_kept_at = (SELECT MAX(form_draft.created_at) FROM form_draft"
        " WHERE form_draft.user_id = user_account.id AND form_draft.kind LIKE 'kept:%')"
    )


def downgrade():
    op.drop_column('user_account', 'answers_kept_at')
