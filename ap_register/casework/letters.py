"""Letters the law asks for, made from the record: checked, the writer's words added, downloaded as
PDF or Word, and once sent, kept on the child's record and chronology.

The kinds, each with the law it serves:

- **Notice of an off-site direction** (`off_site_notice`): the governing body's written notice to
  the parent, with what SI 2010/1156 reg 3(4) says it must state (where, who to report to, the
  first day and how long, the times, the reasons), from the contents recorded on the placement
  (`placements.notice`). Written by the directing school or the LA (`placement.notice`).
- **Education from the sixth day of a permanent exclusion** (`sixth_day`): the LA's letter to the
  parent about the full-time education it has arranged under Education Act 1996 s19(3A) from the
  sixth consecutive school day of the exclusion (SI 2007/1870 reg 4, as amended by SI 2014/3216).
  The written notice of an exclusion stays the head teacher's (Education and Inspections Act 2006
  s104(1); SI 2007/1870 reg 6): the LA's letter gives the parent, and the head teacher, the
  particulars that notice must carry where the LA is to provide, namely the first day of the
  education (s104(2)), its start and finish times, the address, and who the pupil reports to on
  the first day (reg 7, as substituted by SI 2012/1033 Sch 2 para 8(4)). Where they were not known
  by the end of the first day, the further notice must reach the parent at least 48 hours before
  the education starts (reg 6(3)), unless the parent agrees to an earlier start (reg 6(4)): the
  letter's page warns when it was sent too late for that. Written by the home LA's officers
  (`letter.la`).
- **The panel's decision** (`panel_decision`): the LA's letter telling the parent what its panel
  decided on a referral and why, and, for a fair access allocation, that a place is allocated
  under the LA's fair access protocol (School Admissions Code 2021 paras 3.9-3.17) with the
  child to start as soon as possible. Written by the home LA's officers who run panels
  (`letter.panel`).
- **A part-time timetable's agreement** (`part_time_timetable`): the agreement between the
  school and a parent the pupil normally lives with that, because of exceptional circumstances,
  the pupil is temporarily educated part-time, with the times and dates agreed (School Attendance
  (Pupil Registration) (England) Regulations 2024, SI 2024/208, reg 11(6)), the end date, the
  review and the plan back to full-time (Working together to improve school attendance, 2024).
  Written by the school or the LA that placed it (`placement.review`).

A letter is addressed to a parent or carer among the people around the child whose details the
writer reads and who is under no restriction. What the record said is frozen in the letter when it
is begun (`facts`), so a draft checked on Monday says on Tuesday what was checked; the writer's own
words (`edits`) change while it is a draft. Sending it (by post, by hand or by email, recorded on a
date) keeps it as it went: the PDF is kept as a document on the child's record, the letter can no
longer change, and it is on the chronology. A draft can be thrown away; a sent letter cannot.

A letter is read as its recipient's details are: one to a contact the LA keeps to itself (`la`)
by the LA's officers only, one to a contact shared with the settings (`all`) also by the settings
that work with the child (`permissions.scope_letters`). Each opening and download is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.casework import contacts
from ap_register.casework.documents import NOT_STORED, StorageUnavailable, Store, made_document
from ap_register.casework.notes import ANONYMISED
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, Forbidden, NotFound, Refusal
from ap_register.domain.text import kept_text
from ap_register.domain.vocab import PART_TIME_PURPOSES, ROLE_LABELS, MovementKind, Route
from ap_register.models import Contact, Decision, Letter, Movement, Placement, Pupil, Referral
from ap_register.panels.rules import OUTCOMES

KINDS = {
    "off_site_notice": "Notice of an off-site direction",
    "sixth_day": "Education from the sixth day of a permanent exclusion",
    "panel_decision": "The panel's decision",
    "part_time_timetable": "Part-time timetable agreement",
}
SENT_HOW = {"post": "By post", "hand": "By hand", "email": "By email"}
STATUSES = {"draft": "Draft", "sent": "Sent"}
MAX_LINE = 400
MAX_PARAGRAPH = 3000
NOT_A_PARENT = "Choose a parent or carer to write to"
KEPT = "A sent letter is kept as it went: write a new letter to say more"
NOT_PRINTED = (
    "The letter could not be printed as a PDF: its font is missing or cannot print a character in it. Download it "
    "as Word, or ask your local authority's administrator"
)
REG_7 = "SI 2007/1870 reg 7 (as substituted by SI 2012/1033 Sch 2 para 8(4))"


@dataclass(frozen=True)
class Words:
    """One thing the writer says in their own words: its label, hint and limits."""

    name: str
    label: str
    hint: str = ""
    max_length: int = MAX_LINE
    multiline: bool = False
    required: bool = True


SIGNED_BY = Words("signed_by", "Signed by", "The name and role of the person the letter is from")
EXTRA = Words(
    "extra", "Anything more to say (optional)", "A paragraph added before the signature",
    MAX_PARAGRAPH, multiline=True, required=False,
)  # fmt: skip
WORDS: dict[str, list[Words]] = {
    "off_site_notice": [],
    "sixth_day": [
        Words("address", "Address where the pupil is to attend", f"{REG_7}: the address of the provision"),
        Words("session_times", "Start and finish times", f"{REG_7}: for example, 9:15am to 3pm, Monday to Friday"),
        Words("report_to", "Who the pupil reports to on the first day", f"{REG_7}: their name and where to find them"),
    ],
    "panel_decision": [
        Words("next_steps", "What happens next", "What the parent should do and who to contact", MAX_PARAGRAPH, True),
    ],
    "part_time_timetable": [
        Words(
            "circumstances", "The exceptional circumstances",
            "Why the pupil is to be taught part-time for a while, in their best interests (never to manage behaviour)",
            MAX_PARAGRAPH, True,
        ),
        Words(
            "return_plan", "The plan back to full-time",
            "The steps back to a full timetable, the support given, and work for the sessions away",
            MAX_PARAGRAPH, True,
        ),
    ],
}  # fmt: skip


def words_of(kind: str) -> list[Words]:
    """Everything the writer says in a letter of this kind, in the order the form asks."""
    return [*WORDS[kind], EXTRA, SIGNED_BY]


@dataclass(frozen=True)
class Content:
    """A letter as it reads, whatever it is printed on (the page, a PDF, a Word document)."""

    sender: str
    dated: date
    recipient: list[str]
    about: str
    title: str
    opening: list[str]
    rows: list[tuple[str, str]]
    sessions: list[tuple[str, bool, bool]] = field(default_factory=list)
    sessions_at: str = ""
    closing: list[str] = field(default_factory=list)
    signed_by: str = ""
    signatures: list[str] = field(default_factory=list)
    basis: str = ""
    warning: str = ""
    # How it closes above the sender's name: an agreement, signed by its parties, has none.
    sign_off: str = "Yours sincerely,"


@dataclass(frozen=True)
class Source:
    """What a letter can be made from for this child: its kind, the record, and how it is named."""

    kind: str
    record_id: int
    label: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.record_id}"


# --- reading -----------------------------------------------------------------------------------


def visible(session: Session, actor: Actor, pupil: Pupil) -> list[Letter]:
    """The child's letters the actor may read, newest first."""
    stmt = select(Letter).where(Letter.pupil_id == pupil.id).order_by(Letter.id.desc())
    return list(session.scalars(permissions.scope_letters(actor, stmt)))


def get(session: Session, actor: Actor, letter_id: int) -> Letter:
    """A letter the actor may read (NotFound otherwise)."""
    found = session.scalar(permissions.scope_letters(actor, select(Letter).where(Letter.id == letter_id)))
    if found is None:
        raise NotFound("Page not found")
    return found


def opened(session: Session, actor: Actor, letter_id: int, how: str = "view") -> Letter:
    """A letter the actor may read, its opening (or download, `how`) on the child's audit trail."""
    letter = get(session, actor, letter_id)
    audit.record(session, actor, "view", "letter", letter.id, pupil_id=letter.pupil_id, detail={"as": how})
    return letter


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _day(value: date | str | None) -> str:
    found = _date(value) if isinstance(value, str) else value
    return f"{found:%-d %B %Y}" if found else ""


def content(letter: Letter, today: date | None = None) -> Content:
    """The letter as it reads: dated the day it was sent, or today while it is a draft."""
    facts, edits = letter.facts, letter.edits
    dated = letter.sent_on or today or clock.today()
    compose = COMPOSERS[letter.kind]
    made = compose(facts, edits)
    recipient = [facts["recipient"], *[line for line in (facts.get("recipient_address") or "").split(", ") if line]]
    about = f"{facts['pupil']} (born {_day(facts['born'])})"
    extra = [edits["extra"]] if edits.get("extra") else []
    warning = ""
    if letter.kind == "sixth_day":
        warning = late_warning(_date(facts["first_day"]), letter.sent_on, letter.sent_how) or ""
    return Content(
        sender=facts["sender"],
        dated=dated,
        recipient=recipient,
        about=about,
        title=KINDS[letter.kind],
        opening=made["opening"],
        rows=made["rows"],
        sessions=[tuple(day) for day in facts.get("sessions", [])],  # type: ignore[misc]
        sessions_at=facts.get("setting", ""),
        closing=[*made.get("closing", []), *extra],
        signed_by=edits.get("signed_by", ""),
        signatures=made.get("signatures", []),
        basis=made["basis"],
        warning=warning,
    )


# Whole days from the day a letter is sent to the day the education starts that make sure of 48
# hours before its start (SI 2007/1870 reg 6(3)) whatever the hour: by hand or email, three; by
# post, five (first class arrives within about two working days).
NOTICE_DAYS = {"hand": 3, "email": 3, "post": 5}


def late_warning(first_day: date | None, sent_on: date | None, how: str | None) -> str | None:
    """A letter about education from the sixth day that may reach the parent less than 48 hours
    before the education starts (SI 2007/1870 reg 6(3); the parent may agree to an earlier start,
    reg 6(4)). Shown beside the letter, never printed in it."""
    if first_day is None or sent_on is None or first_day - sent_on >= timedelta(days=NOTICE_DAYS.get(how or "", 3)):
        return None
    return (
        "This letter may have reached the parent less than 48 hours before the education starts: the particulars "
        "must be given at least 48 hours before, unless the parent agrees to an earlier start (SI 2007/1870 reg 6(3) "
        "and (4)). Record the parent's agreement in a case note, or the reason it was late"
    )


# --- the kinds' wording ------------------------------------------------------------------------


def _they(facts: dict[str, Any]) -> str:
    return "you" if facts.get("to_pupil") else facts["pupil"]


def _off_site(facts: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    how_long = (
        f"Until {_day(facts['last_day'])}"
        + (f", {facts['school_days']} school days" if facts.get("school_days") else "")
        if facts.get("last_day")
        else "Until the governing body ends the direction after a review"
    )
    closing = [
        "The governing body will review the direction at meetings, with you invited. You may ask in writing for a "
        "review meeting at any time: the governing body must hold one as soon as reasonably practicable, unless one "
        f"was held in the {facts['review_weeks']} weeks before your request.",
    ]
    if facts.get("copy_to"):
        closing.append(
            f"A copy of this notice goes to {facts['copy_to']}, which maintains "
            f"{facts['pupil']}'s education, health and care plan."
        )
    return {
        "opening": [
            f"The governing body of {facts['school']} has decided that {_they(facts)} must attend "
            f"{facts['setting']} to receive education intended to improve "
            f"{'your' if facts.get('to_pupil') else 'their'} behaviour (Education Act 2002, section 29A)."
        ],
        "rows": [
            ("Where", f"{facts['setting']}, {facts['address']}"),
            ("First day", _day(facts["first_day"])),
            ("How long", how_long),
            ("Times of the sessions", facts["session_times"]),
            ("Who to report to on the first day", facts["report_to"]),
            ("Why, and what it is meant to achieve", facts["reasons"]),
        ],
        "closing": closing,
        "basis": "Notice given under the Education (Educational Provision for Improving Behaviour) Regulations 2010 "
        "(SI 2010/1156), regulations 3 and 4A.",
    }


def _sixth_day(facts: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    excluded = f" on {_day(facts['excluded_on'])}" if facts.get("excluded_on") else ""
    return {
        "opening": [
            f"{facts['pupil']} was permanently excluded from {facts['school']}{excluded}. {facts['la']} must arrange "
            f"suitable full-time education for {facts['pupil']} from the sixth school day of the exclusion until "
            f"{facts['pupil']} is admitted to another school (Education Act 1996, section 19(3A)). This letter tells "
            "you what has been arranged.",
        ],
        "rows": [
            ("Where", f"{facts['setting']}, {edits.get('address', '')}"),
            ("First day", _day(facts["first_day"])),
            ("Start and finish times", edits.get("session_times", "")),
            ("Who to report to on the first day", edits.get("report_to", "")),
        ],
        "closing": [
            f"On the school days of the exclusion before the education starts (at most the first five), you must make "
            f"sure that {facts['pupil']} is not in a public place during school hours without a good reason "
            "(Education and Inspections Act 2006, section 103). The head teacher's notice of the exclusion names "
            "those days.",
        ],
        "basis": "Education Act 1996 s19(3A); the Education (Provision of Full-Time Education for Excluded Pupils) "
        "(England) Regulations 2007 (SI 2007/1870) regulations 4, 6 and 7; Education and Inspections Act 2006 "
        "sections 103 and 104.",
    }


def _panel(facts: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    rows = [
        ("Panel", facts["panel"]),
        ("Meeting", _day(facts["meeting_on"])),
        ("Decision", facts["outcome_label"]),
        ("Reasons", facts["reasons"]),
    ]
    if facts.get("setting"):
        rows.append(("Where", facts["setting"]))
    if facts.get("first_day"):
        rows.append(("First day", _day(facts["first_day"])))
    rows.append(("What happens next", edits.get("next_steps", "")))
    opening = [
        f"{facts['panel']} met on {_day(facts['meeting_on'])} to consider {facts['pupil']}'s case. "
        "This letter tells you what it decided and why."
    ]
    closing = []
    basis = f"{facts['la']}'s panel for alternative provision."
    if facts.get("fair_access"):
        if facts.get("outcome") == "approve" and facts.get("setting"):
            closing.append(
                f"The place is allocated under {facts['la']}'s fair access protocol, and {facts['pupil']} should "
                "start there as soon as possible."
            )
        closing.append(
            "This does not take away your right to apply for a place at any school, nor to appeal if an admission "
            "authority refuses you one."
        )
        basis = "School Admissions Code 2021, paragraphs 3.17 and 3.21 (fair access protocols)."
    return {"opening": opening, "rows": rows, "closing": closing, "basis": basis}


def _part_time(facts: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    return {
        "opening": [
            f"This letter records what {facts['school']} and you have agreed: because of exceptional circumstances, "
            f"{facts['pupil']} will for a short time be taught part-time, on the days and sessions below. A part-time "
            "timetable is never used to manage behaviour, lasts only as long as it must, and the sessions away are "
            "recorded as authorised absence.",
        ],
        "rows": [
            ("From", _day(facts["first_day"])),
            ("Until", _day(facts["last_day"]) or "Not yet agreed"),
            ("Reviewed with you and your child by", _day(facts["review_on"]) or "Not yet agreed"),
            ("Purpose", facts["purpose"]),
            ("The exceptional circumstances", edits.get("circumstances", "")),
            ("The plan back to full-time", edits.get("return_plan", "")),
        ],
        "closing": [
            "You may ask for a review at any time. If you no longer agree, tell the school: the timetable is only in "
            "place while you agree to it.",
        ],
        "signatures": [f"For {facts['school']}", f"Parent or carer ({facts['recipient']})"],
        "basis": "The School Attendance (Pupil Registration) (England) Regulations 2024 (SI 2024/208), regulation "
        "11(6); Working together to improve school attendance (2024).",
    }


COMPOSERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "off_site_notice": _off_site,
    "sixth_day": _sixth_day,
    "panel_decision": _panel,
    "part_time_timetable": _part_time,
}


# --- what a letter can be made from, and by whom -------------------------------------------------


def _may_write(session: Session, actor: Actor, kind: str, record: Placement | Decision, pupil: Pupil) -> bool:
    if kind == "off_site_notice":
        return permissions.can(session, actor, "placement.notice", record)
    if kind == "part_time_timetable":
        return permissions.can(session, actor, "placement.review", record)
    return permissions.can(session, actor, "letter.la" if kind == "sixth_day" else "letter.panel", pupil)


def sources(session: Session, actor: Actor, pupil: Pupil) -> list[Source]:
    """What the actor may write a letter from for this child, newest first."""
    found: list[Source] = []
    placed = session.scalars(
        permissions.scope_placements(
            actor, select(Placement).where(Placement.pupil_id == pupil.id).order_by(Placement.start_date.desc())
        )
    ).all()
    for p in placed:
        if p.route == Route.OFF_SITE_DIRECTION and not p.notice_missing:
            kind = "off_site_notice"
        elif p.route == Route.LA_EXCLUSION:
            kind = "sixth_day"
        elif p.route == Route.PART_TIME_TIMETABLE:
            kind = "part_time_timetable"
        else:
            continue
        if _may_write(session, actor, kind, p, pupil):
            found.append(Source(kind, p.id, f"{KINDS[kind]}: {p.setting.name}, from {_day(p.start_date)}"))
    theirs = session.scalars(
        select(Decision)
        .join(Referral, Referral.id == Decision.referral_id)
        .where(Referral.pupil_id == pupil.id)
        .options(joinedload(Decision.meeting))
        .order_by(Decision.decided_at.desc())
    ).all()
    superseded = {d.supersedes_id for d in theirs}
    decided = [d for d in theirs if d.outcome in ("approve", "decline")]
    for d in decided:
        if d.id not in superseded and _may_write(session, actor, "panel_decision", d, pupil):
            label = f"{KINDS['panel_decision']}: {OUTCOMES[d.outcome].lower()}, {_day(d.meeting.held_on)}"
            found.append(Source("panel_decision", d.id, label))
    return found


def recipients(session: Session, actor: Actor, pupil: Pupil) -> list[Contact]:
    """The parents and carers the actor may write to: those whose details they read, under no
    restriction, with an address or an email."""
    if not contacts.may_read(session, actor, pupil):
        return []
    shown = [p for p in contacts.people_around(session, actor, pupil) if p.contact.role == "parent_carer"]
    return [
        p.contact
        for p in shown
        if not p.withheld and not (p.contact.restriction or "").strip() and (p.contact.address or p.contact.email)
    ]


def _facts(
    session: Session, actor: Actor, source: Source, record: Placement | Decision, pupil: Pupil
) -> dict[str, Any]:
    from ap_register.placements import rules as placement_rules

    user = actor.user
    facts: dict[str, Any] = {
        "pupil": pupil.full_name,
        "born": pupil.date_of_birth.isoformat(),
        "la": pupil.home_la.name,
        "sender": user.organisation_name if user is not None else pupil.home_la.name,
    }
    if isinstance(record, Placement):
        facts["setting"] = record.setting.name
        facts["sessions"] = [list(day) for day in week_pattern.grid(record.sessions)]
        facts["first_day"] = record.start_date.isoformat()
    if source.kind == "off_site_notice":
        assert isinstance(record, Placement)
        made = placement_rules.notice_letter(session, record)
        facts.update(
            school=made.school, address=made.address, to_pupil=made.to_pupil,
            last_day=made.last_day.isoformat() if made.last_day else None, school_days=made.school_days,
            session_times=made.session_times, report_to=made.report_to, reasons=made.reasons,
            copy_to=made.copy_to, review_weeks=made.review_weeks,
        )  # fmt: skip
    elif source.kind == "sixth_day":
        assert isinstance(record, Placement)
        excluded = session.scalar(
            select(Movement)
            .where(Movement.pupil_id == pupil.id, Movement.kind == MovementKind.PERMANENT_EXCLUSION)
            .where(Movement.date <= record.start_date)
            .order_by(Movement.date.desc(), Movement.id.desc())
            .limit(1)
        )
        school = record.home_school or (excluded.setting if excluded is not None else None)
        facts.update(
            school=school.name if school is not None else "the school",
            excluded_on=excluded.date.isoformat() if excluded is not None else None,
        )
    elif source.kind == "panel_decision":
        assert isinstance(record, Decision)
        referral = record.referral
        placed = session.get(Placement, record.placement_id) if record.placement_id else None
        facts.update(
            panel=record.meeting.panel.name, meeting_on=record.meeting.held_on.isoformat(),
            outcome=record.outcome, outcome_label={"approve": "Approved", "decline": "Not approved"}[record.outcome],
            reasons=record.reasons, fair_access=referral.route == Route.FAIR_ACCESS,
            setting=placed.setting.name if placed is not None else None,
            first_day=placed.start_date.isoformat() if placed is not None else None,
        )  # fmt: skip
    else:
        assert isinstance(record, Placement)
        facts.update(
            school=record.setting.name,
            last_day=record.planned_end_date.isoformat() if record.planned_end_date else None,
            review_on=record.next_review_date.isoformat() if record.next_review_date else None,
            purpose=PART_TIME_PURPOSES.get(record.part_time_purpose or "", "Not recorded"),
        )
    return facts


def _default_words(source: Source, record: Placement | Decision, actor: Actor) -> dict[str, str]:
    from ap_register.placements import rules as placement_rules

    user = actor.user
    signer = f"{user.name}, {ROLE_LABELS[user.role]}" if user is not None else actor.name
    words = {w.name: "" for w in words_of(source.kind)} | {"signed_by": signer[:MAX_LINE]}
    if source.kind == "sixth_day":
        assert isinstance(record, Placement)
        words["address"] = placement_rules.site_address(record.setting) or ""
    elif source.kind == "part_time_timetable":
        assert isinstance(record, Placement)
        words["circumstances"] = (record.reason or "")[:MAX_PARAGRAPH]
    return words


def _source(session: Session, actor: Actor, pupil: Pupil, key: str) -> tuple[Source, Placement | Decision]:
    chosen = next((s for s in sources(session, actor, pupil) if s.key == key), None)
    if chosen is None:
        raise DomainError("The letter was not begun", [FieldError("source", "Choose what the letter is about")])
    record: Placement | Decision | None = session.get(
        Decision if chosen.kind == "panel_decision" else Placement, chosen.record_id
    )
    assert record is not None
    return chosen, record


# --- writing -------------------------------------------------------------------------------------


def begin(session: Session, actor: Actor, pupil_id: int, source_key: str, contact_id: int | None) -> Letter:
    """Begin a letter: the record's facts frozen in it, the writer's words to check and complete."""
    pupil = permissions.get_pupil(session, actor, pupil_id)
    permissions.require(session, actor, "letter.write", pupil)
    if pupil.anonymised_on is not None:
        raise DomainError("The letter was not begun", [FieldError("", ANONYMISED)])
    refusal = Refusal()
    chosen = record = None
    try:
        chosen, record = _source(session, actor, pupil, source_key)
    except DomainError as error:
        refusal.errors.extend(error.errors)
    recipient = next((c for c in recipients(session, actor, pupil) if c.id == contact_id), None)
    if recipient is None:
        refusal.add("recipient", NOT_A_PARENT)
    refusal.raise_if_any("The letter was not begun")
    assert chosen is not None and record is not None and recipient is not None
    facts = _facts(session, actor, chosen, record, pupil)
    facts["recipient"] = recipient.name
    facts["recipient_address"] = recipient.address or ""
    facts["recipient_email"] = recipient.email or ""
    if chosen.kind != "off_site_notice":
        facts["to_pupil"] = False
    elif facts["to_pupil"]:
        facts["recipient"] = pupil.full_name
    user = actor.user
    letter = Letter(
        pupil_id=pupil.id,
        kind=chosen.kind,
        placement_id=record.id if isinstance(record, Placement) else None,
        decision_id=record.id if isinstance(record, Decision) else None,
        contact_id=recipient.id,
        # The panel's decision is the LA's to tell; otherwise as the recipient's details are read.
        audience="la" if chosen.kind == "panel_decision" else recipient.audience,
        facts=facts,
        edits=_default_words(chosen, record, actor),
        status="draft",
        created_by_id=actor.user_id,
        created_by_name=user.name if user is not None else actor.name,
        organisation=user.organisation_name if user is not None else "",
    )
    with session.begin_nested():
        session.add(letter)
        session.flush()
        audit.record(
            session, actor, "create", "letter", letter.id, pupil_id=pupil.id,
            detail={"kind": chosen.kind, "audience": letter.audience},
        )  # fmt: skip
    return letter


def _to_change(session: Session, actor: Actor, letter_id: int) -> tuple[Letter, Pupil]:
    """A letter the actor reads and may write, and its child."""
    letter = get(session, actor, letter_id)
    pupil = permissions.get_pupil(session, actor, letter.pupil_id)
    permissions.require(session, actor, "letter.write", pupil)
    record: Placement | Decision | None = (
        session.get(Placement, letter.placement_id)
        if letter.placement_id
        else session.get(Decision, letter.decision_id)
    )
    if record is None or not _may_write(session, actor, letter.kind, record, pupil):
        raise Forbidden("You do not have permission to do this")
    return letter, pupil


def may_change(session: Session, actor: Actor, letter: Letter) -> bool:
    """May the actor change, send or throw away this (readable) letter?"""
    try:
        _to_change(session, actor, letter.id)
    except (NotFound, Forbidden):
        return False
    return letter.status == "draft"


def checked_words(kind: str, given: dict[str, str], *, complete: bool) -> dict[str, str]:
    """The writer's words for a letter of this kind, each checked; `complete` asks for every
    required one (to send), otherwise a draft may leave them blank."""
    refusal = Refusal()
    kept: dict[str, str] = {}
    for words in words_of(kind):
        value = kept_text(
            refusal, words.name, words.label, given.get(words.name) or "", words.max_length, multiline=words.multiline
        )
        if complete and words.required and not (value or "").strip():
            refusal.add(words.name, f"Enter {words.label[0].lower()}{words.label[1:]}")
        kept[words.name] = value or ""
    refusal.raise_if_any("The letter was not saved" if not complete else "The letter was not sent")
    return kept


def revise(session: Session, actor: Actor, letter_id: int, given: dict[str, str]) -> list[str]:
    """Change a draft's words; returns the names of those that changed (audited, not their values)."""
    letter, _pupil = _to_change(session, actor, letter_id)
    if letter.status != "draft":
        raise DomainError("The letter was not saved", [FieldError("", KEPT)])
    kept = checked_words(letter.kind, given, complete=False)
    changed = sorted(name for name, value in kept.items() if value != letter.edits.get(name, ""))
    if changed:
        # Only while it is a draft: a sending at the same moment wins, and these words are refused.
        taken = session.execute(
            update(Letter)
            .where(Letter.id == letter.id, Letter.status == "draft")
            .values(edits={**letter.edits, **kept})
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise DomainError("The letter was not saved", [FieldError("", KEPT)])
        session.refresh(letter)
        audit.record(
            session, actor, "update", "letter", letter.id, pupil_id=letter.pupil_id, detail={"changed": changed}
        )
    return changed


def send(
    session: Session, actor: Actor, letter_id: int, how: str, sent_on: date | None, storage: Store,
    render_pdf: Callable[[Content], bytes],
) -> Letter:  # fmt: skip
    """Record a draft as sent: how and on what day; its PDF is kept on the child's record, and the
    letter can no longer change. Sent twice at once, the second is told it was sent already."""
    letter, pupil = _to_change(session, actor, letter_id)
    if letter.status != "draft":
        raise DomainError("The letter was not sent", [FieldError("", KEPT)])
    today = clock.today()
    refusal = Refusal()
    if how not in SENT_HOW:
        refusal.add("how", "Choose how the letter was sent")
    elif how == "email" and not letter.facts.get("recipient_email"):
        refusal.add("how", "The register holds no email address for the person it is to")
    elif how == "post" and not letter.facts.get("recipient_address"):
        refusal.add("how", "The register holds no address for the person it is to")
    if sent_on is None:
        refusal.add("sent_on", "Enter the day the letter was sent")
    elif sent_on > today:
        refusal.add("sent_on", "The day the letter was sent cannot be in the future")
    elif sent_on < letter.created_at.astimezone(clock.ENGLAND).date():
        refusal.add("sent_on", "The day the letter was sent cannot be before it was begun")
    try:
        checked_words(letter.kind, letter.edits, complete=True)
    except DomainError as error:
        refusal.errors.extend(error.errors)
    # The person it is to, as the register holds them now: still one to write to, at the address
    # and email the letter was made with.
    now = next((c for c in recipients(session, actor, pupil) if c.id == letter.contact_id), None)
    if now is None:
        refusal.add(
            "",
            f"{letter.facts['recipient']} can no longer be written to (a restriction, or their details "
            "were removed): throw this draft away",
        )
    elif (now.address or "", now.email or "") != (
        letter.facts.get("recipient_address", ""),
        letter.facts.get("recipient_email", ""),
    ):
        refusal.add(
            "",
            f"{now.name}'s address or email has changed since the letter was begun: throw this draft "
            "away and begin another",
        )
    refusal.raise_if_any("The letter was not sent")
    assert now is not None
    assert sent_on is not None
    # In one savepoint: a PDF that cannot be kept takes the sending back with it.
    with session.begin_nested():
        # One sending: the row changes only while it is a draft, so a second sending at once finds none.
        taken = session.execute(
            update(Letter)
            .where(Letter.id == letter.id, Letter.status == "draft")
            .values(
                status="sent",
                sent_on=sent_on,
                sent_how=how,
                sent_at=clock.now(),
                sent_by_id=actor.user_id,
                audience="la" if "la" in (now.audience, letter.audience) else "all",
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise DomainError("The letter was not sent", [FieldError("", "The letter was sent already")])
        session.refresh(letter)
        data = render_pdf(content(letter))
        # Among the child's documents for the LA's officers; the settings that read the letter
        # open its PDF through the letter (`scope_letters`), which follows who works with the child now.
        document = made_document(
            session, actor, pupil.id, filename(letter, "pdf"), "application/pdf", data, "letter_sent", "la",
            f"{KINDS[letter.kind]}, to {letter.facts['recipient']}, sent {_day(sent_on)}",
        )  # fmt: skip
        letter.document_id = document.id
        audit.record(
            session,
            actor,
            "send",
            "letter",
            letter.id,
            pupil_id=pupil.id,
            detail={"how": how, "on": sent_on.isoformat()},
        )
        try:
            storage.put(document.storage_key, data)
        except (OSError, StorageUnavailable) as error:
            raise DomainError("The letter was not sent", [FieldError("", NOT_STORED)]) from error
    return letter


def discard(session: Session, actor: Actor, letter_id: int) -> None:
    """Throw away a draft (a sent letter is kept)."""
    letter, _pupil = _to_change(session, actor, letter_id)
    if letter.status != "draft":
        raise DomainError("The letter was not thrown away", [FieldError("", KEPT)])
    gone = session.execute(
        delete(Letter)
        .where(Letter.id == letter.id, Letter.status == "draft")
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError("The letter was not thrown away", [FieldError("", KEPT)])
    audit.record(session, actor, "delete", "letter", letter.id, pupil_id=letter.pupil_id, detail={"kind": letter.kind})
    session.expunge(letter)


def filename(letter: Letter, suffix: str) -> str:
    """The download's name: what it is and the letter's number, never the child's name."""
    return f"letter-{letter.id}-{letter.kind.replace('_', '-')}.{suffix}"


def forget(session: Session, pupil: Pupil) -> None:
    """Anonymising: the child's letters go (their PDFs go with the documents)."""
    for letter in session.scalars(select(Letter).where(Letter.pupil_id == pupil.id)):
        session.delete(letter)
    session.flush()
