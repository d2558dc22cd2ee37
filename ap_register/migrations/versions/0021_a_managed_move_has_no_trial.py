"""a managed move has no trial: the trials recorded before are off-site directions

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 03:00:00

A managed move is a permanent transfer agreed by all parties; a period at the other school first
is an off-site direction, which may end in a managed move (suspension and permanent exclusion
guidance, in force from 26 July 2026). Every managed move still open as a trial (dual
registration) becomes an off-site direction (one that has ended stays as it was recorded: the
history of what was done then): the placement's route changes, and the ledger gains a correction
saying why (the ledger is added to, never rewritten), so the placement is still the view of its
latest movement.

Down: those corrections are deleted (the append-only triggers are lifted for that alone) and the
routes go back.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

VIA = 'migration 0021'
REASON = (
    'A managed move has no trial (suspension and permanent exclusion guidance, 2026): this period at '
    'the other school, with dual registration, is an off-site direction, which may end in a managed move'
)

placement = sa.table(
    'placement',
    sa.column('id', sa.Integer),
    sa.column('pupil_id', sa.Integer),
    sa.column('setting_id', sa.Integer),
    sa.column('route', sa.String),
    sa.column('registration', sa.String),
    sa.column('start_date', sa.Date),
    sa.column('end_date', sa.Date),
)
movement = sa.table(
    'movement',
    sa.column('id', sa.Integer),
    sa.column('pupil_id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('date', sa.Date),
    sa.column('setting_id', sa.Integer),
    sa.column('placement_id', sa.Integer),
    sa.column('reason', sa.Text),
    sa.column('details', sa.JSON),
    sa.column('recorded_via', sa.String),
    sa.column('recorded_at', sa.DateTime(timezone=True)),
)


def _triggers():
    from importlib import import_module

    return import_module('ap_register.migrations.versions.0001_initial_schema_the_register')


def upgrade():
    bind = op.get_bind()
    trials = bind.execute(
        sa.select(placement.c.id, placement.c.pupil_id, placement.c.setting_id, placement.c.start_date)
        .where(
            placement.c.route == 'managed_move',
            placement.c.registration == 'dual',
            placement.c.end_date.is_(None),
        )
        .order_by(placement.c.id)
    ).all()
    now = datetime.now(timezone.utc)
    for trial in trials:
        latest = bind.execute(
            sa.select(movement.c.details)
            .where(movement.c.placement_id == trial.id)
            .order_by(movement.c.id.desc())
            .limit(1)
        ).scalar()
        details = {**(latest or {}), 'route': 'off_site_direction'}
        bind.execute(placement.update().where(placement.c.id == trial.id).values(route='off_site_direction'))
        bind.execute(
            movement.insert().values(
                pupil_id=trial.pupil_id,
                kind='placement_corrected',
                date=trial.start_date,
                setting_id=trial.setting_id,
                placement_id=trial.id,
                reason=REASON,
                details=details,
                recorded_via=VIA,
                recorded_at=now,
            )
        )


def downgrade():
    bind = op.get_bind()
    converted = bind.execute(sa.select(movement.c.placement_id).where(movement.c.recorded_via == VIA)).scalars().all()
    initial = _triggers()
    initial.drop_append_only_triggers()
    bind.execute(movement.delete().where(movement.c.recorded_via == VIA))
    initial.create_append_only_triggers()
    if converted:
        bind.execute(placement.update().where(placement.c.id.in_(converted)).values(route='managed_move'))
