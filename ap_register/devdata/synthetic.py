"""Synthetic registers for benchmarks (`ap-register generate --scale la|national`).

One LA (`la`) or 150 (`national`): the same shape per LA, so cost per record can be compared
between scales. Every pupil of the generated areas has been in alternative provision in the
last school year (the one scores are reported for) or this one so far; each LA has 2,000.
Reasons for placements and the kinds of setting they are in follow the DfE's national figures
for school-arranged AP in 2022/23 (school census, shipped as
`reference/spc_school_ap_placement.csv`); the route follows the reason (off-site behaviour
support is an off-site direction, permanent exclusion the LA's s19 provision, and so on). Every
outcome the register scores has pupils behind it: last school year's Year 11 were placed in that
year and most have English and maths results; a tenth of pupils had one-to-one outreach from the
LA's PRU that closed in that year; pupils have SEN, a primary need and child-in-need status.
Durations, part time, attendance, grades and those shares are assumptions stated next to their
constants.

Rows are written in bulk: PostgreSQL's COPY, or executemany on SQLite, with ids assigned here.
Nothing is audited: this is not anyone's data, and the generator refuses a register that already
has pupils.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import Connection, func, select, text

from ap_register import clock
from ap_register.devdata.demo import FIRST_NAMES, PLACES, typical_term_dates
from ap_register.domain.bulk import Writer
from ap_register.domain.calendar import SchoolCalendar
from ap_register.domain.upn import make_upn
from ap_register.models import BankHoliday, LocalAuthority, Pupil
from ap_register.years import AcademicYear

PUPILS_PER_LA = 2_000
SECONDARIES_PER_LA = 10
LAST_NAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Walker Robinson Thompson "
    "White Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke Khan Ali Begum Evans "
    "Turner Hill Moore Cooper Ward Morris King Baker Harrison Morgan Allen James Scott Phillips"
).split()
# A second placement (after the first ended) for this share of pupils.
SECOND_PLACEMENT = 0.3
# Referrals waiting for the LA's panel: this share of pupils.
REFERRED = 0.02
# Placements last 4 to 8 school weeks; this share are part time (6 or 8 sessions of 10).
WEEKS = (4, 8)
PART_TIME = 0.25
# Sessions attended at the AP setting (the rest are authorised or unauthorised absence).
PRESENT = 0.8
# Who the pupils are (assumptions, of the order published for AP): an EHC plan for this share, SEN
# support for the next; of those with SEN, social, emotional and mental health is the primary need
# of this share; children in need.
EHCP, SEN_SUPPORT, SEMH, CHILD_IN_NEED = 0.2, 0.45, 0.6, 0.15
OTHER_NEEDS = ("ASD", "SLCN", "MLD", "SPLD", "OTH")
# Ages on 1 September of this school year: 11 to 16. The 16-year-olds were in Year 11 last year
# (the year scores are reported for): their placements fall in that year, and most have a key
# stage 4 result in English and maths. Each subject's grade is drawn from these weights (4 or
# above in both for about 1 in 25, as for AP nationally).
YEAR_11_RECORDED = 0.9
KS4_GRADES = {"U": 15, "E3": 4, "L1": 4, "L2": 2, "1": 20, "2": 20, "3": 15, "4": 10, "5": 6, "6": 3, "7": 1}
# One-to-one outreach from the LA's PRU in last school year, for this share of pupils, before any
# placement or between them: 4 to 12 school weeks, closed in that year.
OUTREACH = 0.1
OUTREACH_WEEKS = (4, 12)


@dataclass(frozen=True)
class Scale:
    name: str
    las: int


SCALES = {"la": Scale("la", 1), "national": Scale("national", 150)}

# Reason as published -> (route, census reason, tier)
REASONS = {
    "Off-site placement for behavioural support": ("off_site_direction", "off_site_behaviour", "time_limited"),
    "Suspension": ("suspension_provision", "suspension", "time_limited"),
    "Permanent exclusion (where still going through the review process)": (
        "la_exclusion",
        "permanent_exclusion",
        "transitional",
    ),
    "Medical condition (mental health need)": ("la_health", "medical_mental_health", "time_limited"),
    "Medical condition (physical health need)": ("la_health", "medical_physical_health", "time_limited"),
    "Other": ("school_arranged", "other", "time_limited"),
}
# Setting type as published -> (setting kind, census setting type or None, registration)
SETTING_TYPES = {
    "Education setting with URN": ("pru", None, "dual"),
    "Registered provider with UKPRN": ("independent_ap", None, "none"),
    "Other unregistered provider": ("unregistered_ap", "other_unregistered", "none"),
    "One on one tuition": ("unregistered_ap", "one_to_one_tuition", "none"),
    "Work based placement": ("unregistered_ap", "work_based_placement", "none"),
    "Non-maintained further education college": ("post16", "non_maintained_fe", "none"),
}
LA_ROUTES = {"la_exclusion", "la_health"}


def national_mix() -> list[tuple[str, str, int]]:
    """(reason, setting type, placements) for England, 2022/23, as published."""
    path = files("ap_register") / "reference" / "spc_school_ap_placement.csv"
    with path.open(encoding="utf-8-sig") as handle:
        return [
            (row["pupil_characteristic"], row["setting_type"], int(row["pupils"]))
            for row in csv.DictReader(handle)
            if row["geographic_level"] == "National"
            and row["characteristic_grouping"] == "Placement Reason"
            and row["pupil_characteristic"] in REASONS
            and row["setting_type"] in SETTING_TYPES
            and row["pupils"].isdigit()
        ]


Progress = Callable[[int], None]  # told how many more pupils are done (each pupil is done twice)


def total_pupils(scale: Scale) -> int:
    return scale.las * PUPILS_PER_LA


def generate(
    connection: Connection, scale: Scale, today: date, seed: int = 1, progress: Progress | None = None
) -> dict[str, int]:
    """Write a synthetic register at this scale; returns the rows written per table."""
    say = progress or (lambda n: None)
    if connection.execute(select(func.count()).select_from(Pupil)).scalar_one():
        raise ValueError("The register already has pupils: generate into an empty database (after init-db)")
    las = connection.execute(
        select(LocalAuthority.id, LocalAuthority.code).order_by(LocalAuthority.code).limit(scale.las)
    ).all()
    if len(las) < scale.las:
        raise ValueError(f"{scale.las} LAs are needed and the reference data has {len(las)}: run init-db first")
    rng = random.Random(seed)
    writer = Writer(connection)
    if (
        writer.postgres
        and connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    ):
        # The rows are consistent by construction: as a bulk load by the database's owner, skip the
        # foreign-key checks row by row (20,000,000 marks x 3 lookups). Only for this transaction.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    now = clock.now()
    year = AcademicYear.containing(today).start
    stretches = [s for y in (year - 2, year - 1, year, year + 1) for s in typical_term_dates(y)]
    holidays = [d for (d,) in connection.execute(select(BankHoliday.day))]
    calendar = SchoolCalendar(stretches, holidays)
    # Placements over the last school year (the one scores are reported for) and this one so far.
    days = calendar.school_days(date(year - 1, 9, 1), max(today, date(year, 10, 1)))
    last_year_days = len(calendar.school_days(date(year - 1, 9, 1), date(year, 8, 31)))
    mix = national_mix()
    choices, weights = [(r, s) for r, s, _ in mix], [n for _, _, n in mix]
    counts: dict[str, int] = {}

    # Term dates and settings for each LA.
    term_id = writer.next_id("term_date")
    counts["term_date"] = writer.write(
        "term_date",
        ("id", "la_id", "start_date", "end_date"),
        (
            (term_id + i, la_id, s, e)
            for i, ((la_id, _), (s, e)) in enumerate((la, st) for la in las for st in stretches)
        ),
    )
    setting_id = writer.next_id("setting")
    settings: dict[int, dict[str, list[int]]] = {}
    setting_rows = []
    for la_id, code in las:
        made: dict[str, list[int]] = {"mainstream": []}
        plan = [("mainstream", None, f"{rng.choice(PLACES)} Academy") for _ in range(SECONDARIES_PER_LA)]
        plan += [(kind, census, f"{rng.choice(PLACES)} {label}") for label, (kind, census, _) in SETTING_TYPES.items()]
        for n, (kind, census, name) in enumerate(plan):
            key = kind if kind == "mainstream" else f"{kind}:{census}"
            made.setdefault(key, []).append(setting_id)
            urn = f"{int(code) % 1000:03d}{n + 100:03d}" if kind in ("mainstream", "pru", "independent_ap") else None
            setting_rows.append(
                (setting_id, la_id, urn or f"G{n:03d}", name, kind, urn, True, False, False, census, now, now)
            )
            setting_id += 1
        settings[la_id] = made
    counts["setting"] = writer.write(
        "setting",
        (
            "id",
            "la_id",
            "ref",
            "name",
            "kind",
            "urn",
            "open",
            "kind_set_by_admin",
            "safeguarding_checks_confirmed",
            "census_setting_type",
            "created_at",
            "updated_at",
        ),
        setting_rows,
    )

    pupil_id, placement_id = writer.next_id("pupil"), writer.next_id("placement")
    movement_id, mark_id = writer.next_id("movement"), writer.next_id("attendance_mark")
    pupils: list[tuple[Any, ...]] = []
    placements: list[tuple[Any, ...]] = []
    movements: list[tuple[Any, ...]] = []
    marks_for: list[tuple[int, int, list[date], str]] = []
    results: list[tuple[Any, ...]] = []
    engagements: list[tuple[Any, ...]] = []
    result_id, engagement_id = writer.next_id("ks4_result"), writer.next_id("outreach_engagement")
    grades, grade_weights = list(KS4_GRADES), list(KS4_GRADES.values())
    for la_id, code in las:
        made = settings[la_id]
        for serial in range(PUPILS_PER_LA):
            school = rng.choice(made["mainstream"])
            age = rng.randint(11, 16)
            leaver = age == 16  # last year's Year 11
            born = date(year - age - 1, 9, 1) + timedelta(days=rng.randrange(365))
            upn = make_upn(f"{int(code) % 1000:03d}{serial:09d}")
            need = rng.random()
            sen = "E" if need < EHCP else "K" if need < EHCP + SEN_SUPPORT else "N"
            primary = None if sen == "N" else "SEMH" if rng.random() < SEMH else rng.choice(OTHER_NEEDS)
            pupils.append(
                (pupil_id, upn, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), born, la_id, school, sen, primary)
                + (False, rng.random() < CHILD_IN_NEED, False, now, now)
            )
            movements.append((movement_id, pupil_id, "admitted", days[0], school, None, "{}", "generate", now))
            movement_id += 1
            # Last year's Year 11 were placed in last year only; the rest at any time.
            reach = last_year_days if leaver else len(days)
            if leaver and rng.random() < YEAR_11_RECORDED:
                english, maths = rng.choices(grades, grade_weights, k=2)
                results.append((result_id, pupil_id, year - 1, english, maths, now))
                result_id += 1
            if rng.random() < OUTREACH:
                begun = rng.randrange(0, last_year_days - 5 * OUTREACH_WEEKS[1])
                closed = begun + 5 * rng.randint(*OUTREACH_WEEKS)
                outcome = rng.choice(("sustained_in_mainstream", "escalated_to_referral"))
                engagements.append(
                    (engagement_id, made["pru:None"][0], school, pupil_id, "one_to_one", days[begun], days[closed])
                    + (outcome, now)
                )
                engagement_id += 1
            start_index = rng.randrange(0, max(1, reach - 45))
            for n in range(2 if rng.random() < SECOND_PLACEMENT else 1):
                reason, setting_type = rng.choices(choices, weights)[0]
                route, census_reason, tier = REASONS[reason]
                kind, census, registration = SETTING_TYPES[setting_type]
                if route in LA_ROUTES and kind != "pru":
                    kind, census, registration = "pru", None, "dual"
                setting = rng.choice(made[f"{kind}:{census}"])
                length = 5 * rng.randint(*WEEKS)
                span = days[start_index : min(start_index + length, reach)]
                if not span:
                    break
                start, last = span[0], span[-1]
                # Excluded: off the school's roll from the day the LA's provision starts, and there to stay.
                excluded = route == "la_exclusion"
                # Last year's Year 11 left their placement (excluded or not) at the end of that year.
                ended = (leaver or not excluded) and last < today and (leaver or n == 0 or rng.random() < 0.5)
                destination = "post16_education" if leaver else "returned_home_school"
                if excluded:
                    movements.append(
                        (movement_id, pupil_id, "permanent_exclusion", start, school, None, "{}", "generate", now)
                    )
                    movement_id += 1
                sessions = "1" * 10
                if rng.random() < PART_TIME:
                    flags = ["1"] * (attended := rng.choice((6, 8))) + ["0"] * (10 - attended)
                    rng.shuffle(flags)
                    sessions = "".join(flags)
                placements.append(
                    (placement_id, pupil_id, setting, route, tier, "sole" if route == "la_exclusion" else registration)
                    + (school if route != "la_exclusion" else None, sessions, start, last if ended else None)
                    + (destination if ended else None, census_reason, la_id if route in LA_ROUTES else None)
                    + (False, now)
                )
                movements.append(
                    (movement_id, pupil_id, "placement_started", start, setting, placement_id, "{}", "generate", now)
                )
                movement_id += 1
                if ended:
                    movements.append(
                        (movement_id, pupil_id, "placement_ended", last, setting, placement_id, "{}", "generate", now)
                    )
                    movement_id += 1
                marks_for.append((pupil_id, setting, [d for d in span if d <= today], sessions))
                placement_id += 1
                start_index += length
                if excluded:
                    break
            pupil_id += 1
        say(PUPILS_PER_LA)

    counts["pupil"] = writer.write(
        "pupil",
        (
            "id",
            "upn",
            "first_name",
            "last_name",
            "date_of_birth",
            "home_la_id",
            "home_school_id",
            "sen_status",
            "primary_need",
            "ehc_assessment_requested",
            "child_in_need",
            "looked_after",
            "created_at",
            "updated_at",
        ),
        pupils,
    )
    counts["placement"] = writer.write(
        "placement",
        (
            "id",
            "pupil_id",
            "setting_id",
            "route",
            "tier",
            "registration",
            "home_school_id",
            "sessions",
            "start_date",
            "end_date",
            "destination",
            "census_reason",
            "commissioner_la_id",
            "spot_purchase",
            "created_at",
        ),
        placements,
    )
    counts["movement"] = writer.write(
        "movement",
        ("id", "pupil_id", "kind", "date", "setting_id", "placement_id", "details", "recorded_via", "recorded_at"),
        movements,
    )
    counts["ks4_result"] = writer.write(
        "ks4_result", ("id", "pupil_id", "academic_year", "english", "maths", "recorded_at"), results
    )
    counts["outreach_engagement"] = writer.write(
        "outreach_engagement",
        ("id", "provider_id", "school_id", "pupil_id", "kind", "started_on", "closed_on", "outcome", "created_at"),
        engagements,
    )
    # Each LA's panel, its next meeting, and the referrals waiting for it (the panel's queue).
    panel_id, meeting_id, referral_id = writer.next_id("panel"), writer.next_id("meeting"), writer.next_id("referral")
    counts["panel"] = writer.write(
        "panel",
        ("id", "la_id", "name", "quorum"),
        ((panel_id + n, la_id, "Fair Access Panel", 3) for n, (la_id, _) in enumerate(las)),
    )
    counts["meeting"] = writer.write(
        "meeting",
        ("id", "panel_id", "held_on", "location"),
        ((meeting_id + n, panel_id + n, today + timedelta(days=7), "Council offices") for n in range(len(las))),
    )
    waiting = []
    for number, pupil in enumerate(pupils):
        if number % int(1 / REFERRED) == 0:
            route, tier = rng.choice((("off_site_direction", "time_limited"), ("la_other", "transitional")))
            waiting.append(
                (referral_id, pupil[5], pupil[0], "time_limited_ap" if tier == "time_limited" else "transitional_ap")
                + (route, tier, pupil[6], '["behaviour"]', "Escalating incidents despite support", "A fresh start")
                + (False, False, "submitted", now, today - timedelta(days=rng.randint(1, 20)), 1)
            )
            referral_id += 1
    counts["referral"] = writer.write(
        "referral",
        (
            "id",
            "la_id",
            "pupil_id",
            "move",
            "route",
            "tier",
            "referring_setting_id",
            "reason_codes",
            "reasons",
            "best_interest",
            "has_ehcp",
            "awaiting_ehc_assessment",
            "status",
            "submitted_at",
            "submitted_on",
            "version",
        ),
        waiting,
    )

    def marks() -> Iterator[tuple[Any, ...]]:
        nonlocal mark_id
        previous, done = None, 0
        for pupil, setting, span, sessions in marks_for:
            if pupil != previous:
                previous, done = pupil, done + 1
                if done % 1_000 == 0:
                    say(1_000)
            for day in span:
                weekday = 2 * day.weekday()
                for index, half in ((0, "AM"), (1, "PM")):
                    if sessions[weekday + index] == "1":
                        roll = rng.random()
                        code = ("/" if half == "AM" else "\\") if roll < PRESENT else ("I" if roll < 0.9 else "O")
                        yield (mark_id, pupil, setting, day, half, code, now)
                        mark_id += 1

    counts["attendance_mark"] = writer.write(
        "attendance_mark", ("id", "pupil_id", "setting_id", "date", "session", "code", "recorded_at"), marks()
    )
    say(len(pupils) % 1_000)  # the marks pass reports every 1,000 pupils
    for table in counts:
        writer.reset_sequence(table)
        if writer.postgres:  # fresh statistics, or the planner guesses from an empty table
            connection.execute(text(f"ANALYZE {table}"))
    return counts
