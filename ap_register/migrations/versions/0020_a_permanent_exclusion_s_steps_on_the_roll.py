"""a permanent exclusion's steps on the roll, and when a Year 11 pupil's exams were over

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 02:40:00

The ledger gains the steps of a permanent exclusion (the board will not reinstate, reinstated, a
review asked for, the review over): a permanently excluded pupil now stays on the excluding
school's roll until the process ends (`placements.roll`). A permanent exclusion recorded before
this revision took the pupil off the roll on its day; so that those records keep the meaning they
were made with, each such exclusion not already followed by a removal from that school's roll on
the same day gains one, recorded by this revision and saying so (the ledger is append-only: it is
added to, never rewritten). Not where the pupil's roll changed again later that day (admitted
elsewhere): a removal after that would take them off the new school's roll.

A pupil gains the day they took (or missed) the last public examination they were entered for in
Year 11, after which the sixth-day duties do not apply (SI 2007/1870 reg 5(2)(a)).

Down: the steps and this revision's removals are deleted (the append-only triggers are lifted for
that alone), and the column goes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BEFORE = (
    'admitted', 'permanent_exclusion', 'suspension', 'removed_from_roll', 'placement_started',
    'placement_reviewed', 'placement_ended', 'placement_corrected',
)
STEPS = ('exclusion_upheld', 'reinstated', 'review_requested', 'review_concluded')
AFTER = BEFORE[:4] + STEPS + BEFORE[4:]
VIA = 'migration 0020'
REASON = (
    'Recorded before the register followed a permanent exclusion to its end: the pupil left the '
    'roll on the day of the exclusion, as recorded then'
)


def _kind(values):
    return sa.Enum(*values, name='movement_kind', native_enum=False, create_constraint=True, length=19)


def _set_kinds(values, was):
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('movement', recreate='always') as batch_op:
            batch_op.alter_column('kind', type_=_kind(values), existing_type=_kind(was), existing_nullable=False)
    else:
        op.drop_constraint(op.f('ck_movement_movement_kind'), 'movement', type_='check')
        quoted = ', '.join(f"'{v}'" for v in values)
        op.create_check_constraint(op.f('ck_movement_movement_kind'), 'movement', sa.text(f'kind IN ({quoted})'))


def _triggers():
    # 0001 defines the ledger's append-only triggers; a rebuilt SQLite table has lost them.
    from importlib import import_module

    return import_module('ap_register.migrations.versions.0001_initial_schema_the_register')


def upgrade():
    initial = _triggers()
    initial.drop_append_only_triggers()
    _set_kinds(AFTER, BEFORE)
    initial.create_append_only_triggers()
    op.execute(
        sa.text(
            "INSERT INTO movement (pupil_id, kind, date, setting_id, reason, details, recorded_via, recorded_at) "
            "SELECT e.pupil_id, 'removed_from_roll', e.date, e.setting_id, :reason, '{}', :via, CURRENT_TIMESTAMP "
            "FROM movement e WHERE e.kind = 'permanent_exclusion' AND NOT EXISTS ("
            "  SELECT 1 FROM movement r WHERE r.pupil_id = e.pupil_id AND r.kind = 'removed_from_roll' "
            "  AND r.date = e.date AND r.setting_id IS NOT DISTINCT FROM e.setting_id) "
            "AND NOT EXISTS (SELECT 1 FROM movement a WHERE a.pupil_id = e.pupil_id AND a.date = e.date "
            "  AND a.id > e.id AND a.kind IN ('admitted', 'removed_from_roll')) "
            "ORDER BY e.id"
        ).bindparams(reason=REASON, via=VIA)
        if op.get_bind().dialect.name == 'postgresql'
        else sa.text(
            "INSERT INTO movement (pupil_id, kind, date, setting_id, reason, details, recorded_via, recorded_at) "
            "SELECT e.pupil_id, 'removed_from_roll', e.date, e.setting_id, :reason, '{}', :via, CURRENT_TIMESTAMP "
            "FROM movement e WHERE e.kind = 'permanent_exclusion' AND NOT EXISTS ("
            "  SELECT 1 FROM movement r WHERE r.pupil_id = e.pupil_id AND r.kind = 'removed_from_roll' "
            "  AND r.date = e.date AND r.setting_id IS e.setting_id) "
            "AND NOT EXISTS (SELECT 1 FROM movement a WHERE a.pupil_id = e.pupil_id AND a.date = e.date "
            "  AND a.id > e.id AND a.kind IN ('admitted', 'removed_from_roll')) "
            "ORDER BY e.id"
        ).bindparams(reason=REASON, via=VIA)
    )
    op.add_column('pupil', sa.Column('exams_over_on', sa.Date(), nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35 and later): rebuilding the pupil table would trip over the
    # rows that refer to it.
    op.drop_column('pupil', 'exams_over_on')
    initial = _triggers()
    initial.drop_append_only_triggers()
    quoted = ', '.join(f"'{v}'" for v in STEPS)
    op.execute(sa.text(f"DELETE FROM movement WHERE kind IN ({quoted}) OR recorded_via = :via").bindparams(via=VIA))
    _set_kinds(BEFORE, AFTER)
    initial.create_append_only_triggers()
