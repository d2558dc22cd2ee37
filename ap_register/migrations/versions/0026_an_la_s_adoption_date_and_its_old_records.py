"""an LA's adoption date and the placements brought in from its old records

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 10:00:00

An LA's "panel decisions from" date becomes its adoption date: the day it began to use the
register. Every check that gates a new placement (a panel's decision, a commissioned place, the
records only the register asks for) applies from it; a placement that started before it, brought
in by the LA's administrators or an import, comes from the LA's old records and is marked so. The
date keeps its value, but never later than the day of the upgrade (an adoption date is never in
the future). No placement recorded before is marked: each was recorded under the checks of its
day, and the mark means it was brought in under this rule.

The alert for a review of an off-site direction asked for and not held is named
`review_requested`, as the register's alert list has it; stored alerts are renamed with it.

Down: the date goes back to "panel decisions from", the mark goes (plain DROP COLUMN: SQLite 3.35
or later) and the alerts take their former name.
"""

from alembic import op
import sqlalchemy as sa

from ap_register import clock


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

OLD_ALERT = 'off_site_review_requested'
NEW_ALERT = 'review_requested'


def _rename_alerts(old: str, new: str) -> None:
    op.execute(
        sa.text(
            "UPDATE alert SET kind = :new, key = :new || substr(key, :cut) WHERE kind = :old"
        ).bindparams(new=new, old=old, cut=len(old) + 1)
    )


def upgrade():
    op.add_column('local_authority', sa.Column('adopted_on', sa.Date(), nullable=True))
    op.execute(
        sa.text(
            'UPDATE local_authority SET adopted_on = CASE WHEN panel_decisions_from > :today THEN :today '
            'ELSE panel_decisions_from END'
        ).bindparams(sa.bindparam('today', clock.today(), type_=sa.Date()))
    )
    op.drop_column('local_authority', 'panel_decisions_from')
    op.add_column(
        'placement', sa.Column('from_old_records', sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    _rename_alerts(OLD_ALERT, NEW_ALERT)


def downgrade():
    _rename_alerts(NEW_ALERT, OLD_ALERT)
    op.drop_column('placement', 'from_old_records')
    op.add_column('local_authority', sa.Column('panel_decisions_from', sa.Date(), nullable=True))
    op.execute('UPDATE local_authority SET panel_decisions_from = adopted_on')
    op.drop_column('local_authority', 'adopted_on')
