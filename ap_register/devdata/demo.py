"""The demo area: one real LA (by its DfE code) with fictional schools, providers, people and
two years of history, built through the same rules the service uses, so every placement has
its movements and every problem is one the register would really meet.

Deterministic for a given day: the same seed and anchor date give the same area.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.accounts.users import hash_password
from ap_register.casework.documents import Store
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import SchoolCalendar, calendar_for, forget_calendars
from ap_register.domain.errors import CalendarUnknown
from ap_register.domain.pupils import of_compulsory_school_age, year_group
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import (
    Destination,
    MovementKind,
    Registration,
    Role,
    Route,
    SenStatus,
    SettingKind,
    Tier,
)
from ap_register.models import (
    AgendaItem,
    Alert,
    Contact,
    Decision,
    LocalAuthority,
    Meeting,
    OutreachEngagement,
    Placement,
    PlacementAgreement,
    Pupil,
    Referral,
    Setting,
    SettingSite,
    TermDate,
    User,
)
from ap_register.panels.rules import conclude_managed_move
from ap_register.placements.roll import reading_of
from ap_register.placements.rules import (
    AT_HOME_SCHOOL,
    PlacementDraft,
    end_placement,
    record_roll_movement,
    review_placement,
    site_address,
    start_placement,
)
from ap_register.years import AcademicYear, FinancialYear

DEMO_LA_CODE = "873"
DEMO_STREETS = (
    "Mill Road",
    "Station Road",
    "Church Lane",
    "Victoria Street",
    "Orchard Close",
    "Fen Way",
    "High Street",
)
DEMO_TOWNS = ("Cambridge", "Ely", "Huntingdon", "March", "Wisbech", "St Neots")
PARENT_NAMES = ("Sarah", "Michelle", "David", "Joanne", "Mark", "Aisha", "Paul", "Agnieszka", "Grace", "Tom")
DEMO_PASSWORD = "demo-password-2026"
EMAIL_DOMAIN = "demo.example.org"
SEED = 20261123

DEMO_USERS = (
    (Role.LA_ADMIN, "la.admin", "Priya Shah", None),
    (Role.COMMISSIONER, "commissioner", "Tom Evans", None),
    (Role.ATTENDANCE_OFFICER, "attendance", "Grace Okafor", None),
    (Role.PANEL_CHAIR, "panel.chair", "Martin Hughes", None),
    (Role.PANEL_MEMBER, "panel.member", "Aisha Rahman", None),
    (Role.AP_HEAD, "ap.head", "Dan Whitfield", "pru"),
    (Role.SCHOOL_LEAD, "school.lead", "Helen Brook", "secondary"),
)

PLACES = (
    "Ashwell",
    "Barrowby",
    "Castleford",
    "Dunmore",
    "Elmstead",
    "Fenwick",
    "Glenholme",
    "Harwood",
    "Ivybridge",
    "Kingsmead",
    "Longridge",
    "Marsham",
    "Netherby",
    "Oakhurst",
    "Pennington",
    "Queensbury",
    "Redgrave",
    "Southwold",
    "Thornbury",
    "Upwell",
    "Wainfleet",
    "Westbury",
    "Yarwell",
    "Abbotsley",
    "Bramley",
    "Coldham",
    "Dunsby",
    "Eastrea",
    "Fordham",
    "Gransden",
    "Hilgay",
    "Kirtling",
    "Littleport",
    "Manea",
    "Newton",
    "Orwell",
    "Pymoor",
    "Ramsey",
    "Soham",
    "Toft",
)
# Ethnicity codes weighted roughly as the area's children are (most often White British).
DEMO_ETHNICITIES = ("WBRI",) * 7 + ("WOTH", "MWBC", "AIND", "APKN", "BAFR", "WROM", "MOTH", "NOBT")
FIRST_NAMES = (
    "Oliver",
    "Amelia",
    "Noah",
    "Isla",
    "Leo",
    "Ava",
    "Jack",
    "Freya",
    "Charlie",
    "Mia",
    "Harry",
    "Lily",
    "Alfie",
    "Evie",
    "Theo",
    "Grace",
    "Archie",
    "Ruby",
    "Oscar",
    "Sophia",
    "Mason",
    "Poppy",
    "Kai",
    "Chloe",
    "Riley",
    "Maya",
    "Ethan",
    "Zara",
    "Logan",
    "Aisha",
    "Tyler",
    "Hannah",
    "Jayden",
    "Ellie",
    "Dylan",
    "Amber",
    "Reece",
    "Leah",
    "Callum",
    "Jade",
    "Kacper",
    "Zofia",
    "Musa",
    "Amira",
    "Tomasz",
    "Nia",
    "Ibrahim",
    "Layla",
    "Connor",
    "Skye",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Hughes",
    "Lewis",
    "Ali",
    "Nowak",
    "Turner",
    "Hill",
    "Cooper",
    "Ward",
    "Morris",
    "Moore",
    "King",
    "Harrison",
    "Baker",
    "Price",
    "Bennett",
    "Kowalski",
    "Murphy",
    "Reid",
    "Campbell",
    "Begum",
    "Mitchell",
    "Carter",
    "Phillips",
    "Adams",
    "Shaw",
    "Lloyd",
    "Ellis",
    "Mahmood",
)
REVIEW_NOTES = (
    "Attending well; working towards reintegration targets in the personalised plan.",
    "Attendance has dipped; family meeting arranged and transport checked.",
    "Good progress in English and maths; return to the home school discussed.",
    "Settling in; key worker allocated and risk assessment updated.",
    "Engagement improving; plan to increase sessions at the home school next half term.",
)
PLACEMENT_REASONS = {
    Route.OFF_SITE_DIRECTION: (
        "Escalating disruption despite in-school support (mentoring, report card, outreach sessions); "
        "a short period off-site to work on self-regulation before return."
    ),
    Route.SCHOOL_ARRANGED: "Vocational sessions to re-engage, alongside reduced hours at school.",
    Route.SUSPENSION_PROVISION: "Education from the sixth day of a suspension.",
    Route.LA_EXCLUSION: "Permanently excluded; the local authority provides full-time education from the sixth day.",
    Route.LA_HEALTH: "Anxiety-related absence over 15 school days, with medical evidence; gradual return planned.",
    Route.LA_OTHER: "Newly arrived in the area with no school place; education arranged while a place is found.",
    Route.PART_TIME_TIMETABLE: "Reduced timetable agreed with parents after a period of illness; reviewed fortnightly.",
    Route.MANAGED_MOVE: "A fresh start agreed by both schools and the family after support at the home school.",
    Route.FAIR_ACCESS: "Place allocated by the fair access panel.",
    Route.EHCP_NAMED: "Named in section I of the EHC plan after the annual review.",
    Route.HOME_SCHOOL: "The rest of the week at school.",
}


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = ((h + l - 7 * m + 114) % 31) + 1
    return date(year, month, day)


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _friday_before(monday: date) -> date:
    return monday - timedelta(days=3)


def typical_term_dates(start_year: int) -> list[tuple[date, date]]:
    """Six half terms in the pattern most English LAs publish, for the year starting in September."""
    autumn_start = date(start_year, 9, 3)
    if autumn_start.weekday() >= 5:
        autumn_start = _weekday_on_or_after(autumn_start, 0)
    october_break = _weekday_on_or_after(date(start_year, 10, 25), 0)  # the last Monday of October
    christmas_end = date(start_year, 12, 21) - timedelta(days=(date(start_year, 12, 21).weekday() - 4) % 7)
    spring_start = _weekday_on_or_after(date(start_year + 1, 1, 4), 0)
    february_break = _weekday_on_or_after(date(start_year + 1, 2, 12), 0)
    good_friday = easter_sunday(start_year + 1) - timedelta(days=2)
    easter_break = good_friday - timedelta(days=4)  # the Monday of Holy Week
    may_break = _weekday_on_or_after(date(start_year + 1, 5, 25), 0)  # the last Monday of May
    summer_end = date(start_year + 1, 7, 21)
    if summer_end.weekday() >= 5:
        summer_end = _friday_before(_weekday_on_or_after(summer_end, 0))
    return [
        (autumn_start, _friday_before(october_break)),
        (october_break + timedelta(days=7), christmas_end),
        (spring_start, _friday_before(february_break)),
        (february_break + timedelta(days=7), _friday_before(easter_break)),
        (easter_break + timedelta(days=14), _friday_before(may_break)),
        (may_break + timedelta(days=7), summer_end),
    ]


DEMO_DISTRICTS = ("Cambridge", "East Cambridgeshire", "Fenland", "Huntingdonshire", "South Cambridgeshire")


@dataclass
class DemoResult:
    created: bool
    la: LocalAuthority
    sign_ins: list[tuple[str, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, session: Session, la: LocalAuthority, today: date):
        self.session = session
        self.la = la
        self.today = today
        self.rng = random.Random(SEED)
        self.actor = Actor.system(via="demo", label="demo")
        self.calendar: SchoolCalendar
        self.primaries: list[Setting] = []
        self.secondaries: list[Setting] = []
        self.specials: list[Setting] = []
        self.ap: dict[str, Setting] = {}
        self.serial = 0
        self.key_workers: set[tuple[int, int]] = set()
        self.history_start = date(AcademicYear.containing(today).start - 2, 9, 1)

    # --- the area ---
    def term_dates(self) -> None:
        first = AcademicYear.containing(self.today).start - 2
        for year in range(first, first + 4):
            for start, end in typical_term_dates(year):
                self.session.add(TermDate(la_id=self.la.id, start_date=start, end_date=end))
        self.session.flush()
        forget_calendars(self.session)
        self.calendar = calendar_for(self.session, self.la)

    def setting(
        self, name: str, kind: SettingKind, urn: str | None, ref: str | None = None, **fields: object
    ) -> Setting:
        created = Setting(
            la_id=self.la.id,
            ref=ref or urn or name,
            name=name,
            kind=kind,
            urn=urn,
            postcode=self.postcode(),
            **fields,
        )
        self.session.add(created)
        return created

    def postcode(self) -> str:
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return (
            f"PE{self.rng.randint(1, 38)} {self.rng.randint(1, 9)}{self.rng.choice(letters)}{self.rng.choice(letters)}"
        )

    def settings(self) -> None:
        places = list(PLACES)
        for n, place in enumerate(places[:30]):
            self.primaries.append(
                self.setting(f"{place} Primary School", SettingKind.MAINSTREAM, f"{873100 + n}", phase="primary")
            )
        kinds = (
            "Academy",
            "High School",
            "Community College",
            "Academy",
            "School",
            "High School",
            "Academy",
            "Community College",
        )
        for n, place in enumerate(places[30:38]):
            self.secondaries.append(
                self.setting(f"{place} {kinds[n]}", SettingKind.MAINSTREAM, f"{873200 + n}", phase="secondary")
            )
        self.specials.append(self.setting("Willow Bank Special School", SettingKind.SPECIAL, "873300"))
        # An independent special school (GIAS type 10), whose fees the LA pays: in the AP census.
        self.specials.append(self.setting("Meadowside School", SettingKind.SPECIAL, "873301", gias_type_code=10))
        self.ap["pru"] = self.setting("The Oaks Pupil Referral Unit", SettingKind.PRU, "873400", phase="all_through")
        self.ap["academy"] = self.setting(
            "Riverbank Academy", SettingKind.AP_ACADEMY, "873401", ukprn="10087341", phase="secondary"
        )
        self.ap["free"] = self.setting(
            "Pathways Free School", SettingKind.AP_FREE_SCHOOL, "873402", ukprn="10087342", phase="secondary"
        )
        self.ap["independent"] = self.setting(
            "Horizon Independent School",
            SettingKind.INDEPENDENT_AP,
            "873403",
            kind_set_by_admin=True,
            phase="secondary",
        )
        checked = self.today - timedelta(days=120)
        self.ap["farm"] = self.setting(
            "Greenfields Farm Project",
            SettingKind.UNREGISTERED_AP,
            None,
            ref="UNREG-001",
            ukprn="10087344",
            contact_name="Sarah Lowe",
            contact_phone="01234 567890",
            contact_email="sarah@greenfields.example.org",
            safeguarding_checks_confirmed=True,
            safeguarding_checks_date=checked,
            last_qa_visit_date=checked,
            risk_assessment_date=checked,
            risk_assessment_notes="Farm machinery areas fenced; staff ratio 1:4.",
        )
        self.ap["music"] = self.setting(
            "Urban Beats Music Mentoring",
            SettingKind.UNREGISTERED_AP,
            None,
            ref="UNREG-002",
            contact_name="Jordan Price",
            contact_phone="01234 098765",
            last_qa_visit_date=self.today - timedelta(days=500),
        )
        # The districts of the county (GIAS DistrictAdministrative), dealt out in turn: the areas
        # the commissioner plans places by. Dealt without the random draws, which stay as they were.
        schools = self.primaries + self.secondaries + self.specials
        for n, school in enumerate(schools):
            school.district = DEMO_DISTRICTS[n % len(DEMO_DISTRICTS)]
        for n, provider in enumerate(self.ap.values()):
            provider.district = DEMO_DISTRICTS[(n * 2) % len(DEMO_DISTRICTS)]
        # Numbers on roll (as GIAS would give them): the base of schools' movement rates.
        for school in self.secondaries:
            school.pupils_on_roll = self.rng.randrange(700, 1500, 10)
        for school in self.primaries:
            school.pupils_on_roll = self.rng.randrange(150, 420, 5)
        for school in self.specials:
            school.pupils_on_roll = self.rng.randrange(90, 180, 5)
        self.session.flush()
        self.ap["farm"].sites = [SettingSite(address="Greenfields Farm, Mill Lane, Upwell", postcode="PE14 9AB")]

    def users(self) -> list[tuple[str, str, str]]:
        password = hash_password(DEMO_PASSWORD)
        sign_ins = []
        for role, local, name, where in DEMO_USERS:
            setting = self.ap["pru"] if where == "pru" else self.secondaries[0] if where == "secondary" else None
            email = f"{local}@{EMAIL_DOMAIN}"
            self.session.add(
                User(
                    email=email,
                    name=name,
                    role=role,
                    password_hash=password,
                    la_id=None if setting else self.la.id,
                    setting_id=setting.id if setting else None,
                )
            )
            sign_ins.append((role.value, email, DEMO_PASSWORD))
        self.session.flush()
        return sign_ins

    # --- people ---
    def school_day_near(self, day: date) -> date:
        """The first school day on or after `day` (or the last one before the known terms end)."""
        if self.calendar.known_from is not None and day < self.calendar.known_from:
            day = self.calendar.known_from
        try:
            return self.calendar.nth_school_day(day, 1)
        except CalendarUnknown:
            return day

    def add_days(self, day: date, n: int) -> date:
        try:
            return self.calendar.add_school_days(day, n)
        except CalendarUnknown:
            return day + timedelta(days=n * 7 // 5)

    def contact(self, pupil: Pupil) -> None:
        """A made-up home, from the pupil's number (the random draws the rest of the demo makes are
        not moved by it)."""
        n = self.serial
        pupil.home_address = f"{n % 97 + 1} {DEMO_STREETS[n % len(DEMO_STREETS)]}, {DEMO_TOWNS[n % len(DEMO_TOWNS)]}"
        pupil.home_postcode = (
            f"CB{n % 9 + 1} {n % 10}{'ABDEFGHJLNPQRSTUWXYZ'[n % 20]}{'ABDEFGHJLNPQRSTUWXYZ'[n // 20 % 20]}"
        )
        # What the AP census asks. FIRST_NAMES alternates boys' and girls' names. One child in 40
        # has no ethnicity recorded yet, so the census's check has something to list.
        pupil.sex = "MF"[FIRST_NAMES.index(pupil.first_name) % 2] if pupil.first_name in FIRST_NAMES else "U"
        pupil.ethnicity = None if n % 40 == 7 else DEMO_ETHNICITIES[n % len(DEMO_ETHNICITIES)]
        if n % 3 != 1:  # about two in three children in AP are eligible for free school meals
            this_year = AcademicYear.containing(self.today).start
            pupil.fsm_start = date(min(pupil.date_of_birth.year + 5 + n % 6, this_year), 9, 1)
        pupil.uprn = f"{100090000000 + n * 7919}"

    def people(self, pupil: Pupil) -> None:
        """The people around a child, from the pupil's number: one or two parents (the second, who
        lives elsewhere, in one child in three; in one of those three, under a court order of no
        contact); for a looked-after child a foster carer, their social worker and the virtual
        school head; a social worker for a child in need; the school's SENCo for a child with SEN.
        Phone numbers are Ofcom's drama numbers (07700 900000 to 900999); emails are example.org."""
        n = self.serial
        first = PARENT_NAMES[n % len(PARENT_NAMES)]
        relation = "mother" if first in ("Sarah", "Michelle", "Joanne", "Aisha", "Agnieszka", "Grace") else "father"
        home = f"{pupil.home_address}, {pupil.home_postcode}"
        people = []
        if pupil.looked_after:
            people.append(
                Contact(
                    role="parent_carer",
                    name=f"{first} {LAST_NAMES[(n + 7) % len(LAST_NAMES)]}",
                    relation="foster_carer",
                    parental_responsibility=False,
                    lives_with=True,
                    address=home,
                    phone=f"07700 900{n * 7 % 1000:03d}",
                    contact_by="phone",
                )
            )
        else:
            people.append(
                Contact(
                    role="parent_carer",
                    name=f"{first} {pupil.last_name}",
                    relation=relation,
                    parental_responsibility=True,
                    lives_with=True,
                    address=home,
                    phone=f"07700 900{n * 7 % 1000:03d}",
                    email=f"{first.lower()}.{pupil.last_name.lower()}@{EMAIL_DOMAIN}" if n % 2 == 0 else None,
                    contact_by="phone",
                    preferences="Needs an interpreter (Polish) for meetings" if first == "Agnieszka" else None,
                )
            )
        if n % 3 == 0:  # a second parent who lives elsewhere
            other = PARENT_NAMES[(n + 5) % len(PARENT_NAMES)]
            people.append(
                Contact(
                    role="parent_carer",
                    name=f"{other} {LAST_NAMES[(n + 3) % len(LAST_NAMES)]}",
                    relation="father" if relation == "mother" else "mother",
                    parental_responsibility=True,
                    lives_with=False,
                    address=f"{n % 41 + 2} {DEMO_STREETS[(n + 4) % len(DEMO_STREETS)]}, Peterborough, PE1 {n % 10}QT",
                    phone=f"07700 900{(n * 7 + 500) % 1000:03d}",
                    contact_by="letter",
                    restriction=(
                        "No contact: a court order of 14 March 2025 (prohibited steps). Do not tell them where the "
                        "child is educated; call the LA's designated safeguarding lead if they ask."
                    )
                    if n % 9 == 0
                    else None,
                )
            )
        if pupil.looked_after or pupil.child_in_need:
            worker = f"{PARENT_NAMES[(n + 2) % len(PARENT_NAMES)]} {LAST_NAMES[(n + 11) % len(LAST_NAMES)]}"
            people.append(
                Contact(
                    role="social_worker",
                    name=worker,
                    organisation=f"{self.la.name} Children's Social Care",
                    phone=f"01632 960{n % 1000:03d}",
                    email=f"{worker.lower().replace(' ', '.')}@{EMAIL_DOMAIN}",
                    contact_by="email",
                )
            )
        if pupil.looked_after:
            people.append(
                Contact(
                    role="virtual_school_head",
                    name="Dr Amira Shah",
                    organisation=f"{self.la.name} Virtual School",
                    phone="01632 960900",
                    email=f"virtual.school@{EMAIL_DOMAIN}",
                    contact_by="email",
                )
            )
        if pupil.sen_status != SenStatus.NONE and pupil.home_school_id is not None:
            people.append(
                Contact(
                    role="senco",
                    name=f"{PARENT_NAMES[(n + 4) % len(PARENT_NAMES)]} Okafor",
                    setting_id=pupil.home_school_id,
                    email=f"senco@{EMAIL_DOMAIN}",
                    contact_by="email",
                )
            )
        for person in people:
            person.pupil_id = pupil.id
        self.session.add_all(people)

    def pupil(self, year_now: int, sen: SenStatus, on_roll: bool = True) -> Pupil:
        self.serial += 1
        start = AcademicYear.containing(self.today).start
        birth_year = start - year_now - 5
        born = date(birth_year, 9, 1) + timedelta(days=self.rng.randint(0, 364))
        need = self.rng.choice(("SEMH",) * 8 + ("ASD", "SLCN", "MLD", "SPLD")) if sen != SenStatus.NONE else None
        created = Pupil(
            upn=make_upn(
                f"{self.la.code}{2100 + self.serial // 1000:04d}{(born.year + 5) % 100:02d}{self.serial % 1000:03d}"
            ),
            first_name=self.rng.choice(FIRST_NAMES),
            last_name=self.rng.choice(LAST_NAMES),
            date_of_birth=born,
            home_la_id=self.la.id,
            sen_status=sen,
            primary_need=need,
            ehc_assessment_requested=sen == SenStatus.SEN_SUPPORT and self.rng.random() < 0.15,
            child_in_need=self.rng.random() < 0.1,
            looked_after=self.rng.random() < 0.04,
        )
        self.contact(created)
        self.session.add(created)
        self.session.flush()
        if not on_roll:
            self.people(created)
            return created
        # On a school's roll from the start of the history; secondary from Year 7.
        joined = self.school_day_near(self.history_start)
        year_then = year_now - (start - AcademicYear.containing(joined).start)
        school = self.rng.choice(self.primaries if year_then <= 6 else self.secondaries)
        record_roll_movement(self.session, self.actor, created, MovementKind.ADMITTED, joined, school, today=self.today)
        if year_then <= 6 < year_now:
            moved = self.school_day_near(date(AcademicYear.containing(joined).start + (7 - year_then), 9, 1))
            record_roll_movement(
                self.session,
                self.actor,
                created,
                MovementKind.ADMITTED,
                moved,
                self.rng.choice(self.secondaries),
                today=self.today,
            )
        self.people(created)
        return created

    # --- placements ---
    def place(
        self,
        pupil: Pupil,
        setting: Setting,
        route: Route,
        start: date,
        sessions: str = "1" * 10,
        registration: Registration = Registration.DUAL,
        tier: Tier | None = None,
        planned_weeks: int | None = 8,
        notice_days: int = 3,
        **fields: object,
    ) -> Placement:
        start = self.school_day_near(start)
        planned_end = self.add_days(start, planned_weeks * 5) if planned_weeks else None
        if route == Route.PART_TIME_TIMETABLE:  # agreed with the parents the week before it starts
            fields.setdefault("parent_agreed_on", start - timedelta(days=7))
            fields.setdefault("part_time_purpose", ("medical", "reintegration")[pupil.id % 2])
        notice = None
        if route == Route.OFF_SITE_DIRECTION:  # the written notice, as the school sent it
            fields.setdefault("notice_address", site_address(setting) or f"{setting.name}, {setting.postcode or ''}")
            fields.setdefault("notice_report_to", "The head of centre, at reception")
            fields.setdefault("notice_session_times", "8:50am to 12:10pm and 1pm to 3:15pm")
            fields.setdefault("notice_reasons", f"{PLACEMENT_REASONS[route]} To re-engage with learning and return.")
            notice = start - timedelta(days=notice_days + 2)
            try:
                notice = self.calendar.nth_school_day(start - timedelta(days=14), 1)
                while self.calendar.school_days_between(notice, start) > notice_days:
                    notice += timedelta(days=1)
            except CalendarUnknown:
                pass
        placement, _ = start_placement(
            self.session,
            self.actor,
            pupil,
            PlacementDraft(
                setting_id=setting.id,
                route=route,
                registration=registration,
                tier=tier,
                sessions=sessions,
                start_date=start,
                planned_end_date=planned_end,
                notice_date=notice,
                **{"reason": PLACEMENT_REASONS[route], **self.plans(tier), **fields},
            ),  # type: ignore[arg-type]
            calendar=self.calendar,
        )
        if route not in AT_HOME_SCHOOL and (pupil.id, setting.id) not in self.key_workers:
            # The provider's key worker for the child (their phone at the provider).
            self.key_workers.add((pupil.id, setting.id))
            first = PARENT_NAMES[(pupil.id + setting.id) % len(PARENT_NAMES)]
            worker = f"{first} {LAST_NAMES[setting.id % len(LAST_NAMES)]}"
            self.session.add(
                Contact(
                    pupil_id=pupil.id,
                    role="key_worker",
                    name=worker,
                    setting_id=setting.id,
                    phone=f"01632 961{(pupil.id * 13) % 1000:03d}",
                    contact_by="phone",
                )
            )
        return placement

    def plans(self, tier: Tier | None) -> dict[str, str]:
        """The plan a placement in a tier carries."""
        if tier == Tier.TIME_LIMITED:
            return {
                "reintegration_plan": self.rng.choice(
                    (
                        "Two days back at the home school from week four; full time by the planned end.",
                        "Phased return with a key worker: mornings at school from the second half term.",
                        "Weekly review with the home school's inclusion lead; return once the targets are met.",
                    )
                )
            }
        if tier == Tier.TRANSITIONAL:
            return {
                "destination_plan": self.rng.choice(
                    (
                        "A fresh start at another mainstream school, through the fair access panel.",
                        "Post-16: a college place on a vocational course, with transition visits in the summer term.",
                        "Assessment for a special school place, as the EHC plan is reviewed.",
                    )
                )
            }
        return {}

    def run(
        self, placement: Placement, until: date | None, destination: Destination | None, review: bool = True
    ) -> None:
        """Review the placement every interval until it ends (or today), then end it."""
        last = self.today if until is None or until > self.today else until
        if review:
            at = placement.start_date
            while True:
                at = self.add_days(at, self.la.review_interval_school_days - self.rng.randint(0, 4))
                if at > last or at > self.today:
                    break
                review_placement(
                    self.session,
                    self.actor,
                    placement,
                    review_date=at,
                    notes=self.rng.choice(REVIEW_NOTES),
                    pupil_took_part=True,
                    parents_took_part=True,
                    today=self.today,
                )
        if until is not None and until <= self.today and destination is not None:
            end_placement(
                self.session, self.actor, placement, end_date=max(until, placement.start_date), destination=destination
            )

    def school_days_before(self, day: date, n: int) -> date:
        """The school day n school days before `day`."""
        try:
            found = self.calendar.span_before(day, n)
        except CalendarUnknown:
            found = None
        return found[0] if found is not None else day - timedelta(days=n * 7 // 5)

    def random_day(self, start: date, end: date) -> date:
        """A school day between start and end; never after today (in the summer holiday the next
        school day is in September: take the last one before instead)."""
        day = self.school_day_near(start + timedelta(days=self.rng.randint(0, max(0, (end - start).days))))
        if day > self.today:
            day = self.calendar.last_school_day(self.today)
        return day

    def part_time(self, n: int) -> str:
        flags = ["1"] * n + ["0"] * (10 - n)
        self.rng.shuffle(flags)
        return "".join(flags)

    def history(self, pupil: Pupil) -> None:
        """One of the area's common journeys through AP, chosen at random."""
        rng = self.rng
        home = pupil.home_school
        if home is None:
            return
        roll = rng.random()
        recent = self.today - timedelta(days=200)
        # Something that happens at the school the pupil is on the roll of now: after they joined it.
        changes = reading_of(self.session, pupil).changes
        joined = changes[-1][0] if changes else self.history_start
        earliest = max(self.history_start + timedelta(days=30), joined + timedelta(days=7))
        if earliest >= self.today - timedelta(days=10):
            return
        day = self.random_day(earliest, self.today - timedelta(days=10))
        ap_setting = rng.choice([self.ap["pru"], self.ap["academy"], self.ap["free"], self.ap["independent"]])
        if roll < 0.20:  # off-site direction, back to school
            p = self.place(
                pupil,
                ap_setting,
                Route.OFF_SITE_DIRECTION,
                day,
                tier=Tier.TIME_LIMITED,
                planned_weeks=rng.choice((6, 8, 12)),
            )
            end = self.add_days(p.start_date, rng.randint(25, 60))
            self.run(p, end, Destination.RETURNED_HOME_SCHOOL if rng.random() < 0.85 else Destination.OTHER_AP)
        elif roll < 0.26:  # part-time timetable
            p = self.place(
                pupil,
                home,
                Route.PART_TIME_TIMETABLE,
                day,
                sessions="1111111000"[::-1] if rng.random() < 0.5 else "1010101010",
                registration=Registration.SOLE,
                planned_weeks=4,
            )
            self.run(p, self.add_days(p.start_date, rng.randint(15, 25)), Destination.RETURNED_HOME_SCHOOL)
        elif roll < 0.34:  # suspension, then provision from the sixth day
            days = rng.randint(6, 12)
            record_roll_movement(
                self.session,
                self.actor,
                pupil,
                MovementKind.SUSPENSION,
                day,
                home,
                days=days,
                reason="Serious breach of the behaviour policy",
                today=self.today,
            )
            sixth = self.add_days(day, 5)
            p = self.place(
                pupil,
                self.ap["pru"],
                Route.SUSPENSION_PROVISION,
                sixth,
                registration=Registration.DUAL,
                tier=Tier.TIME_LIMITED,
                planned_weeks=1,
            )
            self.run(p, self.add_days(day, days - 1), Destination.RETURNED_HOME_SCHOOL, review=False)
        elif roll < 0.41:  # permanent exclusion, then the LA's provision
            self.exclusion(pupil, home, day)
        elif roll < 0.45:  # health needs
            p = self.place(
                pupil,
                self.ap["pru"],
                Route.LA_HEALTH,
                day,
                sessions=self.part_time(rng.choice((6, 8, 10))),
                registration=Registration.NONE,
                tier=Tier.TIME_LIMITED,
                planned_weeks=12,
            )
            self.run(p, self.add_days(p.start_date, rng.randint(40, 90)), Destination.RETURNED_HOME_SCHOOL)
        elif roll < 0.49:  # a move to another school: agreed outright, or after a period there first
            other = rng.choice([s for s in self.secondaries if s.id != home.id])
            if rng.random() < 0.3:  # a managed move: permanent from its first day
                self.place(pupil, other, Route.MANAGED_MOVE, day, registration=Registration.SOLE, planned_weeks=None)
                return
            # A period at the other school is an off-site direction, which may end in a managed move.
            p = self.place(pupil, other, Route.OFF_SITE_DIRECTION, day, planned_weeks=8)
            end = self.add_days(p.start_date, 40)
            if end <= self.today and rng.random() < 0.7:
                conclude_managed_move(
                    self.session,
                    self.actor,
                    p,
                    "confirmed",
                    end,
                    "Settled well: the family and both schools agree to a managed move",
                )
            else:
                self.run(p, end, Destination.RETURNED_HOME_SCHOOL)
        elif roll < 0.60 and pupil.sen_status == SenStatus.EHCP:  # named in the EHC plan
            p = self.place(
                pupil,
                rng.choice(self.specials),
                Route.EHCP_NAMED,
                day,
                registration=Registration.SOLE,
                planned_weeks=None,
            )
            self.run(p, None, None)
        elif roll < 0.55:  # school-arranged vocational days at the independent AP school, the rest at school
            vocational = self.part_time(4)
            p = self.place(
                pupil,
                self.ap["independent"],
                Route.SCHOOL_ARRANGED,
                max(day, recent),
                sessions=vocational,
                registration=Registration.DUAL,
                tier=Tier.TIME_LIMITED,
                planned_weeks=12,
            )
            rest = self.place(
                pupil,
                home,
                Route.HOME_SCHOOL,
                p.start_date,
                sessions="".join("0" if flag == "1" else "1" for flag in vocational),
                registration=Registration.SOLE,
                planned_weeks=12,
            )
            end = self.add_days(p.start_date, 60)
            self.run(p, end, Destination.RETURNED_HOME_SCHOOL)
            self.run(rest, end, Destination.RETURNED_HOME_SCHOOL, review=False)
        elif roll < 0.58:  # unregistered provider sessions with an off-site direction
            p = self.place(
                pupil,
                self.ap["academy"],
                Route.OFF_SITE_DIRECTION,
                day,
                sessions="1111111100",
                tier=Tier.TIME_LIMITED,
                planned_weeks=8,
            )
            q = self.place(
                pupil,
                self.ap["farm"],
                Route.SCHOOL_ARRANGED,
                p.start_date,
                sessions="0000000011",
                registration=Registration.NONE,
                tier=Tier.TIME_LIMITED,
                planned_weeks=8,
            )
            end = self.add_days(p.start_date, 40)
            self.run(p, end, Destination.RETURNED_HOME_SCHOOL)
            self.run(q, end, Destination.RETURNED_HOME_SCHOOL, review=False)
        elif roll < 0.60:  # education the LA arranges while a problem is solved
            p = self.place(
                pupil,
                self.ap["free"],
                Route.LA_OTHER,
                day,
                sessions=self.part_time(8),
                registration=Registration.NONE,
                tier=Tier.TIME_LIMITED,
                planned_weeks=6,
            )
            self.run(p, self.add_days(p.start_date, 30), Destination.RETURNED_HOME_SCHOOL)

    def exclusion(self, pupil: Pupil, home: Setting, day: date) -> None:
        rng = self.rng
        record_roll_movement(
            self.session,
            self.actor,
            pupil,
            MovementKind.PERMANENT_EXCLUSION,
            day,
            home,
            reason="Persistent disruptive behaviour",
            today=self.today,
        )
        # The board will not reinstate, and tells the parents within 15 school days; most do not
        # ask for a review, so the name comes off the roll 15 school days later (`placements.roll`).
        told = self.add_days(day, rng.randint(4, 12))
        if told <= self.today:
            record_roll_movement(
                self.session, self.actor, pupil, MovementKind.EXCLUSION_UPHELD, told, home, today=self.today
            )
        start = self.calendar.nth_school_day(day, 6) if self.calendar.covers(day) else day
        # The LA's place from the sixth school day: a second registration while the pupil is
        # still on the excluding school's roll.
        p = self.place(
            pupil,
            self.ap["pru"],
            Route.LA_EXCLUSION,
            start,
            registration=Registration.DUAL,
            tier=Tier.TRANSITIONAL,
            planned_weeks=26,
        )
        end = self.add_days(p.start_date, rng.randint(50, 150))
        if self.add_days(end, 1) > self.today:  # what follows the placement has not happened yet
            self.run(p, None, None)
            return
        outcome = rng.random()
        if outcome < 0.5:
            self.run(p, end, Destination.NEW_MAINSTREAM_SCHOOL)
            school = rng.choice([s for s in self.secondaries if s.id != home.id])
            # A child with an EHC plan is admitted to the school the plan names, not through fair access.
            allocation = self.place(
                pupil,
                school,
                Route.EHCP_NAMED if pupil.sen_status == SenStatus.EHCP else Route.FAIR_ACCESS,
                self.add_days(end, 1),
                registration=Registration.SOLE,
                planned_weeks=None,
            )
            self.run(allocation, None, None, review=False)
        elif outcome < 0.75:
            self.run(p, end, Destination.SPECIAL_SCHOOL)
            record_roll_movement(
                self.session,
                self.actor,
                pupil,
                MovementKind.ADMITTED,
                self.add_days(end, 1),
                rng.choice(self.specials),
                today=self.today,
            )
        elif not of_compulsory_school_age(pupil.date_of_birth, end):
            leaving = (
                Destination.POST16_EDUCATION,
                Destination.APPRENTICESHIP,
                Destination.EMPLOYMENT,
                Destination.NEET,
            )
            self.run(p, end, rng.choice(leaving))
        else:
            self.run(p, end, rng.choice((Destination.MOVED_OUT_OF_AREA, Destination.ELECTIVE_HOME_EDUCATION)))

    def problems(self) -> None:
        """Cases later checks must find: one of each, current on the latest school day (today in
        term time, the last day of term in a holiday)."""
        anchor = self.calendar.last_school_day(self.today)
        week_ago = self.add_days(anchor - timedelta(days=21), 1)
        # Below full time: excluded, with 4 sessions at an AP school and 2 at a farm project.
        child = self.pupil(10, SenStatus.SEN_SUPPORT)
        child.first_name, child.last_name = "Jordan", "Fletcher"
        home = child.home_school
        assert home is not None
        pex_day = self.add_days(anchor - timedelta(days=60), 1)
        record_roll_movement(
            self.session,
            self.actor,
            child,
            MovementKind.PERMANENT_EXCLUSION,
            pex_day,
            home,
            reason="Assault on a member of staff",
            today=self.today,
        )
        sixth = self.calendar.nth_school_day(pex_day, 6)
        self.place(
            child,
            self.ap["independent"],
            Route.LA_EXCLUSION,
            sixth,
            sessions="1111000000",
            registration=Registration.DUAL,
            tier=Tier.TRANSITIONAL,
            planned_weeks=26,
        )
        self.place(
            child,
            self.ap["farm"],
            Route.LA_OTHER,
            sixth,
            sessions="0000001100",
            registration=Registration.NONE,
            tier=Tier.TRANSITIONAL,
            planned_weeks=26,
            reason="Two days of outdoor learning while a full-time place is sought.",
        )
        # An overlap: full time at the PRU and music mentoring on Tuesday afternoon.
        child = self.pupil(9, SenStatus.NONE)
        child.first_name, child.last_name = "Ellie", "Marsh"
        self.place(child, self.ap["pru"], Route.OFF_SITE_DIRECTION, week_ago, tier=Tier.TIME_LIMITED)
        self.place(
            child,
            self.ap["music"],
            Route.SCHOOL_ARRANGED,
            week_ago,
            sessions="0001000000",
            registration=Registration.NONE,
            tier=Tier.TIME_LIMITED,
        )
        # An overdue review: started months ago and never reviewed.
        child = self.pupil(11, SenStatus.SEN_SUPPORT)
        child.first_name, child.last_name = "Ryan", "Doyle"
        self.place(
            child,
            self.ap["academy"],
            Route.OFF_SITE_DIRECTION,
            self.add_days(anchor - timedelta(days=150), 1),
            tier=Tier.TIME_LIMITED,
            planned_weeks=30,
        )
        # Over the unregistered limit, with a recorded reason.
        child = self.pupil(10, SenStatus.EHCP)
        child.first_name, child.last_name = "Mia", "Kowalski"
        self.place(
            child,
            self.ap["farm"],
            Route.LA_HEALTH,
            week_ago,
            sessions="1111100000",
            registration=Registration.NONE,
            tier=Tier.TIME_LIMITED,
            planned_weeks=6,
            unregistered_override_reason="Agreed by the health needs panel: the only setting she will attend "
            "after hospital discharge; reviewed fortnightly.",
        )
        # A part-time timetable past its planned end.
        child = self.pupil(8, SenStatus.NONE)
        child.first_name, child.last_name = "Kai", "Turner"
        assert child.home_school is not None
        self.place(
            child,
            child.home_school,
            Route.PART_TIME_TIMETABLE,
            self.add_days(anchor - timedelta(days=70), 1),
            sessions="1111100000",
            registration=Registration.SOLE,
            planned_weeks=4,
        )
        # An off-site direction with late notice (one school day).
        child = self.pupil(9, SenStatus.NONE)
        child.first_name, child.last_name = "Tyler", "Reid"
        self.place(
            child,
            self.ap["free"],
            Route.OFF_SITE_DIRECTION,
            self.add_days(anchor, 1),
            tier=Tier.TIME_LIMITED,
            notice_days=1,
        )
        # Permanently excluded three school days ago: the sixth-day clock is running.
        child = self.pupil(10, SenStatus.NONE)
        child.first_name, child.last_name = "Leo", "Hartley"
        assert child.home_school is not None
        try:
            excluded = self.calendar.nth_school_day(anchor - timedelta(days=6), 1)
        except CalendarUnknown:
            excluded = anchor
        record_roll_movement(
            self.session,
            self.actor,
            child,
            MovementKind.PERMANENT_EXCLUSION,
            min(excluded, self.today),
            child.home_school,
            reason="Possession of a weapon",
            today=self.today,
        )
        # Permanently excluded five weeks ago; the board will not reinstate and told the parents
        # eight school days ago: still on the school's roll while they may ask for a review, and
        # at the PRU full time (a second registration) since the sixth school day.
        child = self.pupil(9, SenStatus.SEN_SUPPORT)
        child.first_name, child.last_name = "Nadia", "Osei"
        home = child.home_school
        assert home is not None
        excluded = self.school_days_before(anchor, 25)
        record_roll_movement(
            self.session,
            self.actor,
            child,
            MovementKind.PERMANENT_EXCLUSION,
            excluded,
            home,
            reason="Persistent disruptive behaviour",
            today=self.today,
        )
        told = self.school_days_before(anchor, 8)
        record_roll_movement(
            self.session, self.actor, child, MovementKind.EXCLUSION_UPHELD, told, home, today=self.today
        )
        self.place(
            child,
            self.ap["pru"],
            Route.LA_EXCLUSION,
            self.add_days(excluded, 5),
            registration=Registration.DUAL,
            tier=Tier.TRANSITIONAL,
            planned_weeks=26,
        )
        # Suspended for ten school days from seven school days ago, with nothing arranged from the
        # sixth: the school's duty is not met.
        child = self.pupil(8, SenStatus.NONE)
        child.first_name, child.last_name = "Callum", "Brennan"
        assert child.home_school is not None
        record_roll_movement(
            self.session,
            self.actor,
            child,
            MovementKind.SUSPENSION,
            self.school_days_before(anchor, 6),
            child.home_school,
            days=10,
            reason="Serious breach of the behaviour policy",
            today=self.today,
        )
        self.independent_school_test(week_ago)

    def independent_school_test(self, start: date) -> None:
        """An unregistered provider at the independent-school test (Education Act 1996 s463(1)):
        four pupils full time, three days a week, one of whom has since been taken into care. A
        looked-after pupil full time is enough on their own, so the provider now meets the test, the
        daily checks alert the LA, and no further full-time placement can be made there."""
        boxing = self.setting(
            "Northside Boxing Academy",
            SettingKind.UNREGISTERED_AP,
            None,
            ref="UNREG-003",
            contact_name="Dean Carter",
            contact_phone="01234 556677",
            contact_email="dean@northsideboxing.example.org",
            safeguarding_checks_confirmed=True,
            safeguarding_checks_date=self.today - timedelta(days=60),
            last_qa_visit_date=self.today - timedelta(days=60),
            risk_assessment_date=self.today - timedelta(days=60),
            risk_assessment_notes="Ring sessions supervised by two coaches; first aid trained staff on site.",
        )
        self.ap["boxing"] = boxing
        self.session.flush()
        into_care = None
        for year, (first, last) in zip(
            (10, 10, 11, 11), (("Kian", "Walsh"), ("Tia", "Morgan"), ("Owen", "Price"), ("Ruby", "Lane")), strict=True
        ):
            child = self.pupil(year, SenStatus.NONE)
            child.first_name, child.last_name, child.looked_after = first, last, False
            self.place(
                child,
                boxing,
                Route.SCHOOL_ARRANGED,
                start,
                sessions="1111110000",
                registration=Registration.NONE,
                tier=Tier.TIME_LIMITED,
                planned_weeks=12,
                unregistered_override_reason="Agreed with the school: a sports-led timetable three days a week "
                "while a specialist place is found; reviewed every four weeks.",
            )
            into_care = into_care or child
        assert into_care is not None
        into_care.looked_after = True  # taken into care after the placement began


def _outreach(builder: _Builder, pupils: list[Pupil]) -> None:
    """Tier 1: outreach from The Oaks and Riverbank Academy into the secondary schools, for pupils
    and groups, mostly closed as sustained in mainstream."""
    from ap_register.budgets.outreach import close_engagement, log_session, start_engagement

    rng, today, actor = builder.rng, builder.today, builder.actor
    providers = [builder.ap["pru"], builder.ap["academy"]]
    secondary_ids = {s.id for s in builder.secondaries}
    candidates = [p for p in pupils if p.home_school_id in secondary_ids]
    staff = ("Outreach lead", "Behaviour mentor", "Learning mentor", "Family worker")

    def run(engagement: Any, sessions: int, minutes: tuple[int, ...], close: str | None) -> None:
        day = engagement.started_on
        last = None
        for _ in range(sessions):
            if day > today:
                break
            log_session(
                builder.session,
                actor,
                engagement,
                held_on=day,
                minutes=rng.choice(minutes),
                staff=rng.choice(staff),
                today=today,
            )
            last = day
            day = builder.add_days(day, 5)
        if close and last is not None and day <= today:
            close_engagement(builder.session, actor, engagement, closed_on=day, outcome=close, note="", today=today)

    for pupil in rng.sample(candidates, min(60, len(candidates))):
        assert pupil.home_school is not None
        start = builder.random_day(builder.history_start + timedelta(days=20), today - timedelta(days=14))
        engagement = start_engagement(
            builder.session,
            actor,
            provider=rng.choice(providers),
            school=pupil.home_school,
            kind=rng.choice(("coaching", "one_to_one")),
            started_on=start,
            pupil=pupil,
            today=today,
        )
        outcome = rng.choices(
            ("sustained_in_mainstream", "escalated_to_referral", "left_the_school", None), weights=(6, 2, 1, 2)
        )[0]
        run(engagement, rng.randint(3, 8), (45, 60, 90), outcome)
    for school in builder.secondaries[:6]:
        start = builder.random_day(builder.history_start + timedelta(days=20), today - timedelta(days=40))
        group = start_engagement(
            builder.session,
            actor,
            provider=builder.ap["pru"],
            school=school,
            kind="self_regulation_group",
            started_on=start,
            group_name="Year 8 self-regulation group",
            today=today,
        )
        run(group, 6, (60,), "sustained_in_mainstream")
        training = start_engagement(
            builder.session,
            actor,
            provider=builder.ap["academy"],
            school=school,
            kind="staff_training",
            started_on=builder.add_days(start, 3),
            group_name="Staff: de-escalation",
            today=today,
        )
        run(training, 1, (120, 180), "sustained_in_mainstream")


def _panels(builder: _Builder) -> None:
    """The area's panel: members, last fortnight's meeting with its decision, and the next meeting
    with the referrals waiting for it."""
    from ap_register.panels.rules import (
        PlacementTerms,
        SupportItem,
        add_member,
        agree_fair_access,
        build_agenda,
        create_panel,
        decide,
        schedule_meeting,
        submit_referral,
    )

    session, la, today, actor = builder.session, builder.la, builder.today, builder.actor
    users = {
        u.email.split("@")[0]: u for u in session.scalars(select(User).where(User.email.like(f"%@{EMAIL_DOMAIN}")))
    }
    panel = create_panel(session, actor, la, f"{la.name} Fair Access and Placement Panel", quorum=3)
    members = {
        name: add_member(session, actor, panel, users[name], chair=name == "panel.chair")
        for name in ("panel.chair", "panel.member", "commissioner", "school.lead", "ap.head")
    }
    _referral_history(builder, panel, users["panel.chair"])
    anchor = builder.calendar.last_school_day(today)
    past = schedule_meeting(session, actor, panel, anchor - timedelta(days=14), "Shire Hall, committee room 2")
    upcoming = schedule_meeting(session, actor, panel, builder.add_days(anchor, 3), "Shire Hall, committee room 2")

    def refer(
        pupil: Pupil,
        move: str,
        route: Route,
        setting: Setting | None,
        reasons: list[str],
        why: str,
        on: date,
        **views: str | None,
    ) -> Any:
        return submit_referral(
            session,
            actor,
            pupil,
            move=move,
            route=route,
            proposed_setting=setting,
            reason_codes=reasons,
            reasons=why,
            support=[
                SupportItem("Pastoral mentoring, twice a week", on - timedelta(days=70), on),
                SupportItem("Outreach sessions from The Oaks", on - timedelta(days=40)),
            ],
            missing_support_reason=None,
            parent_views=views.get("parent", "Supports the move"),
            pupil_views=views.get("pupil", "Willing to try it"),
            missing_views_reason=views.get("missing"),
            best_interest="A fresh start with the support in place, aiming to return to mainstream",
            fair_access_category=views.get("category"),
            today=on,
        )

    # Decided at the last meeting: a managed move between two of the area's secondary schools.
    mover = builder.pupil(9, SenStatus.NONE)
    mover.first_name, mover.last_name = "Amira", "Hughes"
    earlier = past.held_on - timedelta(days=5)
    case = refer(
        mover,
        "managed_move",
        Route.MANAGED_MOVE,
        next(s for s in builder.secondaries[3:] if s.id != mover.home_school_id),
        ["behaviour", "safeguarding"],
        "Friendship breakdown and online bullying; a fresh start agreed by both heads.",
        earlier,
    )
    build_agenda(session, actor, past)
    votes = {members[name].id: "for" for name in ("panel.chair", "panel.member", "commissioner")}
    decide(
        session,
        Actor(user=users["panel.chair"], via="demo"),
        past,
        case,
        outcome="approve",
        reasons="Support tried for a term; family and both schools agree; review in six weeks.",
        votes=votes,
        terms=PlacementTerms(builder.add_days(past.held_on, 2), "1" * 10, Registration.SOLE),
        today=today,
    )
    # Waiting for the next meeting.
    hilgay = builder.pupil(10, SenStatus.SEN_SUPPORT)
    hilgay.first_name, hilgay.last_name = "Noah", "Whitfield"
    if hilgay.home_school_id != builder.secondaries[0].id:
        record_roll_movement(
            session,
            actor,
            hilgay,
            MovementKind.ADMITTED,
            builder.school_day_near(anchor - timedelta(days=30)),
            builder.secondaries[0],
            today=today,
        )
    refer(
        hilgay,
        "transitional_ap",
        Route.LA_OTHER,
        builder.ap["academy"],
        ["behaviour", "attendance", "send"],
        "Two terms of falling attendance and escalating incidents despite a support plan.",
        anchor,
        child=None,
        missing="Noah would not meet staff; his views are being gathered by his key worker",
    )
    newcomer = builder.pupil(8, SenStatus.NONE, on_roll=False)
    newcomer.first_name, newcomer.last_name = "Tomasz", "Nowak"
    session.flush()
    arrived = refer(
        newcomer,
        "fair_access",
        Route.FAIR_ACCESS,
        builder.secondaries[5],
        ["no_school_place"],
        "Arrived from Poland in October; no school place found through admissions.",
        builder.school_day_near(anchor - timedelta(days=6)),
        category="l",
    )
    # The LA agreed the next school day to consider him under the protocol: a place is due 20
    # school days after.
    agree_fair_access(session, actor, arrived, min(builder.add_days(arrived.submitted_on, 1), today), today=today)
    build_agenda(session, actor, upcoming)


HISTORY_REASONS = (
    (["behaviour", "attendance"], "Escalating incidents and falling attendance despite a term of support."),
    (["exclusion"], "Permanently excluded; the LA arranges education from the sixth school day."),
    (["behaviour"], "Repeated suspensions; a time-limited place to re-engage, then back to school."),
    (["health"], "Anxiety keeping the pupil out of school for more than 15 school days."),
)


def _referral_history(builder: _Builder, panel: Any, chair: User) -> None:
    """The panel's past: most of the history's time-limited and transitional placements came
    from a referral the weekly panel approved (Thursdays), received one to six weeks before.
    Written as the old records held them (the LA adopts the register today), without the random
    draws, which stay as they were; the sufficiency page measures its waits from them."""
    session, la, today = builder.session, builder.la, builder.today
    placements = session.scalars(
        select(Placement)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == la.id,
            Placement.tier.is_not(None),
            Placement.converted_from_id.is_(None),
            Placement.start_date < today,
        )
        .order_by(Placement.start_date, Placement.id)
    ).all()
    meetings: dict[date, Meeting] = {}
    cases: dict[date, int] = {}
    for placement in placements:
        if placement.id % 5 == 0:  # one in five arranged without the panel (a school's own placement)
            continue
        held = placement.start_date - timedelta(days=2)
        held -= timedelta(days=(held.weekday() - 3) % 7)  # the Thursday before it starts
        received = held - timedelta(days=7 + placement.id * 11 % 29)
        try:  # schools refer in term time
            received = builder.calendar.last_school_day(received)
        except CalendarUnknown:
            received -= timedelta(days=max(received.weekday() - 4, 0))
        codes, why = HISTORY_REASONS[placement.id % len(HISTORY_REASONS)]
        assert placement.tier is not None
        referral = Referral(
            la_id=la.id,
            pupil_id=placement.pupil_id,
            move="time_limited_ap" if placement.tier == Tier.TIME_LIMITED else "transitional_ap",
            route=placement.route,
            tier=placement.tier,
            referring_setting_id=placement.home_school_id,
            proposed_setting_id=placement.setting_id,
            reason_codes=codes,
            reasons=why,
            parent_views="Supports the placement",
            pupil_views="Willing to try it",
            best_interest="Support tried in school first; a place to re-engage, aiming to return to mainstream",
            status="approved",
            submitted_on=received,
        )
        meeting = meetings.get(held)
        if meeting is None:
            meeting = meetings[held] = Meeting(panel_id=panel.id, held_on=held, location="Shire Hall, committee room 2")
            session.add(meeting)
        session.add(referral)
        session.flush()
        cases[held] = cases.get(held, 0) + 1
        session.add(AgendaItem(meeting_id=meeting.id, referral_id=referral.id, position=cases[held]))
        session.add(
            Decision(
                referral_id=referral.id,
                meeting_id=meeting.id,
                outcome="approve",
                reasons="Support in school was tried first; the place is in the pupil's best interest.",
                votes={},
                decided_by_id=chair.id,
                placement_id=placement.id,
            )
        )
        session.flush()


# The five outcomes differ between providers, as they would: (chance a session is attended,
# chance of grade 4+ in English and maths, chance of a sustained post-16 destination).
OUTCOME_PROFILES = {
    "pru": (0.66, 0.06, 0.50),
    "academy": (0.78, 0.12, 0.62),
    "free": (0.58, 0.04, 0.45),
    "independent": (0.88, 0.40, 0.80),
}
LEAVERS_PER_PROVIDER = 8  # dedicated Year 11 leavers per provider and year, beside the rest


def _leavers(builder: _Builder, year: int) -> list[Pupil]:
    """Year 11 pupils of an academic year, each in a transitional place at one of the scored
    providers from the spring term to the end of Year 11, then off to post-16."""
    made = []
    last_day = builder.calendar.last_school_day(AcademicYear(year).last_day)
    for key in OUTCOME_PROFILES:
        for _ in range(LEAVERS_PER_PROVIDER):
            sen = SenStatus.EHCP if builder.rng.random() < 0.2 else SenStatus.SEN_SUPPORT
            pupil = builder.pupil(11 + (AcademicYear.containing(builder.today).start - year), sen)
            start = builder.random_day(date(year + 1, 1, 5), date(year + 1, 2, 27))
            placement = builder.place(
                pupil,
                builder.ap[key],
                Route.SCHOOL_ARRANGED,
                start,
                tier=Tier.TRANSITIONAL,
                planned_weeks=None,
                destination_plan="Post-16: a college place on a vocational course, with transition visits.",
            )
            builder.run(placement, last_day, Destination.POST16_EDUCATION)
            assert pupil.home_school is not None
            record_roll_movement(
                builder.session,
                builder.actor,
                pupil,
                MovementKind.REMOVED_FROM_ROLL,
                last_day,
                pupil.home_school,
                reason="Left at the end of Year 11",
                today=builder.today,
            )
            made.append(pupil)
    return made


def _off_site_cluster(builder: _Builder, year: int) -> None:
    """One smaller secondary school directed many of its Year 10 and 11 pupils off site in the
    autumn: its movement profile stands far above the LA's, as an off-rolling signal would."""
    from ap_register.domain.errors import DomainError

    school = builder.secondaries[3]
    school.pupils_on_roll = 620
    start = AcademicYear(year).first_day
    pupils = builder.session.scalars(select(Pupil).where(Pupil.home_school_id == school.id).order_by(Pupil.id)).all()
    placed = 0
    for pupil in pupils:
        if placed == 7 or year_group(pupil.date_of_birth, start) not in (10, 11):
            continue
        day = builder.random_day(date(year, 9, 15), date(year, 11, 20))
        savepoint = builder.session.begin_nested()
        try:
            p = builder.place(pupil, builder.ap["academy"], Route.OFF_SITE_DIRECTION, day, tier=Tier.TIME_LIMITED)
            builder.run(p, builder.add_days(p.start_date, 30), Destination.RETURNED_HOME_SCHOOL)
        except DomainError:
            savepoint.rollback()
            continue
        savepoint.commit()
        placed += 1


def _outcomes(builder: _Builder) -> None:
    """What the five-outcome scores need for the last academic year that ended: registers at the
    providers (and at the home schools in the weeks before each placement), Year 11 results, and
    post-16 checks for the year before's leavers; outreach from every scored provider."""
    from sqlalchemy import insert

    from ap_register.budgets.outreach import close_engagement, log_session, start_engagement
    from ap_register.models import AttendanceMark, Ks4Result, Post16Check
    from ap_register.outcomes.rules import SCORED_KINDS, _Data

    session, rng, today, calendar = builder.session, builder.rng, builder.today, builder.calendar
    year = AcademicYear.last_ended(today).start
    _off_site_cluster(builder, year)
    profile_of = {builder.ap[key].id: profile for key, profile in OUTCOME_PROFILES.items()}
    first, last = AcademicYear(year).first_day, min(AcademicYear(year).last_day, today)
    # Outreach from every scored provider, closed in the autumn: due two terms later.
    secondary_ids = {s.id for s in builder.secondaries}
    candidates = list(
        session.scalars(select(Pupil).where(Pupil.home_la_id == builder.la.id, Pupil.home_school_id.in_(secondary_ids)))
    )
    for key in OUTCOME_PROFILES:
        for pupil in rng.sample(candidates, 6):
            assert pupil.home_school is not None
            started = builder.random_day(date(year, 9, 8), date(year, 10, 10))
            engagement = start_engagement(
                session,
                builder.actor,
                provider=builder.ap[key],
                school=pupil.home_school,
                kind=rng.choice(("coaching", "one_to_one")),
                started_on=started,
                pupil=pupil,
                today=today,
            )
            day = started
            for _ in range(4):
                log_session(
                    session, builder.actor, engagement, held_on=day, minutes=60, staff="Outreach lead", today=today
                )
                day = builder.add_days(day, 5)
            close_engagement(
                session,
                builder.actor,
                engagement,
                closed_on=day,
                outcome="sustained_in_mainstream",
                note="",
                today=today,
            )
    # Registers: each placement at a scored provider, every school day and session it covered.
    rows: list[dict[str, object]] = []
    placements = session.scalars(
        select(Placement)
        .join(Setting, Placement.setting_id == Setting.id)
        .where(
            Setting.la_id == builder.la.id,
            Setting.kind.in_(SCORED_KINDS),
            Placement.start_date <= last,
            or_(Placement.end_date.is_(None), Placement.end_date >= first),
        )
        .order_by(Placement.id)
    ).all()
    seen_before: set[int] = set()
    for placement in placements:
        attends, _, _ = profile_of.get(placement.setting_id, (0.75, 0, 0))
        own = min(0.98, max(0.2, rng.gauss(attends, 0.12)))
        start, end = max(placement.start_date, first), min(placement.end_date or last, last)
        for day in calendar.school_days(start, end):
            for index, half in enumerate(("AM", "PM")):
                if placement.sessions[2 * day.weekday() + index] != "1":
                    continue
                present = "/" if half == "AM" else "\\"
                code = present if rng.random() < own else rng.choice(("I", "O", "O", "U", "M"))
                rows.append(
                    {
                        "pupil_id": placement.pupil_id,
                        "setting_id": placement.setting_id,
                        "date": day,
                        "session": half,
                        "code": code,
                    }
                )
        # The home school's registers in the six weeks before (once per pupil).
        home = placement.home_school_id or placement.pupil.home_school_id
        if home is None or placement.pupil_id in seen_before or placement.start_date < first:
            continue
        seen_before.add(placement.pupil_id)
        before = min(0.95, max(0.3, rng.gauss(attends - 0.08, 0.12)))
        days = calendar.school_days(first, placement.start_date)[-31:-1]
        for day in days:
            for half in ("AM", "PM"):
                code = ("/" if half == "AM" else "\\") if rng.random() < before else rng.choice(("I", "O", "O", "N"))
                rows.append(
                    {"pupil_id": placement.pupil_id, "setting_id": home, "date": day, "session": half, "code": code}
                )
    # One mark a session: where a pupil's placements at a setting meet (one ends the day the next
    # starts), the register holds the first.
    unique = list({(r["pupil_id"], r["setting_id"], r["date"], r["session"]): r for r in reversed(rows)}.values())
    for chunk in range(0, len(unique), 5000):
        session.execute(insert(AttendanceMark), unique[chunk : chunk + 5000])
    # Results for every Year 11 leaver of the year, and post-16 checks for the year before's.
    data = _Data(session, [builder.la], year, today)
    for provider_id, pupil_ids in data.leavers(year).items():
        _, strong, _ = profile_of.get(provider_id, (0, 0.1, 0))
        for pupil_id in pupil_ids:
            if rng.random() < 0.08:
                continue  # no result recorded

            def grade(strong: float = strong) -> str:
                if rng.random() < strong:
                    return rng.choice(("4", "4", "5", "5", "6", "7"))
                return rng.choice(("U", "1", "2", "2", "3", "3", "E3", "L1"))

            session.add(Ks4Result(pupil_id=pupil_id, academic_year=year, english=grade(), maths=grade()))
    for provider_id, pupil_ids in data.leavers(year - 1).items():
        _, _, sustained = profile_of.get(provider_id, (0, 0, 0.5))
        for pupil_id in pupil_ids:
            october = "education" if rng.random() < min(1.0, sustained + 0.15) else rng.choice(("neet", "not_known"))
            march = (
                october if october != "education" or rng.random() < sustained / min(1.0, sustained + 0.15) else "neet"
            )
            for point, activity, checked in (
                ("october", october, date(year, 10, 31)),
                ("march", march, date(year + 1, 3, 31)),
            ):
                session.add(
                    Post16Check(
                        pupil_id=pupil_id,
                        leaving_year=year - 1,
                        check_point=point,
                        activity=activity,
                        checked_on=checked,
                    )
                )
    session.flush()


# The demo's budget: (provider, place type, unit cost) per year; places are sized from the
# placements the demo made, so the plan looks like one a real area agreed.
BUDGET_LINES = (
    ("pru", "time_limited", 18500),
    ("pru", "transitional", 21000),
    ("pru", "outreach", 55),
    ("academy", "time_limited", 19500),
    ("academy", "outreach", 55),
    ("free", "time_limited", 19000),
    ("independent", "time_limited", 24000),
    ("independent", "transitional", 24000),
    ("farm", "time_limited", 9000),
    ("music", "time_limited", 6000),
)
DEMO_RESERVE = 150000


def _budget(builder: _Builder) -> None:
    """A three-year plan from last financial year, agreed after the history it is set against:
    The Oaks and the others sized a little above their busiest week, Riverbank's time-limited
    places short of its use (so a `budget_over_plan` alert), a variation and a spot purchase."""
    from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

    from ap_register.budgets.rules import (
        agree_plan,
        create_plan,
        occupancy,
        set_line,
        utilisation,
        vary,
    )
    from ap_register.placements.rules import correct_placement

    session, la, today = builder.session, builder.la, builder.today
    # The commissioner holds the budget: the plan and its variation are theirs.
    commissioner = session.scalar(select(User).where(User.email == f"commissioner@{EMAIL_DOMAIN}"))
    actor = Actor(user=commissioner, via="demo")
    first = FinancialYear.containing(today).start - 1
    plan = create_plan(
        session,
        actor,
        la,
        name=f"{la.name} alternative provision budget {first}-{(first + 3) % 100:02d}",
        first_year=first,
        years=3,
        demand_policy=(
            "Growth beyond the commissioned places is met first from the reserve, as spot purchases agreed by "
            "the commissioner; the partnership reviews the lines each term and moves places between providers "
            "by recorded variation."
        ),
    )
    current = FinancialYear.containing(today).start

    def busiest(setting: Setting, tier: Tier, year: int) -> Decimal:
        start, end = FinancialYear(year).span
        day, peak = start, Decimal(0)
        while day <= min(end, today):
            peak = max(peak, occupancy(session, setting.id, tier, day))
            day += timedelta(days=7)
        return peak

    for year in range(first, first + 3):
        sized = min(year, current)  # the years ahead start as this year
        for key, place_type, cost in BUDGET_LINES:
            provider = builder.ap[key]
            if place_type == "outreach":
                places = Decimal(160 if key == "pru" else 120)
            else:
                places = max(busiest(provider, Tier(place_type), sized).to_integral_value(ROUND_CEILING), Decimal(1))
            set_line(
                session,
                actor,
                plan,
                year=year,
                provider=provider,
                place_type=place_type,
                commissioned=places,
                unit_cost=Decimal(cost),
            )
        set_line(session, actor, plan, year=year, place_type="reserve", commissioned=Decimal(DEMO_RESERVE), unit_cost=1)
    # Riverbank's time-limited places this year: short of its average use, so forecast over plan.
    this_year = next(u for u in utilisation(session, plan, today) if u.year == current)
    riverbank = next(
        u
        for u in this_year.lines
        if u.line.provider_id == builder.ap["academy"].id and u.line.place_type == "time_limited"
    )
    average = riverbank.forecast / this_year.school_days if this_year.school_days else Decimal(1)
    riverbank.line.commissioned = max((average * Decimal("1.6")).to_integral_value(ROUND_FLOOR) / 2, Decimal("0.5"))
    agree_plan(session, actor, plan)
    oaks = next(
        line
        for line in plan.lines
        if line.year == current and line.provider_id == builder.ap["pru"].id and line.place_type == "transitional"
    )
    vary(
        session,
        actor,
        oaks,
        change=Decimal(1),
        reason="Year 11 transitional places held to the summer: one more place at The Oaks, from the reserve",
    )
    # The latest time-limited placement at Horizon was booked as a spot purchase.
    spot = session.scalars(
        select(Placement)
        .where(
            Placement.setting_id == builder.ap["independent"].id,
            Placement.tier == Tier.TIME_LIMITED,
            Placement.start_date >= FinancialYear(current).first_day,
            Placement.start_date <= today,
        )
        .order_by(Placement.start_date.desc())
    ).first()
    if spot is not None:
        correct_placement(
            session,
            actor,
            spot,
            {
                "spot_purchase": True,
                "agreed_cost": Decimal("8400.00"),
                "spot_reason": "No free commissioned place within the sixth school day; agreed for one term",
            },
            reason="Booked as a spot purchase: Horizon had no free commissioned place",
        )
    session.flush()


def _commissioning(builder: _Builder) -> None:
    """The LA's AP framework, in force since the start of last school year, with three lots: The Oaks,
    Riverbank, Pathways and Horizon on lot 1 and Greenfields on lot 2, every one with its evidence
    in date, but Greenfields' insurance, which expired four days ago (in its grace period: an
    alert). Urban Beats has applied to lot 2 and lacks its DBS confirmation. Every school and
    provider is placed on the grid around Peterborough, so the directory measures distances."""
    from ap_register.commissioning import frameworks

    session, la, today = builder.session, builder.la, builder.today
    commissioner = session.scalar(select(User).where(User.email == f"commissioner@{EMAIL_DOMAIN}"))
    actor = Actor(user=commissioner, via="demo")
    grid = random.Random(873)  # its own stream: the rest of the demo is as it was
    for place in [*builder.primaries, *builder.secondaries, *builder.specials, *builder.ap.values()]:
        place.easting, place.northing = grid.randint(505_000, 535_000), grid.randint(285_000, 315_000)
    for site in builder.ap["farm"].sites:
        site.easting, site.northing = 546_200, 301_900  # Upwell, east of the city
    starts = date(AcademicYear.containing(today).start - 1, 9, 1)
    framework = frameworks.create_framework(
        session,
        actor,
        la,
        name=f"Alternative provision framework {starts.year} to {starts.year + 4}",
        kind="framework",
        starts_on=starts,
        ends_on=date(starts.year + 4, 8, 31),
        grace_days=10,
    )
    lots = [
        frameworks.add_lot(session, actor, framework, name=name, service=service, description=description)
        for name, service, description in (
            ("Education and engagement", "education_engagement", "Full-time or part-time places for ages 5 to 16"),
            ("Mentoring", "mentoring", "One-to-one and small-group mentoring, on site or in school"),
            ("Tuition", "tuition", "Tuition in English and maths, including for pupils too ill to attend school"),
        )
    ]
    checked = today - timedelta(days=60)
    for key in ("pru", "academy", "free", "independent", "farm", "music"):
        for kind in frameworks.CHECKS:
            if key == "music" and kind == "dbs_confirmation":
                continue
            in_grace = (key, kind) == ("farm", "insurance")
            expires = today - timedelta(days=4) if in_grace else checked + timedelta(days=365)
            frameworks.record_evidence(
                session,
                actor,
                la,
                builder.ap[key],
                kind=kind,
                evidence_date=min(checked, expires - timedelta(days=300)),
                expires_on=expires,
                reference=None,
                note=None,
                today=today,
            )
    on_the_lots = (
        ("pru", 0, "62.50", "session"),
        ("academy", 0, "70.00", "session"),
        ("free", 0, "66.00", "session"),
        ("independent", 0, "190.00", "day"),
        ("farm", 1, "45.00", "hour"),
    )
    applied_on = max(starts, today - timedelta(days=365))
    for key, lot, rate, unit in on_the_lots:
        approval = frameworks.apply(
            session, actor, lots[lot], builder.ap[key], rate=rate, rate_unit=unit, today=applied_on
        )
        frameworks.decide(
            session, actor, approval, outcome="approved", rate=None, rate_unit=None, reason=None, today=checked
        )
    frameworks.apply(session, actor, lots[1], builder.ap["music"], rate="40.00", rate_unit="hour", today=today)
    _agreements(builder, actor)


def _agreements(builder: _Builder, actor: Actor) -> None:
    """Two placements called off under the framework: one at The Oaks whose agreement every party
    has accepted, one at Riverbank still waiting for the parent."""
    from ap_register.commissioning import agreements

    session, today = builder.session, builder.today
    signed = clock.today()  # the day the versions are made, and accepted
    for key, parties in (("pru", ("school", "provider", "parent")), ("academy", ("school", "provider"))):
        running = session.scalars(
            select(Placement)
            .where(
                Placement.setting_id == builder.ap[key].id,
                Placement.home_school_id.is_not(None),
                Placement.start_date <= today,
                or_(Placement.end_date.is_(None), Placement.end_date > today),
            )
            .order_by(Placement.start_date.desc(), Placement.id)
        ).all()
        if not running:
            continue
        # The latest placement begun two months or more ago (it has a half term to report on).
        placement = next((p for p in running if p.start_date <= today - timedelta(days=60)), running[0])
        approval = agreements.approvals_for(session, placement)[0]
        school = placement.home_school.name if placement.home_school else "the school"
        terms = agreements.Terms(
            objectives=[
                (
                    f"{placement.pupil.first_name} attends at least 90% of sessions",
                    "The provider's register, each half term",
                ),
                ("Works towards grade 4 in English and maths", "Termly assessments, shared with the school"),
            ],
            sessions=placement.sessions,
            hours_per_week=f"{placement.sessions.count('1') * 2.5:g}",
            rate=str(approval.rate),
            rate_unit=approval.rate_unit,
            pays_on="attended" if key == "pru" else "agreed",
            payer="la" if key == "pru" else "high_needs",
            starts_on=placement.start_date,
            review_on=max(placement.start_date, today) + timedelta(weeks=6),
            safeguarding=f"Designated safeguarding lead at {builder.ap[key].name}: the deputy head, 01234 567100",
            contacts=f"{school}: the pastoral lead, 01234 500200. {builder.ap[key].name}: reception, 01234 567100",
        )
        # Called off once the provider was approved (60 days ago), or when the placement began.
        made = agreements.call_off(
            session, actor, placement, approval, terms, today=max(placement.start_date, today - timedelta(days=60))
        )
        parent = session.scalars(
            select(Contact.name).where(Contact.pupil_id == placement.pupil_id, Contact.role == "parent_carer")
        ).first()
        for party in parties:
            name = {"school": f"Head of year, {school}", "provider": "Dan Whitfield", "parent": parent or "A parent"}[
                party
            ]
            agreements.accept(
                session, actor, made, version_number=1, party=party, name=name, how="on_paper", signed_on=signed,
                today=signed,
            )  # fmt: skip
        _progress_reports(builder, made, leave_last=key != "pru")
        _payments(builder, made, approve_last=key == "pru")


def _payments(builder: _Builder, made: PlacementAgreement, *, approve_last: bool) -> None:
    """The provider's invoices for the agreement's last two months, sent by its head three days
    after each month ended. Each claims every agreed session at the agreement's rate (on an
    agreement that pays on attendance, the statement explains the sessions not attended); the
    older is approved by a commissioner, and last month's too with `approve_last`."""
    from ap_register.commissioning import payments

    session, today = builder.session, builder.today
    provider = made.placement.setting
    head = session.scalar(
        select(User).where(User.role == Role.AP_HEAD, User.setting_id == provider.id).order_by(User.id)
    )
    commissioner = session.scalar(
        select(User).where(User.role == Role.COMMISSIONER, User.la_id == builder.la.id).order_by(User.id)
    )
    sender = Actor(user=head, via="demo") if head is not None else builder.actor
    approver = Actor(user=commissioner, via="demo") if commissioner is not None else builder.actor
    last = payments.last_month(today)
    for month in (payments.last_month(last), last):
        rows = [r for r in payments.statement(session, provider, month, today).rows if r.pupil_id is not None]
        if not rows:
            continue
        received = min(today, payments.month_last(month) + timedelta(days=3))
        claims = [
            payments.Claim(
                f"Row {n}",
                row.upn,
                str(row.agreed),
                str((row.due / row.payable * row.agreed).quantize(Decimal("0.01")) if row.payable else row.due),
            )
            for n, row in enumerate(rows, start=2)
        ]
        invoice = payments.record_invoice(
            session, sender, provider, month, reference=f"{provider.ref}-{month:%Y%m}", received_on=received,
            claims=claims, how="imported", today=received,
        )  # fmt: skip
        if month != last or approve_last:
            shown = payments.statement(session, provider, month, received).approved_total
            payments.approve(
                session, approver, provider, month, invoice_id=invoice.id, shown_total=shown, today=received
            )


PUPIL_VOICES = (
    "I like that the groups are small and staff listen to me.",
    "Mornings are better than afternoons. I want to do more cooking.",
    "I did not want to come at first but it is OK now.",
    "I want to go back to my school but not yet.",
)
NEXT_STEPS = (
    "Keep the morning routine; add one afternoon session at the home school.",
    "Plan a visit to the home school with the key worker before the next review.",
    "Focus on reading: daily 20 minutes with a mentor.",
)


def _progress_reports(builder: _Builder, made: PlacementAgreement, *, leave_last: bool) -> None:
    """The provider's report for each half term of the agreement whose report has opened, written
    three days before it was due; with `leave_last`, the latest one due is not written (overdue,
    or still to write, by the day the demo is loaded)."""
    from ap_register.commissioning import progress

    head = builder.session.scalar(
        select(User).where(User.role == Role.AP_HEAD, User.setting_id == made.placement.setting_id).order_by(User.id)
    )
    writer = Actor(user=head, via="demo") if head is not None else builder.actor
    due = [p for p in progress.periods(builder.session, made) if p.opens <= builder.today]
    if leave_last and due:
        due = due[:-1]
    for n, period in enumerate(due):
        rating = ("some", "good", "good", "achieved")[min(n, 3)]
        report = progress.submit(
            builder.session,
            writer,
            made,
            period.number,
            [
                progress.Answer(rating, "Attendance at the provider's register, week by week, rising since the start"),
                progress.Answer(
                    ("not_started", "some", "good", "good")[min(n, 3)], "Reading age assessed; maths booklet work"
                ),
            ],
            pupil_voice=PUPIL_VOICES[(made.id + n) % len(PUPIL_VOICES)],
            next_steps=NEXT_STEPS[(made.id + n) % len(NEXT_STEPS)],
            today=max(period.opens, min(builder.today, period.due - timedelta(days=3))),
        )
        written = min(builder.today, period.due - timedelta(days=3))
        report.submitted_at = datetime.combine(written, time(15, 30), tzinfo=clock.ENGLAND)


def _census(builder: _Builder) -> None:
    """What the censuses need beyond the routes: the reason for placements whose route does not
    settle it, and the type of setting of an unregistered provider with no UKPRN. Two gaps are
    left for the validation report to find: the latest health-needs placement does not say
    whether the need is mental or physical, and the music mentoring project has no type."""
    session = builder.session
    placements = session.scalars(
        select(Placement)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == builder.la.id,
            Placement.route.in_((Route.LA_HEALTH, Route.LA_OTHER, Route.SCHOOL_ARRANGED)),
        )
        .order_by(Placement.start_date.desc(), Placement.id.desc())
    ).all()
    left_for_the_report = next((p for p in placements if p.route == Route.LA_HEALTH), None)
    for placement in placements:
        if placement is left_for_the_report:
            continue
        if placement.route == Route.LA_HEALTH:
            # Most health-needs placements in AP are for mental health needs.
            placement.census_reason = "medical_physical_health" if placement.id % 4 == 0 else "medical_mental_health"
        elif placement.route == Route.LA_OTHER:
            placement.census_reason = "other"
        else:
            placement.census_reason = "off_site_behaviour" if placement.id % 3 else "other"


def _recent_registers(builder: _Builder) -> None:
    """The Oaks takes its registers here: the last two school weeks, every pupil it expects,
    mostly present, with some illness and some unauthorised absence. This morning's digest of
    the latest school day's marks goes to the home schools and the attendance officer."""
    from ap_register.coverage.attendance import expected, record_register
    from ap_register.coverage.digest import send_digests

    oaks, rng = builder.ap["pru"], builder.rng
    anchor = builder.calendar.last_school_day(builder.today)
    days = builder.calendar.school_days(anchor - timedelta(days=20), anchor)[-10:]
    for day in days:
        for half in ("AM", "PM"):
            present = "/" if half == "AM" else "\\"
            marks = {}
            for row in expected(builder.session, builder.actor, oaks, day, half):
                roll = rng.random()
                marks[row.pupil.id] = "O" if roll < 0.07 else "I" if roll < 0.12 else present
            record_register(builder.session, builder.actor, oaks, day, half, marks, today=builder.today)
    send_digests(builder.session, anchor + timedelta(days=1))


def _alerts(builder: _Builder) -> int:
    """The morning's checks, as the nightly job would have run them: the alerts open today, two of
    them already taken on by the attendance officer."""
    from ap_register.coverage.alerts import acknowledge, assign, raise_alerts

    session = builder.session
    raised = raise_alerts(session, builder.la, builder.today).raised
    officer = session.scalars(select(User).where(User.email == f"attendance@{EMAIL_DOMAIN}")).one()
    opened = session.scalars(
        select(Alert).where(Alert.la_id == builder.la.id, Alert.status == "open").order_by(Alert.due, Alert.id)
    ).all()
    as_officer = Actor(user=officer, via="demo")
    for alert in opened[:2]:
        acknowledge(session, as_officer, alert, "Called the home school: provision is being arranged")
    for alert in opened[2:4]:
        assign(session, builder.actor, alert, officer)
    _weeks_counted(builder)
    return raised


def _absences(builder: _Builder) -> int:
    """The latest school day's same-day absence follow-up: every provider takes its morning
    register, all present but one child absent without a reason and one not marked; the morning
    run raises an alert for each (and for the Oaks' children marked O), the attendance officer
    (the LA's named officer) reaches one family and gets no answer from another, and the
    afternoon run escalates those on which nobody was reached."""
    from datetime import datetime, time

    from ap_register.casework import contacts
    from ap_register.coverage import absence
    from ap_register.coverage.attendance import expected, record_register

    session, la = builder.session, builder.la
    day = builder.calendar.last_school_day(builder.today)
    officer = session.scalars(select(User).where(User.email == f"attendance@{EMAIL_DOMAIN}")).one()
    la.absence_officer_id = officer.id
    oaks = builder.ap["pru"]
    missing = {"absent": False, "unmarked": False}
    for setting in builder.ap.values():
        if setting.id == oaks.id:
            continue  # the Oaks took its registers already (_recent_registers)
        marks: dict[int, str] = {}
        for row in expected(session, builder.actor, setting, day, "AM"):
            if not missing["absent"]:
                marks[row.pupil.id], missing["absent"] = "N", True
            elif not missing["unmarked"] and setting.kind == SettingKind.UNREGISTERED_AP:
                missing["unmarked"] = True  # the tutor has not sent the morning register
            else:
                marks[row.pupil.id] = "/"
        if marks:
            record_register(session, builder.actor, setting, day, "AM", marks, today=builder.today)
    morning = absence.follow_up(session, la, datetime.combine(day, time(10, 5), tzinfo=clock.ENGLAND))
    raised = session.scalars(
        select(Alert).where(Alert.la_id == la.id, Alert.kind == absence.KIND, Alert.due == day).order_by(Alert.id)
    ).all()
    as_officer = Actor(user=officer, via="demo")
    for alert, outcome, note in zip(
        raised,
        ("reached", "no_answer"),
        ("Mum answered: at the GP this morning, back after lunch. Provider told.", "Rang twice; no voicemail."),
        strict=False,
    ):
        parent = next(
            (p for p in contacts.people_around(session, as_officer, alert.pupil) if not p.contact.restriction), None
        )
        if parent is not None:
            absence.record_attempt(
                session, as_officer, alert.id, absence.AttemptDraft(parent.contact.id, "phone", outcome, note)
            )
    absence.follow_up(session, la, datetime.combine(day, time(13, 35), tzinfo=clock.ENGLAND))
    return morning.raised


def _caseloads(builder: _Builder) -> None:
    """Who follows whom: the attendance officer holds the cases of six children with an open alert,
    the LA administrator those of three children at an unregistered provider today."""
    from ap_register.casework.caseloads import assign

    session = builder.session
    officer, admin = (
        session.scalars(select(User).where(User.email == f"{local}@{EMAIL_DOMAIN}")).one()
        for local in ("attendance", "la.admin")
    )
    alerted = session.scalars(
        select(Alert.pupil_id)
        .where(Alert.la_id == builder.la.id, Alert.status != "resolved", Alert.pupil_id.is_not(None))
        .order_by(Alert.due, Alert.id)
    ).all()
    unregistered = session.scalars(
        select(Placement.pupil_id)
        .join(Setting, Setting.id == Placement.setting_id)
        .where(
            Setting.kind == SettingKind.UNREGISTERED_AP,
            Placement.start_date <= builder.today,
            (Placement.end_date.is_(None)) | (Placement.end_date >= builder.today),
        )
        .order_by(Placement.id)
    ).all()
    theirs = list(dict.fromkeys(alerted))[:6]
    for pupil_id in theirs:
        assign(session, builder.actor, pupil_id, officer.id)
    for pupil_id in [p for p in dict.fromkeys(unregistered) if p not in theirs][:3]:
        assign(session, builder.actor, pupil_id, admin.id)
    _notes(builder, Actor(user=officer, via="demo"), theirs[:3])


@dataclass(frozen=True)
class LetterPrinting:
    """Where a sent letter's PDF is kept (the app's document store) and its font's folder."""

    storage: Store
    font_dir: str


def _letters(builder: _Builder, printing: LetterPrinting | None) -> int:
    """Letters on the demo's records, each from the first child it fits who has a parent to write
    to: the school lead's notice of an off-site direction, sent by post; the attendance officer's
    letter about education from the sixth day of a permanent exclusion, completed and sent; a
    part-time timetable's agreement left as a draft to finish. A sent letter's PDF is kept where
    `printing` says (without it, or without the PDF's font, every letter stays a draft)."""
    from ap_register.casework import letter_files, letters

    session = builder.session
    lead, officer = (
        Actor(user=session.scalars(select(User).where(User.email == f"{local}@{EMAIL_DOMAIN}")).one(), via="demo")
        for local in ("school.lead", "attendance")
    )
    if printing is not None and not Path(printing.font_dir, "DejaVuSans.ttf").is_file():
        printing = None
    wanted = (
        (lead, Route.OFF_SITE_DIRECTION, "off_site_notice", {}, "post"),
        (
            officer,
            Route.LA_EXCLUSION,
            "sixth_day",
            {"session_times": "9:15am to 3pm, Monday to Friday", "report_to": "The duty manager at reception"},
            "email",
        ),
        (
            lead,
            Route.PART_TIME_TIMETABLE,
            "part_time_timetable",
            {"return_plan": "A session more each fortnight"},
            None,
        ),
    )
    made = 0
    for actor, route, kind, words, how in wanted:
        candidates = session.scalars(
            select(Pupil)
            .join(Placement, Placement.pupil_id == Pupil.id)
            .where(Pupil.home_la_id == builder.la.id, Placement.route == route)
            .order_by(Placement.start_date.desc(), Pupil.id)
            .limit(40)
        ).unique()
        for pupil in candidates:
            source = next((s for s in letters.sources(session, actor, pupil) if s.kind == kind), None)
            people = letters.recipients(session, actor, pupil)
            if source is None or not people:
                continue
            letter = letters.begin(session, actor, pupil.id, source.key, people[0].id)
            address = letter.edits.get("address") or "1 Station Road"
            letters.revise(session, actor, letter.id, {**letter.edits, "address": address, **words})
            if how is not None and printing is not None:
                chosen = how if letter.facts.get("recipient_email") else "post"
                printed = partial(letter_files.pdf, font_dir=printing.font_dir)
                letters.send(session, actor, letter.id, chosen, clock.today(), printing.storage, printed)
            made += 1
            break
    if printing is not None:
        _evidence(builder, printing.storage, officer)
    return made


def _evidence(builder: _Builder, storage: Store, officer: Actor) -> None:
    """A reintegration plan kept as evidence for the demo's latest referral to the panel (written
    by the demo itself, so not scanned: an upload always is)."""
    from ap_register.casework.documents import made_document
    from ap_register.models import Referral

    session = builder.session
    referral = session.scalars(
        select(Referral).where(Referral.la_id == builder.la.id).order_by(Referral.id.desc()).limit(1)
    ).first()
    if referral is None or officer.user is None:
        return
    data = (
        b"Reintegration plan\n\nWeeks 1-2: mornings at the provider, one afternoon back at school with a mentor.\n"
        b"Weeks 3-6: two days a week at school, rising to full time by the review.\n"
    )
    kept = made_document(
        session, officer, referral.pupil_id, "reintegration-plan.txt", "text/plain", data, "support_plan", "all",
        "Agreed with the family and the school", referral_id=referral.id,
    )  # fmt: skip
    storage.put(kept.storage_key, data)


def _notes(builder: _Builder, officer: Actor, pupil_ids: list[int]) -> None:
    """The attendance officer's notes on three of their cases: a call home for the LA's eyes
    only, a call to the school that everyone working with the child reads, and one correction."""
    from ap_register.casework.notes import NoteDraft, write

    day = builder.today - timedelta(days=3)
    for n, pupil_id in enumerate(pupil_ids):
        home = write(
            builder.session,
            officer,
            pupil_id,
            NoteDraft(day, "family", "Phoned home. Mum says the bus pass ran out; she will apply today.", "la"),
            today=builder.today,
        )
        write(
            builder.session,
            officer,
            pupil_id,
            NoteDraft(
                day,
                "school",
                "Agreed with the school's inclusion lead: the school will check attendance with the "
                "provider each morning and call home on the first day of absence.",
                "all",
            ),
            today=builder.today,
        )
        if n == 0:
            write(
                builder.session,
                officer,
                pupil_id,
                NoteDraft(day, "family", "It was nan who answered, not mum: nan will apply for the bus pass.", "la"),
                corrects=home.id,
                today=builder.today,
            )


def _weeks_counted(builder: _Builder) -> None:
    """The term's weeks so far as the daily checks would have counted them, each on its last
    school day (so the coverage picture has a term behind it)."""
    from ap_register.coverage.term import keep_week, term_of

    found = term_of(builder.session, builder.la, builder.today)
    if found is None:
        return
    friday = found[0] + timedelta(days=4 - found[0].weekday())
    while friday < builder.today:
        keep_week(builder.session, builder.la, friday)
        friday += timedelta(days=7)
    keep_week(builder.session, builder.la, builder.today)


def _access(builder: _Builder) -> None:
    """What waits for an answer about who sees a child: The Oaks' offer of one-to-one work for a
    pupil of the demo school lead's school (waiting for the school to agree), and a neighbouring
    LA's request for the record of a child whose family moved there (waiting for the LA admin)."""
    from ap_register.budgets.outreach import propose
    from ap_register.placements.transfers import request_transfer

    session, today = builder.session, builder.today
    school = builder.secondaries[0]
    engaged = set(session.scalars(select(OutreachEngagement.pupil_id).where(OutreachEngagement.pupil_id.is_not(None))))
    on_roll = session.scalars(
        select(Pupil).where(Pupil.home_school_id == school.id, Pupil.id.not_in(engaged)).order_by(Pupil.id)
    ).all()
    if on_roll:
        propose(
            session,
            builder.actor,
            provider=builder.ap["pru"],
            school=school,
            kind="one_to_one",
            started_on=today,
            upn=on_roll[0].upn,
            note="Asked for by the pupil's head of year at the termly outreach meeting",
            today=today,
        )
    neighbour = session.scalar(select(LocalAuthority).where(LocalAuthority.code == "935"))  # Suffolk
    movers = session.scalars(select(Pupil).where(Pupil.home_la_id == builder.la.id).order_by(Pupil.id.desc())).all()
    if neighbour is not None and movers:
        request_transfer(
            session,
            builder.actor,
            neighbour,
            upn=movers[0].upn,
            date_of_birth=movers[0].date_of_birth,
            reason="The family moved to Ipswich at half term and the child starts at a school there",
            today=today,
        )


def load_demo(
    session: Session, today: date | None = None, pupils: int = 600, printing: LetterPrinting | None = None
) -> DemoResult:
    """Load the demo area once; later calls change nothing and return the same sign-ins."""
    today = today or clock.today()
    la = session.scalar(select(LocalAuthority).where(LocalAuthority.code == DEMO_LA_CODE))
    if la is None:
        raise CalendarUnknown(f"LA {DEMO_LA_CODE} is not in the reference data: run init-db first")
    sign_ins = [(role.value, f"{local}@{EMAIL_DOMAIN}", DEMO_PASSWORD) for role, local, _, _ in DEMO_USERS]
    if session.scalar(select(User.id).where(User.email == sign_ins[0][1])) is not None:
        return DemoResult(created=False, la=la, sign_ins=sign_ins)
    builder = _Builder(session, la, today)
    # The history comes from the LA's old records: it adopts the register once the history is
    # built (below), so every placement in it is marked as from the old records.
    la.adopted_on = date.max
    builder.term_dates()
    builder.settings()
    builder.users()
    rng = builder.rng
    made_pupils: list[Pupil] = []
    dedicated = 2 * LEAVERS_PER_PROVIDER * len(OUTCOME_PROFILES)
    for _ in range(pupils - 11 - dedicated):
        year = rng.choice((5, 6, 7, 8, 8, 9, 9, 10, 10, 10, 11, 11, 11))
        sen = (
            SenStatus.EHCP if rng.random() < 0.15 else SenStatus.SEN_SUPPORT if rng.random() < 0.35 else SenStatus.NONE
        )
        made = builder.pupil(year, sen)
        made_pupils.append(made)
        builder.history(made)
    builder.problems()
    for year in (AcademicYear.containing(today).start - 2, AcademicYear.containing(today).start - 1):
        _leavers(builder, year)
    _outreach(builder, made_pupils)
    # The LA adopts the register today (or the day after the history's last start, where a
    # placement in the history begins in the next few school days): from then on its panel routes
    # need a decision and every check applies.
    latest = session.scalar(select(func.max(Placement.start_date)).join(Pupil).where(Pupil.home_la_id == la.id))
    la.adopted_on = max(today, latest + timedelta(days=1)) if latest else today
    _panels(builder)
    _outcomes(builder)
    _budget(builder)
    _commissioning(builder)
    _census(builder)
    _recent_registers(builder)
    raised = _alerts(builder)
    raised += _absences(builder)
    _caseloads(builder)
    _letters(builder, printing)
    _access(builder)
    session.flush()
    counts = {
        "settings": len(builder.primaries) + len(builder.secondaries) + len(builder.specials) + len(builder.ap),
        "pupils": builder.serial,
        "placements": session.scalar(
            select(func.count()).select_from(Placement).join(Pupil).where(Pupil.home_la_id == la.id)
        )
        or 0,
        "alerts": raised,
    }
    return DemoResult(created=True, la=la, sign_ins=sign_ins, counts=counts)
