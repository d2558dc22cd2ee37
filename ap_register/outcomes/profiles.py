"""Schools' movement profiles: how many pupils each mainstream school moves out (to alternative
provision, by managed move, off its roll, by permanent exclusion) and takes back, per 1,000 on
roll and by year group; schools whose Year 10 and 11 moves out stand far above the LA's rate are
flagged. A high rate is a question to ask, not a finding."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.pupils import of_compulsory_school_age, year_group
from ap_register.domain.vocab import AP_KINDS, Destination, MovementKind, Route, SettingKind
from ap_register.models import LocalAuthority, Movement, Placement, Pupil, Setting
from ap_register.outcomes.rules import wilson
from ap_register.years import AcademicYear

CAVEAT = (
    "A high rate is a question to ask, not a finding. A school may serve more children with needs "
    "that its neighbours do not, hold a resourced provision, or have arranged short, well-planned "
    "placements that return pupils quickly. Look at the pupils and the reasons before drawing a "
    "conclusion."
)
FLAG_RULE = (
    "Flagged when the school has at least 3 Year 10 and 11 moves out and, per 1,000 pupils on roll, "
    "even the lower end of their 95% interval is more than twice the LA's rate."
)
OLDER = (10, 11)


@dataclass
class Profile:
    school: Setting
    to_ap: int = 0
    managed_moves: int = 0
    removals: int = 0
    exclusions: int = 0
    returns: int = 0
    older_out: int = 0
    by_year: Counter[int] = field(default_factory=Counter)
    flagged: bool = False

    @property
    def moves_out(self) -> int:
        return self.to_ap + self.managed_moves + self.removals + self.exclusions

    def per_thousand(self, count: int) -> float | None:
        roll = self.school.pupils_on_roll
        return round(1000 * count / roll, 1) if roll else None


@dataclass
class Profiles:
    la: LocalAuthority
    year: int
    schools: list[Profile]
    la_older_rate: float | None  # Year 10 and 11 moves out per 1,000 on roll, all schools with a roll


def movement_profiles(session: Session, la: LocalAuthority, year: int) -> Profiles:
    start, end = AcademicYear(year).span
    schools = {
        s.id: Profile(s)
        for s in session.scalars(
            select(Setting).where(Setting.la_id == la.id, Setting.kind == SettingKind.MAINSTREAM).order_by(Setting.name)
        )
    }
    kinds = {s.id: s.kind for s in session.scalars(select(Setting).where(Setting.la_id == la.id))}
    pupils = {p.id: p for p in session.scalars(select(Pupil).where(Pupil.home_la_id == la.id))}

    def older(pupil_id: int, day: date) -> bool:
        pupil = pupils.get(pupil_id)
        return pupil is not None and year_group(pupil.date_of_birth, day) in OLDER

    for p in session.scalars(
        select(Placement).where(Placement.home_school_id.in_(list(schools))).order_by(Placement.id)
    ):
        profile = schools[p.home_school_id] if p.home_school_id else None
        if profile is None:
            continue
        if start <= p.start_date <= end:
            if p.route == Route.MANAGED_MOVE:
                profile.managed_moves += 1
            elif kinds.get(p.setting_id) in AP_KINDS:
                profile.to_ap += 1
                pupil = pupils.get(p.pupil_id)
                if pupil is not None:
                    profile.by_year[year_group(pupil.date_of_birth, p.start_date)] += 1
            else:
                continue
            profile.older_out += older(p.pupil_id, p.start_date)
        if p.end_date is not None and start <= p.end_date <= end and p.destination == Destination.RETURNED_HOME_SCHOOL:
            profile.returns += 1
    moves_off = session.scalars(
        select(Movement)
        .where(
            Movement.setting_id.in_(list(schools)),
            Movement.kind.in_([MovementKind.REMOVED_FROM_ROLL, MovementKind.PERMANENT_EXCLUSION]),
            Movement.date >= start,
            Movement.date <= end,
        )
        .order_by(Movement.date, Movement.id)
    ).all()
    # A permanently excluded pupil's name comes off the roll when the exclusion is over: that
    # removal is the exclusion's end, counted once, as the exclusion.
    excluded_on = {(m.pupil_id, m.setting_id): m.date for m in moves_off if m.kind == MovementKind.PERMANENT_EXCLUSION}
    for movement in moves_off:
        profile = schools[movement.setting_id]
        pupil = pupils.get(movement.pupil_id)
        if movement.kind == MovementKind.REMOVED_FROM_ROLL:
            if excluded_on.get((movement.pupil_id, movement.setting_id), date.max) <= movement.date:
                continue
            # Leaving at the end of compulsory schooling is not a move out.
            if pupil is None or not of_compulsory_school_age(pupil.date_of_birth, movement.date):
                continue
            profile.removals += 1
        else:
            profile.exclusions += 1
        profile.older_out += older(movement.pupil_id, movement.date)
    with_roll = [p for p in schools.values() if p.school.pupils_on_roll]
    roll = sum(p.school.pupils_on_roll or 0 for p in with_roll)
    la_rate = round(1000 * sum(p.older_out for p in with_roll) / roll, 1) if roll else None
    if la_rate is not None:
        for profile in with_roll:
            low, _ = wilson(profile.older_out, profile.school.pupils_on_roll or 1)
            profile.flagged = profile.older_out >= 3 and 1000 * low > 2 * la_rate
    return Profiles(la, year, list(schools.values()), la_rate)


def year_groups(profiles: Profiles) -> list[int]:
    found: set[int] = set()
    for profile in profiles.schools:
        found |= set(profile.by_year)
    return sorted(found)
