"""Schools' movement profiles: a permanent exclusion counts once, however its end is recorded."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ap_register.domain.vocab import MovementKind, SettingKind
from ap_register.outcomes.profiles import movement_profiles
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.factories import SYSTEM


def test_an_exclusion_and_the_removal_that_ends_it_are_one_move_out(db: Session) -> None:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")
    excluded = factories.pupil(db, la, school, on=date(2025, 9, 3))
    excluded.date_of_birth = date(2011, 1, 10)  # Year 10 in 2025/26
    for kind, day, reason in (
        (MovementKind.PERMANENT_EXCLUSION, date(2025, 11, 27), "Assault"),
        (MovementKind.EXCLUSION_UPHELD, date(2025, 12, 11), None),
        (MovementKind.REMOVED_FROM_ROLL, date(2025, 12, 15), "The parents wrote: no review"),
    ):
        record_roll_movement(db, SYSTEM, excluded, kind, day, school, reason=reason, today=day)
    left = factories.pupil(db, la, school, on=date(2025, 9, 3))
    left.date_of_birth = date(2011, 2, 10)
    record_roll_movement(
        db,
        SYSTEM,
        left,
        MovementKind.REMOVED_FROM_ROLL,
        date(2026, 1, 12),
        school,
        reason="Home education",
        today=date(2026, 1, 12),
    )
    (profile,) = [p for p in movement_profiles(db, la, 2025).schools if p.school.id == school.id]
    assert (profile.exclusions, profile.removals, profile.older_out) == (1, 1, 2)
