"""The register's lists: finding pupils and filtering placements. Every query here passes
through the permission scope, so a page, an export and a report all show the same records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.domain.actors import Actor
from ap_register.domain.upn import normalise
from ap_register.domain.vocab import Route, SettingKind, Tier
from ap_register.models import Placement, Pupil, Setting

STATUSES = {"active": "Active", "planned": "Planned", "ended": "Ended"}


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _within(page: int, total: int, per_page: int) -> int:
    """The page asked for, or the last one when it is past the end."""
    return max(1, min(page, max(1, -(-total // per_page))))


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = _within(page, total, per_page)
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, total, page, per_page)


def page_of(items: list[Any], page: int, per_page: int) -> Page:
    """A page of a list worked out in memory (the coverage week), as paginate pages a query."""
    page = _within(page, len(items), per_page)
    return Page(items[(page - 1) * per_page : page * per_page], len(items), page, per_page)


def pupils_query(actor: Actor, text: str = "", setting_id: int | None = None) -> Select[Pupil]:
    """Pupils matching a UPN or a name (any order of words), optionally linked to a setting."""
    stmt = select(Pupil).options(joinedload(Pupil.home_school))
    text = text.strip()
    if text:
        as_upn = normalise(text)
        if len(as_upn) == 13 and as_upn[1:4].isdigit():
            stmt = stmt.where(Pupil.upn == as_upn)
        else:
            for word in text.split():
                # % and _ are letters a person typed, not wildcards
                escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                pattern = f"%{escaped}%"
                stmt = stmt.where(
                    or_(
                        func.lower(Pupil.first_name).like(pattern, escape="\\"),
                        func.lower(Pupil.last_name).like(pattern, escape="\\"),
                    )
                )
    if setting_id is not None:
        stmt = stmt.where(
            or_(
                Pupil.home_school_id == setting_id,
                Pupil.id.in_(select(Placement.pupil_id).where(Placement.setting_id == setting_id)),
            )
        )
    return permissions.scope_pupils(actor, stmt.order_by(Pupil.last_name, Pupil.first_name, Pupil.id))


@dataclass
class PlacementFilters:
    route: Route | None = None
    tier: Tier | None = None
    setting_id: int | None = None
    status: str | None = None
    active_from: date | None = None
    active_to: date | None = None
    on: date | None = None  # the day "status" is judged on (default today)


def placements_query(actor: Actor, filters: PlacementFilters) -> Select[Placement]:
    """Placements matching the filters. `active_from`/`active_to` keep placements active on any
    day of that range; `status` is judged on `on`."""
    on = filters.on or clock.today()
    stmt = (
        select(Placement)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .options(joinedload(Placement.pupil), joinedload(Placement.setting), joinedload(Placement.home_school))
    )
    if filters.route is not None:
        stmt = stmt.where(Placement.route == filters.route)
    if filters.tier is not None:
        stmt = stmt.where(Placement.tier == filters.tier)
    if filters.setting_id is not None:
        stmt = stmt.where(
            or_(Placement.setting_id == filters.setting_id, Placement.home_school_id == filters.setting_id)
        )
    if filters.status == "planned":
        stmt = stmt.where(Placement.start_date > on)
    elif filters.status == "ended":
        stmt = stmt.where(Placement.end_date < on)
    elif filters.status == "active":
        stmt = stmt.where(Placement.start_date <= on, or_(Placement.end_date.is_(None), Placement.end_date >= on))
    if filters.active_from is not None:
        stmt = stmt.where(or_(Placement.end_date.is_(None), Placement.end_date >= filters.active_from))
    if filters.active_to is not None:
        stmt = stmt.where(Placement.start_date <= filters.active_to)
    stmt = stmt.order_by(Placement.start_date.desc(), Placement.id.desc())
    return permissions.scope_placements(actor, stmt)


def settings_query(
    actor: Actor, kind: SettingKind | None = None, text: str = "", include_closed: bool = False
) -> Select[Setting]:
    stmt = select(Setting)
    if kind is not None:
        stmt = stmt.where(Setting.kind == kind)
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        stmt = stmt.where(
            or_(func.lower(Setting.name).like(pattern), Setting.ref == text.strip(), Setting.urn == text.strip())
        )
    if not include_closed:
        stmt = stmt.where(Setting.open.is_(True))
    return permissions.scope_settings(actor, stmt.order_by(Setting.name))
