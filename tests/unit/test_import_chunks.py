"""A placements file checked a chunk at a time (`placements.reads.ChunkReads`) gives exactly what
the same file gives a row at a time: the same placements, movements, audit events and notices to
the providers' heads, and the same report, line for line, refused or not. The file crosses its
chunks with the same child, repeats a row, fills a provider's commissioned places, ends a
placement and moves a child onto another school's roll, replacing what was arranged before."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.budgets.rules import agree_plan, create_plan, set_line
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.imports import ImportRefused, PlacementsImporter, run_import
from ap_register.domain.vocab import Registration, Role, Route, SettingKind, Tier
from ap_register.models import AuditEvent, Movement, Notification, Placement, Pupil, Setting
from ap_register.placements.reads import ChunkReads
from ap_register.placements.rules import PlacementDraft, start_placement
from tests import factories
from tests.factories import SYSTEM

TODAY = date(2025, 11, 7)
HEADER = (
    "upn,setting_ref,route,registration,start_date,sessions,tier,notice_date,planned_end_date,reintegration_plan,"
    "end_date,destination\n"
)
PLAN = "2026-02-13,Mornings back at school from week four"


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH1")
    factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH2")
    pru = factories.setting(db, la, SettingKind.PRU, ref="PRU1", name="The Oaks")
    other = factories.setting(db, la, SettingKind.PRU, ref="PRU2", name="Brook House")
    factories.user(db, Role.AP_HEAD, pru)  # told of each pupil placed with The Oaks
    commissioner = Actor(user=factories.user(db, Role.COMMISSIONER, la), via="test")
    plan = create_plan(db, commissioner, la, name="AP budget", first_year=2025, years=3, demand_policy="The reserve")
    for year in (2025, 2026, 2027):
        for provider, places in ((pru, 2), (other, 10)):
            set_line(
                db,
                commissioner,
                plan,
                year=year,
                provider=provider,
                place_type="time_limited",
                commissioned=Decimal(places),
                unit_cost=Decimal(18000),
            )
        set_line(
            db, commissioner, plan, year=year, place_type="reserve", commissioned=Decimal(5000), unit_cost=Decimal(1)
        )
    agree_plan(db, commissioner, plan)
    pupils = [factories.pupil(db, la, school) for _ in range(6)]
    # Two children already at Brook House: one of them will move to another school's roll.
    for child in (pupils[0], pupils[5]):
        factories.placement(db, child, other, start=date(2025, 11, 3), sessions="0000011111")
    db.flush()
    return {"la": la, "upns": [p.upn for p in pupils]}


def direction(upn: str, start: str, sessions: str, where: str = "PRU1", end: str = ",") -> str:
    return f"{upn},{where},off_site_direction,dual,{start},{sessions},time_limited,2025-11-04,{PLAN},{end}\n"


def good_file(upns: list[str]) -> str:
    """Nine rows; in chunks of three, a child's rows fall in different chunks."""
    return HEADER + "".join(
        [
            direction(upns[0], "2025-11-10", "1111100000"),  # overlaps nothing at Brook House (afternoons)
            direction(upns[1], "2025-11-10", "0000011111"),
            direction(upns[1], "2025-11-10", "0000011111"),  # the same again: unchanged
            direction(upns[2], "2025-11-10", "1111110000"),  # 0.6 of a place: 1.6 of 2 in use
            direction(upns[0], "2025-11-10", "1111100000", end="2025-11-21,returned_home_school"),
            f"{upns[5]},SCH2,managed_move,sole,2025-11-17,1111111111,,,,,,\n",  # replaces Brook House
            direction(upns[5], "2025-11-24", "0000000011"),  # now SCH2's pupil: 1.3 of 2 in use
            direction(upns[3], "2025-11-24", "0000000011", where="PRU2"),
            direction(upns[1], "2025-11-24", "0000011111", where="PRU2"),  # overlaps The Oaks
        ]
    )


def refused_file(upns: list[str]) -> str:
    """A file that fills The Oaks, then asks for more, with bad rows in other chunks."""
    return HEADER + "".join(
        [
            direction(upns[0], "2025-11-10", "1111111111"),
            direction(upns[1], "2025-11-10", "1111111111"),  # 2 of 2 in use
            direction(upns[2], "2025-11-10", "0000000011"),  # no free place
            direction(upns[3], "2025-11-10", "1111111111", where="NOPE"),
            direction(upns[0], "2025-11-10", "1111111111", end="2025-11-14,returned_home_school"),
            direction(upns[2], "2025-11-17", "0000000011"),  # a place is free from the 15th
            direction(upns[4], "2025-11-10", "0000000011"),  # still none on the 10th
        ]
    )


def outcome(db: Session) -> dict[str, Any]:
    """What a file left, by what it is about rather than by ids (sequences differ between runs)."""
    refs = {s.id: s.ref for s in db.scalars(select(Setting))}
    placements = {p.id: p for p in db.scalars(select(Placement))}

    def key(p: Placement) -> tuple[Any, ...]:
        return (p.pupil.upn, refs[p.setting_id], p.route.value, p.start_date)

    return {
        "placements": sorted(
            (
                *key(p),
                p.registration.value,
                refs.get(p.home_school_id or 0),
                p.home_school_code,
                p.end_date,
                p.destination,
                p.end_reason,
                p.next_review_date,
                p.sessions,
            )
            for p in placements.values()
        ),
        "movements": Counter(
            (
                m.pupil.upn,
                m.kind.value,
                m.date,
                refs.get(m.setting_id or 0),
                key(placements[m.placement_id]) if m.placement_id else None,
                m.reason,
                tuple(sorted((k, str(v)) for k, v in m.details.items() if k != "placement_id")),
            )
            for m in db.scalars(select(Movement))
        ),
        "audit": Counter((e.action, e.object_type, e.pupil_id) for e in db.scalars(select(AuditEvent))),
        "notices": Counter((n.user_id, n.subject, n.pupil_id) for n in db.scalars(select(Notification))),
    }


def run(db: Session, la: Any, text: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The file imported with reads a `chunk` of rows at a time (0: a row at a time), and undone."""
    monkeypatch.setattr(PlacementsImporter, "read_ahead_rows", chunk)
    undo = db.begin_nested()
    try:
        with clock.fixed(TODAY):
            try:
                report = run_import(db, SYSTEM, "placements", io.BytesIO(text.encode()), la=la)
            except ImportRefused as refusal:
                report = refusal.report
        return report.as_json(), outcome(db)
    finally:
        undo.rollback()
        db.expire_all()


def test_a_file_in_chunks_records_what_it_records_a_row_at_a_time(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = good_file(area["upns"])
    one_by_one = run(db, area["la"], text, 0, monkeypatch)
    report, records = one_by_one
    assert report["errors"] == []
    assert (report["imported"], report["updated"], report["unchanged"]) == (7, 1, 1)
    assert any("Overlaps The Oaks" in w["message"] for w in report["warnings"])
    for chunk in (3, 4, 500):
        assert run(db, area["la"], text, chunk, monkeypatch) == one_by_one, f"chunks of {chunk}"


def test_a_refused_file_in_chunks_names_the_same_lines_as_a_row_at_a_time(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = refused_file(area["upns"])
    report, _ = one_by_one = run(db, area["la"], text, 0, monkeypatch)
    full = "No free commissioned time-limited place at The Oaks on 10 November 2025 (2 of 2 in use)"
    assert [(e["line"], e["message"][: len(full)]) for e in report["errors"]] == [
        (4, full),
        (5, "No setting with reference NOPE in Leicestershire"),
        (8, full),  # line 7 takes the place line 6 frees from the 15th
    ]
    for chunk in (2, 3, 500):
        assert run(db, area["la"], text, chunk, monkeypatch) == one_by_one, f"chunks of {chunk}"


def managed_move(upn: str) -> str:
    return f"{upn},SCH2,managed_move,sole,2025-11-17,1111111111,,,,,,\n"


@pytest.mark.parametrize(
    "rows",
    [
        # A child placed earlier in the chunk, then moved onto another roll: the move replaces a
        # placement the chunk has recorded but not yet written.
        lambda u: [
            managed_move(u[1]),
            direction(u[2], "2025-11-10", "0000000011"),
            direction(u[0], "2025-11-10", "1111100000"),
            managed_move(u[0]),
        ],
        # The same, overlapping sessions at another provider.
        lambda u: [
            direction(u[1], "2025-11-10", "0000000011", where="PRU2"),
            direction(u[2], "2025-11-10", "0000000011"),
            direction(u[0], "2025-11-10", "1111100000"),
            direction(u[0], "2025-11-10", "1111100000", where="PRU2"),
        ],
    ],
    ids=["move", "overlap"],
)
def test_a_child_named_again_in_the_chunk_meets_what_the_chunk_recorded(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch, rows: Any
) -> None:
    text = HEADER + "".join(rows(area["upns"]))
    one_by_one = run(db, area["la"], text, 0, monkeypatch)
    assert one_by_one[0]["errors"] == []
    assert one_by_one[0]["warnings"], "the move replaces, or the sessions overlap, what the file recorded first"
    assert run(db, area["la"], text, 500, monkeypatch) == one_by_one


def test_a_row_undone_by_its_refused_census_reason_leaves_nothing_counted(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An off-site direction's census reason is the route's own: another is refused after the
    placement is written, and the row's savepoint undoes it. The rows after it count no place
    for it, and the same row again, without the reason, is recorded, not "already recorded"."""
    u = area["upns"]
    text = HEADER.replace("destination\n", "destination,census_reason\n") + "".join(
        line.replace("\n", f",{census}\n")
        for line, census in (
            (direction(u[0], "2025-11-10", "1111111111"), "other"),
            (direction(u[1], "2025-11-10", "1111111111"), ""),  # 1 of 2 in use
            (direction(u[2], "2025-11-10", "0000000011"), ""),  # 1.2 of 2
            (direction(u[0], "2025-11-10", "1111111111"), ""),  # 2.2 of 2: no free place
        )
    )
    report, _ = one_by_one = run(db, area["la"], text, 0, monkeypatch)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(2, "census_reason"), (5, "setting_ref")]
    assert "(1.2 of 2 in use)" in report["errors"][1]["message"]
    assert run(db, area["la"], text, 500, monkeypatch) == one_by_one


def test_places_in_use_are_counted_again_under_each_line_the_chunk_claims(db: Session, area: dict[str, Any]) -> None:
    """A line is one financial year's. Places counted under the claim of this year's line are
    counted again under next year's: bookings for next year may have been committed meanwhile
    (here, one recorded beside the chunk, as another person's page would)."""
    pupils = [db.scalars(select(Pupil).where(Pupil.upn == upn)).one() for upn in area["upns"][:3]]
    oaks = db.scalars(select(Setting).where(Setting.ref == "PRU1")).one()

    def draft(start: date, sessions: str) -> PlacementDraft:
        return PlacementDraft(
            setting_id=oaks.id,
            route=Route.OFF_SITE_DIRECTION,
            registration=Registration.DUAL,
            tier=Tier.TIME_LIMITED,
            sessions=sessions,
            start_date=start,
            notice_date=start - timedelta(days=7),
            planned_end_date=date(2026, 7, 17),
            reintegration_plan="Back to school after the half term",
        )

    with clock.fixed(date(2026, 2, 20)):
        chunk = ChunkReads(db, SYSTEM, [pupils[0], pupils[1]])
        start_placement(db, SYSTEM, pupils[0], draft(date(2026, 3, 2), "0000000011"), reads=chunk)  # 2025-26
        start_placement(db, SYSTEM, pupils[2], draft(date(2026, 4, 20), "1111111111"))  # 2026-27, beside it
        with pytest.raises(DomainError) as refused:
            start_placement(db, SYSTEM, pupils[1], draft(date(2026, 4, 20), "1111111111"), reads=chunk)
    assert "No free commissioned time-limited place at The Oaks on 20 April 2026 (1.2 of 2 in use)" in str(
        refused.value.errors[0].message
    )


STARTS = ("2025-11-10", "2025-11-17", "2025-11-24", "2026-03-30", "2026-04-13", "2026-04-20")  # two years' lines
SESSIONS = ("1111111111", "1111100000", "0000011111", "0000000011", "1100000000", "1111111100")


def random_file(seed: int, upns: list[str]) -> str:
    """A file of 4 to 14 rows drawn with this seed: directions to both providers (some ended, some
    with a census reason, a wrong one now and then), moves onto another roll, repeated children."""
    draw = random.Random(seed)
    moved: set[str] = set()
    lines = []
    for _ in range(draw.randint(4, 14)):
        upn, start = draw.choice(upns), draw.choice(STARTS)
        if draw.random() < 0.15 and upn not in moved:
            moved.add(upn)
            lines.append(f"{upn},SCH2,managed_move,sole,{start},1111111111,,,,,,,\n")
            continue
        end = ","
        if draw.random() < 0.25:
            ends_on = date.fromisoformat(start) + timedelta(days=11)
            end = f"{ends_on},{draw.choice(['returned_home_school', 'other_ap', 'neet'])}"
        chance = draw.random()
        census = "other" if chance < 0.04 else "off_site_behaviour" if chance < 0.2 else ""
        notice = date.fromisoformat(start) - timedelta(days=6)
        lines.append(
            f"{upn},{draw.choice(['PRU1', 'PRU1', 'PRU2'])},off_site_direction,dual,{start},{draw.choice(SESSIONS)},"
            f"time_limited,{notice},2026-07-17,Mornings back at school,{end},{census}\n"
        )
    return HEADER.replace("destination\n", "destination,census_reason\n") + "".join(lines)


@pytest.mark.parametrize("seed", range(12))
def test_files_drawn_at_random_give_the_same_in_chunks(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    text = random_file(seed, area["upns"])
    one_by_one = run(db, area["la"], text, 0, monkeypatch)
    for chunk in (2, 500):
        assert run(db, area["la"], text, chunk, monkeypatch) == one_by_one, f"seed {seed}, chunks of {chunk}:\n{text}"
