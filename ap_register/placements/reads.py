"""What the placement rules read from the register, asked in one place.

Recording a placement reads: the child (through the actor's scope), whether the setting is in the
actor's area, the child's ledger held for the transaction, the child's placements (a repeat of one
already recorded, overlapping sessions, what a move replaces), the child's roll as the ledger says,
the LA's budget plan with the provider's line and the places in use on the day, and the provider's
heads to tell. `Reads` asks the database each question as it comes: a page or the API, one child at
a time. `ChunkReads` answers the same questions for the children of one chunk of an import from
reads made once for the chunk, and keeps its answers current as the chunk's rows are recorded, so a
row is checked against the rows before it exactly as if each had been recorded on its own (a file
recorded a row at a time gives the same records and the same report, line for line:
tests/unit/test_import_chunks.py). The rules themselves are in `placements.rules` and
`budgets.rules`, whichever reads they are given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import inspect, or_, select, update
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import Writer, among
from ap_register.domain.vocab import Role, Tier
from ap_register.models import BudgetLine, BudgetPlan, LocalAuthority, Placement, Pupil, Setting, User
from ap_register.placements.roll import RollReading, read_roll, roll_movements


def plan_covering(session: Session, la: LocalAuthority, year: int) -> BudgetPlan | None:
    """The LA's agreed plan covering the financial year that starts in `year`, if any."""
    return session.scalar(
        select(BudgetPlan).where(
            BudgetPlan.la_id == la.id,
            BudgetPlan.agreed_at.is_not(None),
            BudgetPlan.first_year <= year,
            BudgetPlan.first_year + BudgetPlan.years - 1 >= year,
        )
    )


def line_of(session: Session, plan: BudgetPlan, year: int, provider_id: int, tier: Tier) -> BudgetLine | None:
    return session.scalars(
        select(BudgetLine).where(
            BudgetLine.plan_id == plan.id,
            BudgetLine.year == year,
            BudgetLine.provider_id == provider_id,
            BudgetLine.place_type == tier.value,
        )
    ).first()


def claim_line(session: Session, line: BudgetLine) -> None:
    """Claim a plan's line before counting its places: a write that changes nothing takes its row
    lock on PostgreSQL (a second booking waits, then counts this one) and the database's write lock
    on SQLite (a second booking is refused, and can be tried again). Raises OperationalError when
    SQLite's lock cannot be had."""
    session.execute(update(BudgetLine).where(BudgetLine.id == line.id).values(commissioned=BudgetLine.commissioned))


def places_in_use(session: Session, provider_id: int, tier: Tier, since: date) -> list[tuple[date, date | None, str]]:
    """The start, end and sessions of the provider's placements of a tier that use a commissioned
    place (spot purchases are paid from the reserve) and are open on `since` or after it."""
    return [
        (start, end, sessions)
        for start, end, sessions in session.execute(
            select(Placement.start_date, Placement.end_date, Placement.sessions).where(
                Placement.setting_id == provider_id,
                Placement.tier == tier,
                Placement.spot_purchase.is_(False),
                or_(Placement.end_date.is_(None), Placement.end_date >= since),
            )
        )
    ]


def ap_heads(session: Session, setting_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active heads of each setting."""
    found: dict[int, list[User]] = defaultdict(list)
    ids = sorted(set(setting_ids))
    if ids:
        for user in session.scalars(
            select(User).where(among(session, User.setting_id, ids), User.role == Role.AP_HEAD, User.active.is_(True))
        ):
            assert user.setting_id is not None
            found[user.setting_id].append(user)
    return found


def hold_ledgers(session: Session, pupils: Sequence[Pupil]) -> None:
    """Hold the pupils' ledgers for the rest of the transaction, then see each one's roll as it
    is now, not as first loaded.

    PostgreSQL: the pupils' row locks (SELECT ... FOR UPDATE); a second write for the same pupil
    waits here until the first commits, then sees what it wrote. SQLite: every transaction takes
    the database's write lock with its first statement (BEGIN IMMEDIATE, see extensions.py), so
    writes are already one at a time and FOR UPDATE is not sent. Pending changes are flushed
    first (the query autoflushes), so reading again loses none of the caller's own."""
    held = {p.id: p for p in pupils}
    ids = sorted(held)
    chosen = Pupil.id == ids[0] if len(ids) == 1 else among(session, Pupil.id, ids)
    for pupil_id, home_school_id in session.execute(
        select(Pupil.id, Pupil.home_school_id).where(chosen).with_for_update()
    ):
        pupil = held[pupil_id]
        if pupil.home_school_id != home_school_id:  # another request moved the pupil meanwhile
            session.refresh(pupil, ["home_school_id", "home_school"])


class Reads:
    """The register's answers, each asked of the database when the rules ask it; and how the
    rules write: each record at once, inside a savepoint of its own."""

    # Whether each write goes to the database at once (and a use case's writes are inside a
    # savepoint, so that a refusal leaves nothing even when the caller goes on).
    one_at_a_time = True

    def __init__(self, session: Session) -> None:
        self.session = session

    def placement_id(self) -> int | None:
        """The id of a new placement, before it is written (None: its INSERT gives it)."""
        return None

    def pupil(self, actor: Actor, pupil_id: int) -> Pupil:
        """The child, if the actor may see them; NotFound otherwise (`permissions.get_pupil`)."""
        return permissions.get_pupil(self.session, actor, pupil_id)

    def setting_visible(self, actor: Actor, setting_id: int) -> bool:
        return (
            self.session.scalar(permissions.scope_settings(actor, select(Setting.id).where(Setting.id == setting_id)))
            is not None
        )

    def hold(self, pupil: Pupil) -> None:
        hold_ledgers(self.session, [pupil])

    def placements(self, pupil: Pupil) -> list[Placement]:
        """Every placement of the child, ended ones too, by start."""
        if pupil.id is None:
            return []
        return list(
            self.session.scalars(
                select(Placement).where(Placement.pupil_id == pupil.id).order_by(Placement.start_date, Placement.id)
            )
        )

    def reading(self, pupil: Pupil) -> RollReading:
        if pupil.id is None:
            return RollReading()
        return read_roll(roll_movements(self.session, [pupil.id]).get(pupil.id, []))

    def plan(self, la: LocalAuthority, year: int) -> BudgetPlan | None:
        return plan_covering(self.session, la, year)

    def line(self, plan: BudgetPlan, year: int, provider_id: int, tier: Tier) -> BudgetLine | None:
        return line_of(self.session, plan, year, provider_id, tier)

    def claim(self, line: BudgetLine) -> None:
        claim_line(self.session, line)

    def places(self, provider_id: int, tier: Tier, day: date) -> list[tuple[date, date | None, str]]:
        """What `budgets.rules.occupancy` counts on `day` (start, end, sessions of each)."""
        return places_in_use(self.session, provider_id, tier, day)

    def heads(self, setting_id: int) -> list[User]:
        return ap_heads(self.session, [setting_id]).get(setting_id, [])

    def added(self, placement: Placement) -> None:
        """A placement was recorded (a chunk's answers count it from now on)."""

    def forget(self, pupil: Pupil) -> None:
        """Something else changed the child's ledger, or a refused row's writes were undone:
        answers about them are read again."""


class ChunkReads(Reads):
    """The answers for a chunk of an import's children, read once and kept current.

    Made by the import for the children its chunk names (already found through the actor's scope):
    their ledgers are held at once (`hold_ledgers`), their placements and roll read in one query
    each. A plan's line is claimed once a chunk, and the places in use at a provider read once
    and counted on as rows are recorded.
    An end, a move onto another roll (which may replace placements) or a refused row makes the
    chunk `forget` the child, whose answers are then read again, and the places and claims with
    them.

    Its writes wait for the end of the chunk (or the next read), and go together: a new
    placement's id is taken first (`bulk.Writer.take_ids`: the table's sequence on PostgreSQL;
    on SQLite the next after the highest, as the import holds the database's one write lock and
    records every placement of its transaction through its chunks). An import needs no savepoint
    a row: a row is refused before anything of it is written (`rules.start_placement` checks,
    then writes), and a refused row refuses the whole file."""

    one_at_a_time = False

    def __init__(self, session: Session, actor: Actor, pupils: Iterable[Pupil]) -> None:
        super().__init__(session)
        self.actor = actor
        self.pupils = {p.id: p for p in pupils}
        ids = sorted(self.pupils)
        self._placements: dict[int, list[Placement]] = {i: [] for i in ids}
        self._readings: dict[int, RollReading] = {}
        self._visible: dict[int, bool] = {}
        self._plans: dict[tuple[int, int], BudgetPlan | None] = {}
        self._lines: dict[tuple[int, int, int, str], BudgetLine | None] = {}
        self._claimed: set[int] = set()
        self._places: dict[tuple[int, str], tuple[date, list[tuple[date, date | None, str]]]] = {}
        self._heads: dict[int, list[User]] = {}
        self._ids: list[int] = []
        if not ids:
            return
        hold_ledgers(session, list(self.pupils.values()))
        theirs = select(Placement).where(among(session, Placement.pupil_id, ids))
        for placement in session.scalars(theirs.order_by(Placement.start_date, Placement.id)):
            self._placements[placement.pupil_id].append(placement)
        histories = roll_movements(session, ids)
        self._readings = {i: read_roll(histories.get(i, [])) for i in ids}

    def placement_id(self) -> int | None:
        if not self._ids:
            self.session.flush()  # on SQLite the next id is read from what is written
            self._ids = Writer(self.session.connection()).take_ids("placement", 500)[::-1]
        return self._ids.pop()

    def _mine(self, pupil: Pupil) -> bool:
        return pupil.id in self.pupils and pupil.id in self._readings

    def pupil(self, actor: Actor, pupil_id: int) -> Pupil:
        if actor is not self.actor or pupil_id not in self.pupils:
            return super().pupil(actor, pupil_id)
        return self.pupils[pupil_id]

    def setting_visible(self, actor: Actor, setting_id: int) -> bool:
        if actor is not self.actor:
            return super().setting_visible(actor, setting_id)
        if setting_id not in self._visible:
            self._visible[setting_id] = super().setting_visible(actor, setting_id)
        return self._visible[setting_id]

    def hold(self, pupil: Pupil) -> None:
        if not self._mine(pupil):
            super().hold(pupil)

    def placements(self, pupil: Pupil) -> list[Placement]:
        if not self._mine(pupil):
            return super().placements(pupil)
        found = self._placements[pupil.id]
        if any(inspect(p).pending for p in found):
            # One recorded earlier in the chunk, not yet written: written now, so that the rules
            # see it as they would a row at a time (its setting and pupil loaded with it).
            self.session.flush()
        return list(found)

    def reading(self, pupil: Pupil) -> RollReading:
        if not self._mine(pupil):
            return super().reading(pupil)
        return self._readings[pupil.id]

    def plan(self, la: LocalAuthority, year: int) -> BudgetPlan | None:
        if (la.id, year) not in self._plans:
            self._plans[(la.id, year)] = super().plan(la, year)
        return self._plans[(la.id, year)]

    def line(self, plan: BudgetPlan, year: int, provider_id: int, tier: Tier) -> BudgetLine | None:
        key = (plan.id, year, provider_id, tier.value)
        if key not in self._lines:
            self._lines[key] = super().line(plan, year, provider_id, tier)
        return self._lines[key]

    def claim(self, line: BudgetLine) -> None:
        if line.id not in self._claimed:
            super().claim(line)
            self._claimed.add(line.id)
            # The places in use are counted under this line's claim, not another's (a line is a
            # year's: bookings of this year may have been committed since another was claimed).
            if line.provider_id is not None:
                self._places.pop((line.provider_id, line.place_type), None)

    def places(self, provider_id: int, tier: Tier, day: date) -> list[tuple[date, date | None, str]]:
        key = (provider_id, tier.value)
        kept = self._places.get(key)
        if kept is None or day < kept[0]:
            kept = self._places[key] = (day, super().places(provider_id, tier, day))
        return kept[1]

    def heads(self, setting_id: int) -> list[User]:
        if setting_id not in self._heads:
            self._heads[setting_id] = super().heads(setting_id)
        return self._heads[setting_id]

    def added(self, placement: Placement) -> None:
        if placement.pupil_id in self._placements and placement.pupil_id in self._readings:
            self._placements[placement.pupil_id].append(placement)
            self._placements[placement.pupil_id].sort(key=lambda p: (p.start_date, p.id or 0))
        if placement.tier is not None and not placement.spot_purchase:
            kept = self._places.get((placement.setting_id, placement.tier.value))
            if kept is not None:
                kept[1].append((placement.start_date, placement.end_date, placement.sessions))

    def forget(self, pupil: Pupil) -> None:
        self._readings.pop(pupil.id, None)
        self._places.clear()  # an end or a replaced placement changes the places in use
        # A refused row's savepoint, rolled back, lets go of the lines it claimed (PostgreSQL).
        self._claimed.clear()
