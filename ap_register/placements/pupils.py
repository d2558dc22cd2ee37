"""Adding and changing a child's own details (names, date of birth, SEN, flags): the one place
that does it, whatever the channel (today the pupils import).

A record is changed only by those who hold it: an LA's administrators change the children of
their own LA. A child held by another LA is never changed, nor moved across, by anything here:
a move between LAs is a transfer (placements/transfers.py) that the receiving LA asks for and the
holding LA releases. The refusal for a UPN held elsewhere says nothing of the child (not which
LA holds them, nor their name), and each such attempt is audited for the holding LA to see.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.casework import contacts
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import Writer, among
from ap_register.domain.errors import DomainError, FieldError
from ap_register.domain.notifications import notify
from ap_register.domain.vocab import MovementKind, Role, SenStatus
from ap_register.models import Contact, LocalAuthority, Pupil, User
from ap_register.models.base import utcnow

# The one answer for a UPN the actor may not add or change, whether or not anyone holds it.
NOT_YOURS = (
    "This UPN cannot be added or changed by your local authority. If the child has moved to your "
    "area, ask for their record under Administration > Transfers of a child's record"
)


@dataclass(frozen=True)
class PupilDetails:
    """A child's details as a person (or a file) gives them."""

    upn: str
    first_name: str
    last_name: str
    date_of_birth: date
    sen_status: SenStatus = SenStatus.NONE
    primary_need: str | None = None
    child_in_need: bool = False
    looked_after: bool = False
    ehc_assessment_requested: bool = False
    # Year 11: the day of the last public examination they were entered for (SI 2007/1870 reg 5(2)(a)).
    exams_over_on: date | None = None
    # Where the child lives, and each parent the file names (name, address): kept as the child's
    # contacts (casework/contacts.py), added or given their address, never removed by a file.
    home_address: str | None = None
    home_postcode: str | None = None
    parents: list[tuple[str, str | None]] | None = None
    # What the AP census asks (`vocab.SEXES`, `vocab.ETHNICITIES`).
    sex: str | None = None
    ethnicity: str | None = None
    fsm_start: date | None = None
    fsm_end: date | None = None
    uprn: str | None = None
    # Fields not given, which keep what is held (a file without those columns).
    kept: frozenset[str] = frozenset()

    def values(self) -> dict[str, Any]:
        """The pupil's own fields the details give (the parents are contacts, not fields)."""
        skipped = {"upn", "kept", "parents"} | self.kept
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skipped}

    @property
    def parents_given(self) -> list[tuple[str, str | None]]:
        return [] if "parents" in self.kept else list(self.parents or [])


CONTACT_FIELDS = frozenset({"home_address", "home_postcode", "parents"})
CONTACT_COLUMNS = tuple(column.name for column in Contact.__table__.columns if column.name != "id")
CENSUS_FIELDS = frozenset({"sex", "ethnicity", "fsm_start", "fsm_end", "uprn"})


def _shown(value: Any) -> Any:
    """A value as the audit trail keeps it (JSON): dates as ISO text, enums as their value."""
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


# What the trail says in place of a census field's values: ethnicity is special category data and
# the UPRN pins down a home, so the trail keeps that they changed, not what to (the record itself
# is anonymised in time; the trail is never rewritten).
WITHHELD = "not kept in the audit trail"


def _change(name: str, old: Any, new: Any) -> dict[str, Any]:
    if name in CENSUS_FIELDS:
        return {"old": WITHHELD, "new": WITHHELD}
    return {"old": _shown(old), "new": _shown(new)}


@dataclass
class NewPupils:
    """Children an import adds, kept to be written together: each was checked by `save_pupil`
    (and their admission by `admit_new_pupil`) as it was added, and `write` puts a chunk's in
    with one statement a table (the pupils, their admissions, each child's audit event) instead
    of one a child. Nothing here decides: it only holds what the rules let through."""

    actor: Actor
    rows: list[dict[str, Any]] = field(default_factory=list)
    # UPN -> (the day, the school, the reason) of the admission that sets their roll.
    admissions: dict[str, tuple[date, int, str]] = field(default_factory=dict)
    # UPN -> the parents the file names (name, address), kept as the child's contacts.
    parents: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)

    def add(self, la: LocalAuthority, details: PupilDetails) -> None:
        values = {name: None for name in (CONTACT_FIELDS - {"parents"}) | CENSUS_FIELDS} | details.values()
        self.rows.append({"upn": details.upn, "home_la_id": la.id, "home_school_id": None, **values})
        if details.parents_given:
            seen: set[str] = set()
            for name, address in details.parents_given:  # a name given twice is one parent
                if name.casefold() not in seen:
                    seen.add(name.casefold())
                    self.parents.setdefault(details.upn, []).append((name, address))

    def admit(self, upn: str, day: date, setting_id: int, reason: str) -> None:
        self.admissions[upn] = (day, setting_id, reason)

    def write(self, session: Session) -> dict[str, int]:
        """Write what was added since the last write, a table at a time (COPY on PostgreSQL);
        each child's id by UPN."""
        rows, admissions, parents = self.rows, self.admissions, self.parents
        self.rows, self.admissions, self.parents = [], {}, {}
        if not rows:
            return {}
        writer = Writer(session.connection())
        ids = dict(zip((row["upn"] for row in rows), writer.take_ids("pupil", len(rows)), strict=True))
        now = utcnow()
        for row in rows:
            row.update(id=ids[row["upn"]], created_at=now, updated_at=now, anonymised_on=None)
            if row["upn"] in admissions:
                row["home_school_id"] = admissions[row["upn"]][1]
        writer.write("pupil", PUPIL_COLUMNS, ([_stored(row[name]) for name in PUPIL_COLUMNS] for row in rows))
        parent_rows = [
            {
                "pupil_id": ids[upn],
                "role": "parent_carer",
                "name": name,
                "relation": "not_known",
                "address": address,
                "audience": "la",  # the LA's file gave it: sharing it with the school is an officer's choice
            }
            for upn, named in parents.items()
            for name, address in named
        ]
        if parent_rows:
            writer.write(
                "pupil_contact",
                CONTACT_COLUMNS,
                (
                    [row.get(name, now if name in ("added_at", "changed_at") else None) for name in CONTACT_COLUMNS]
                    for row in parent_rows
                ),
            )
        # Read before the writes start: a signed-in actor's attributes may load from the
        # database, which cannot answer on a connection in the middle of a COPY.
        user_id, via = self.actor.user_id, self.actor.via
        writer.write(
            "movement",
            MOVEMENT_COLUMNS,
            (
                (
                    ids[upn],
                    MovementKind.ADMITTED.value,
                    day,
                    setting_id,
                    reason,
                    "{}",
                    user_id,
                    via,
                    now,
                )
                for upn, (day, setting_id, reason) in admissions.items()
            ),
        )
        audit.record_many(
            session,
            self.actor,
            "import",
            "pupil",
            {pupil_id: {} for pupil_id in ids.values()},
            object_ids={pupil_id: upn for upn, pupil_id in ids.items()},
        )
        return ids


PUPIL_COLUMNS = tuple(column.name for column in Pupil.__table__.columns)
MOVEMENT_COLUMNS = (
    "pupil_id",
    "kind",
    "date",
    "setting_id",
    "reason",
    "details",
    "recorded_by_id",
    "recorded_via",
    "recorded_at",
)


def _stored(value: Any) -> Any:
    """A value as the database keeps it (a choice as its code: the driver would write an enum's
    name)."""
    return value.value if isinstance(value, Enum) else value


class HeldElsewhere(DomainError):
    """A UPN another LA holds. `pupil_id` is for the audit trail of the holding LA only (the
    caller records the attempt once its own work is rolled back); it is never shown."""

    def __init__(self, pupil_id: int, message: str):
        super().__init__("The pupil was not saved", [FieldError("upn", message)])
        self.pupil_id = pupil_id


# UPN -> (the pupil's id, their home LA's id): the holders of many UPNs, read at once.
Holders = Mapping[str, tuple[int, int]]


def holders_of(session: Session, upns: Collection[str]) -> dict[str, tuple[int, int]]:
    """Who holds each of these UPNs, in one query (an import reads a chunk's at once): for
    `save_pupil`'s refusal only, never shown."""
    if not upns:
        return {}
    found = session.execute(
        select(Pupil.upn, Pupil.id, Pupil.home_la_id)
        .where(among(session, Pupil.upn, sorted(upns)))
        .execution_options(autoflush=False)
    )
    return {upn: (pupil_id, la_id) for upn, pupil_id, la_id in found}


def held_elsewhere(session: Session, upn: str, la: LocalAuthority, holders: Holders | None = None) -> int | None:
    """The id of another LA's child with this UPN, if there is one (for the refusal only).
    `holders`: what `holders_of` read for a set of UPNs that includes this one."""
    if holders is not None:
        pupil_id, la_id = holders.get(upn, (None, la.id))
        return pupil_id if la_id != la.id else None
    return session.scalar(select(Pupil.id).where(Pupil.upn == upn, Pupil.home_la_id != la.id))


def _refusal(actor: Actor, why: str) -> str:
    """The refusal's words: an operator (the CLI) is told why; a person of an LA gets the one
    answer that is the same whoever holds the UPN."""
    return f"This UPN {why}: a move between LAs is a transfer" if actor.is_system else NOT_YOURS


def record_refused_attempts(session: Session, actor: Actor, la: LocalAuthority, pupil_ids: list[int]) -> None:
    """Audit, against each child, that an LA tried to add them although another LA holds them,
    and tell the holding LA's administrators in their inbox (so that trying UPNs is seen, and a
    family's move is noticed). Called after the refused work was rolled back, so that the record
    of the attempt is kept."""
    held = session.execute(select(Pupil.home_la_id, Pupil.upn).where(Pupil.id.in_(pupil_ids))).all()
    by_la: dict[int, list[str]] = {}
    for home_la_id, upn in held:
        by_la.setdefault(home_la_id, []).append(upn)
    for home_la_id, upns in by_la.items():
        admins = session.scalars(
            select(User).where(User.la_id == home_la_id, User.role == Role.LA_ADMIN, User.active.is_(True))
        )
        shown = ", ".join(sorted(upns)[:20]) + (f" and {len(upns) - 20} more" if len(upns) > 20 else "")
        notify(
            session,
            admins,
            kind="import_named_your_pupils",
            subject=f"A pupils file from {la.name} named {len(upns)} of your children",
            body=(
                f"{la.name} tried to import {len(upns)} UPN{'s' if len(upns) != 1 else ''} your local authority "
                f"holds: {shown}. Nothing was changed. If a family moved there, {la.name} can ask you for the "
                "child's record; if you did not expect this, tell your data protection officer."
            ),
            link="/admin/transfers",
        )
    for pupil_id in pupil_ids:
        audit.record(
            session,
            actor,
            "refused_import",
            "pupil",
            pupil_id,
            pupil_id=pupil_id,
            detail={"by_la": la.code, "reason": "a pupils file named a child another LA holds"},
        )


def save_pupil(
    session: Session,
    actor: Actor,
    la: LocalAuthority,
    details: PupilDetails,
    *,
    existing: Pupil | None,
    holders: Holders | None = None,
    into: NewPupils | None = None,
) -> tuple[str, Pupil | None]:
    """Add a child to this LA, or change the details of one it holds. `existing` is the child
    with this UPN as the caller found them within the actor's scope (None for a new child);
    `holders`, who holds the UPN, when the caller read it for many children at once.
    Returns ("added" | "updated" | "unchanged", the pupil); a child added `into` a NewPupils
    is written with the rest of its chunk (no Pupil yet: None). An update is audited with every
    field's old and new value, so a wrong one can be put right from the audit trail."""
    user = actor.user
    if user is not None and not permissions.role_allows(user, "pupil.edit"):
        raise DomainError("Your role cannot add or change pupils' details", [FieldError("upn", NOT_YOURS)])
    if user is not None and user.la_id != la.id:
        raise DomainError("The pupil was not saved", [FieldError("upn", NOT_YOURS)])
    if existing is None:
        holder = held_elsewhere(session, details.upn, la, holders)
        if holder is not None:
            raise HeldElsewhere(holder, _refusal(actor, "is held by another local authority"))
        if into is not None:
            into.add(la, details)
            return "added", None
        pupil = Pupil(upn=details.upn, home_la_id=la.id, **details.values())
        session.add(pupil)
        audit.record(session, actor, "import", "pupil", details.upn, pupil=pupil)
        if details.parents_given:
            session.flush()
            contacts.record_parents(session, actor, pupil, details.parents_given)
        return "added", pupil
    if existing.home_la_id != la.id:
        raise DomainError("The pupil was not saved", [FieldError("upn", _refusal(actor, "is held by another LA"))])
    if not permissions.can(session, actor, "pupil.edit", existing):
        raise DomainError("The pupil was not saved", [FieldError("upn", NOT_YOURS)])
    changes = {
        name: _change(name, getattr(existing, name), value)
        for name, value in details.values().items()
        if getattr(existing, name) != value
    }
    parents_changed = bool(details.parents_given) and contacts.record_parents(
        session, actor, existing, details.parents_given
    )
    if not changes:
        return ("updated" if parents_changed else "unchanged"), existing
    for name, value in details.values().items():
        setattr(existing, name, value)
    audit.record(
        session,
        actor,
        "update",
        "pupil",
        existing.id,
        pupil_id=existing.id,
        detail={"fields": sorted(changes), "changes": changes},
    )
    return "updated", existing
