"""Half-termly progress reports: the half terms an agreement reports on, attendance counted from
the raw registers (checked against a hand count), who writes a report and when, the overdue
alert, and who reads a report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.commissioning import progress
from ap_register.commissioning.agreements import accept, call_off, change
from ap_register.commissioning.progress import Answer, attendance, periods, submit
from ap_register.coverage.alerts import findings
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import forget_calendars
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.retention import anonymise
from ap_register.domain.vocab import Role, SettingKind
from ap_register.models import AttendanceMark, AuditEvent, Notification, ProgressReport, TermDate
from tests import factories
from tests.unit.test_agreements import TODAY, placed, terms  # noqa: F401  (the fixture)
from tests.unit.test_frameworks import market  # noqa: F401  (the fixture)

# The typical term dates (tests/factories.py): 23 February to 27 March 2026 is a half term, the
# next begins on 13 April 2026. The agreement starts on Monday 9 March and agrees Monday to
# Thursday, both sessions: 8 a week.
END = date(2026, 3, 27)


@pytest.fixture()
def agreed(db: Session, placed: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    made = call_off(db, placed["lead"], placed["placement"], placed["approval"], terms(), today=TODAY)
    head = Actor(user=factories.user(db, Role.AP_HEAD, placed["pru"]), via="test")
    db.flush()
    return {**placed, "agreement": made, "head": head}


def mark(db: Session, agreed: dict[str, Any], day: date, half: str, code: str, setting: Any = None) -> None:
    db.add(
        AttendanceMark(
            pupil_id=agreed["pupil"].id, setting_id=(setting or agreed["pru"]).id, date=day, session=half, code=code
        )
    )


def answers(n: int = 2) -> list[Answer]:
    return [Answer("good", f"Evidence {i}") for i in range(1, n + 1)]


def test_the_half_terms_begin_with_the_agreement_and_are_due_five_school_days_after(
    db: Session, agreed: dict[str, Any]
) -> None:
    found = periods(db, agreed["agreement"])
    first, second = found[0], found[1]
    assert (first.number, first.start, first.end, first.first, first.last) == (
        1, date(2026, 2, 23), END, date(2026, 3, 9), END,
    )  # fmt: skip
    assert first.opens == date(2026, 3, 13)
    assert first.due == date(2026, 4, 17)  # 13 April is the first school day after the Easter break
    assert (second.start, second.end) == (date(2026, 4, 13), date(2026, 5, 22))
    assert [first.state(d) for d in (date(2026, 3, 12), date(2026, 3, 13), date(2026, 4, 17), date(2026, 4, 20))] == [
        "not_yet", "open", "open", "overdue",
    ]  # fmt: skip


def test_the_attendance_matches_a_hand_count_of_the_registers(db: Session, agreed: dict[str, Any]) -> None:
    # Week 1 (9-12 March): present at every agreed session (8).
    for offset in range(4):
        mark(db, agreed, date(2026, 3, 9) + timedelta(days=offset), "AM", "/")
        mark(db, agreed, date(2026, 3, 9) + timedelta(days=offset), "PM", "\\")
    mark(db, agreed, date(2026, 3, 13), "AM", "/")  # a Friday: not agreed, not counted
    # Week 2: Mon present and N; Tue I and O; Wed X and B; Thu nothing marked.
    for day, half, code in [
        (date(2026, 3, 16), "AM", "/"),
        (date(2026, 3, 16), "PM", "N"),
        (date(2026, 3, 17), "AM", "I"),
        (date(2026, 3, 17), "PM", "O"),
        (date(2026, 3, 18), "AM", "X"),
        (date(2026, 3, 18), "PM", "B"),
    ]:
        mark(db, agreed, day, half, code)
    # Another setting's mark for the same child does not count at this provider.
    mark(db, agreed, date(2026, 3, 19), "AM", "/", setting=agreed["school"])
    # Week 3 (23-26 March): nothing marked.
    db.flush()
    counted = attendance(db, agreed["agreement"], date(2026, 3, 9), END)
    # 3 weeks of 8 agreed sessions; attended: 8 + / + B; unauthorised: N, O; authorised: I;
    # not a possible session: X; unmarked: Thursday's 2 and the third week's 8.
    assert (counted.agreed, counted.attended, counted.unauthorised, counted.authorised) == (24, 10, 2, 1)
    assert (counted.not_counted, counted.unmarked, counted.possible, counted.share) == (1, 10, 23, 43.5)


def sign(db: Session, agreed: dict[str, Any], version: int, party: str, on: date) -> None:
    accept(db, agreed["commissioner"], agreed["agreement"], version_number=version, party=party, name="Someone",
           how="on_paper", signed_on=on, today=on)  # fmt: skip


def test_a_change_counts_from_the_day_every_party_has_accepted_it(db: Session, agreed: dict[str, Any]) -> None:
    agreement = agreed["agreement"]
    with clock.fixed(date(2026, 3, 16)):
        change(db, agreed["lead"], agreement, terms(sessions="1010101010"), reason="Mornings only",
               version_number=1, today=date(2026, 3, 16))  # fmt: skip
    sign(db, agreed, 2, "school", date(2026, 3, 16))
    sign(db, agreed, 2, "provider", date(2026, 3, 17))
    db.flush()
    # Not yet in force: the parent has not accepted it, so the 3 weeks count 8 sessions each.
    assert attendance(db, agreement, date(2026, 3, 9), END).agreed == 24
    sign(db, agreed, 2, "parent", date(2026, 3, 18))
    db.flush()
    # In force from Wednesday 18 March: 8 in the first week, Mon and Tue (4) and Wed to Fri
    # mornings (3) in the second, 5 mornings in the third.
    assert attendance(db, agreement, date(2026, 3, 9), END).agreed == 8 + 4 + 3 + 5


def test_a_change_one_party_made_alone_does_not_change_what_is_reported(db: Session, agreed: dict[str, Any]) -> None:
    """The provider may change the agreement, but its change does not cut the sessions its report
    counts, nor the objectives it scores, until the school and the parent accept it."""
    agreement = agreed["agreement"]
    with clock.fixed(date(2026, 3, 16)):
        change(db, agreed["head"], agreement, terms(sessions="1000000000", objectives=[("Turn up", "Sometimes")]),
               reason="Fewer sessions", version_number=1, today=date(2026, 3, 16))  # fmt: skip
    db.flush()
    found = periods(db, agreement)[0]
    assert progress.reported_against(agreement, found, END).number == 1
    report = submit(db, agreed["head"], agreement, 1, answers(), pupil_voice="a", next_steps="b", today=END,
                    version_number=1)  # fmt: skip
    assert report.sessions_agreed == 24 and len(report.progress) == 2


def test_answers_written_against_a_version_since_replaced_are_refused(db: Session, agreed: dict[str, Any]) -> None:
    agreement = agreed["agreement"]
    with clock.fixed(date(2026, 3, 16)):
        change(db, agreed["lead"], agreement, terms(objectives=[("Attend", "The register")]), reason="One goal",
               version_number=1, today=date(2026, 3, 16))  # fmt: skip
    for party in ("school", "provider", "parent"):
        sign(db, agreed, 2, party, date(2026, 3, 16))
    with pytest.raises(DomainError) as stale:
        submit(db, agreed["head"], agreement, 1, answers(), pupil_voice="a", next_steps="b", today=END,
               version_number=1)  # fmt: skip
    assert "the report is now against version 2's objectives" in stale.value.errors[0].message
    with pytest.raises(DomainError) as moved:
        submit(db, agreed["head"], agreement, 1, answers(1), pupil_voice="a", next_steps="b", today=END,
               half_term=date(2026, 3, 2))  # fmt: skip
    assert "term dates changed while you wrote" in moved.value.errors[0].message
    assert db.scalar(select(ProgressReport)) is None


def test_the_provider_submits_a_report_on_each_objective_with_the_registers_kept(
    db: Session, agreed: dict[str, Any]
) -> None:
    mark(db, agreed, date(2026, 3, 9), "AM", "/")
    db.flush()
    report = submit(
        db, agreed["head"], agreed["agreement"], 1,
        [Answer("good", "Attended 20 of 23"), Answer("some", "Working at grade 3 in the mock")],
        pupil_voice="I like the mornings best", next_steps="Two mornings at Meadow High from April", today=END,
    )  # fmt: skip
    assert report.progress[1] == {
        "objective": "Reach grade 4 in English",
        "measure": "Termly assessment against the GCSE specification",
        "rating": "some",
        "evidence": "Working at grade 3 in the mock",
    }
    assert (report.sessions_agreed, report.sessions_attended, report.sessions_unmarked) == (24, 1, 23)
    assert report.counted_to == END and report.version.number == 1
    event = db.scalar(select(AuditEvent).where(AuditEvent.object_type == "progress_report"))
    assert event is not None and event.action == "submit" and event.pupil_id == agreed["pupil"].id
    assert periods(db, agreed["agreement"])[0].state(date(2026, 5, 1)) == "submitted"
    # The school's lead finds it in their inbox, which names neither the child nor what was said.
    told = db.scalar(select(Notification).where(Notification.user_id == agreed["lead"].user.id))
    assert told is not None and told.link == f"/commissioning/reports/{report.id}"
    assert "Jordan" not in told.subject + told.body and "mornings" not in told.body
    # A mark recorded later does not change what the report kept.
    mark(db, agreed, date(2026, 3, 10), "AM", "/")
    db.flush()
    assert db.get(ProgressReport, report.id).sessions_attended == 1  # type: ignore[union-attr]


def test_a_report_is_refused_until_it_opens_and_once_submitted(db: Session, agreed: dict[str, Any]) -> None:
    head, agreement = agreed["head"], agreed["agreement"]
    with pytest.raises(DomainError) as early:
        submit(db, head, agreement, 1, answers(), pupil_voice="Fine", next_steps="More", today=date(2026, 3, 12))
    assert "can be written from 13 March 2026" in early.value.errors[0].message
    submit(db, head, agreement, 1, answers(), pupil_voice="Fine", next_steps="More", today=date(2026, 3, 13))
    with pytest.raises(DomainError) as again:
        submit(db, head, agreement, 1, answers(), pupil_voice="Fine", next_steps="More", today=date(2026, 3, 20))
    assert "submitted already" in again.value.errors[0].message
    assert len(db.scalars(select(ProgressReport)).all()) == 1
    with pytest.raises(NotFound):
        submit(db, head, agreement, 99, answers(), pupil_voice="Fine", next_steps="More", today=END)


def test_every_missing_answer_is_named_and_nothing_is_kept(db: Session, agreed: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as refused:
        submit(db, agreed["head"], agreed["agreement"], 1, [Answer("brilliant", ""), Answer(None, "x" * 2001)],
               pupil_voice="  ", next_steps="Stop\x00", today=END)  # fmt: skip
    fields = {e.field: e.message for e in refused.value.errors}
    assert fields["rating_1"] == "Choose the progress made towards objective 1"
    assert fields["evidence_1"] == "Enter the evidence of progress towards objective 1"
    assert set(fields) == {"rating_1", "evidence_1", "rating_2", "evidence_2", "pupil_voice", "next_steps"}
    assert db.scalar(select(ProgressReport)) is None


def test_only_the_providers_own_head_writes_a_report(db: Session, agreed: dict[str, Any]) -> None:
    other_head = Actor(user=factories.user(db, Role.AP_HEAD, agreed["farm"]), via="test")
    for actor in (agreed["lead"], agreed["commissioner"], other_head):
        with pytest.raises(Forbidden):
            submit(db, actor, agreed["agreement"], 1, answers(), pupil_voice="a", next_steps="b", today=END)
    assert db.scalar(select(ProgressReport)) is None


def test_a_report_not_in_by_its_due_date_raises_an_alert_for_the_la(db: Session, agreed: dict[str, Any]) -> None:
    la = agreed["la"]
    # Written from the last fortnight of term; no alert until it is past due.
    assert [f for f in findings(db, la, date(2026, 4, 17)) if f.kind == "progress_report_overdue"] == []
    late = [f for f in findings(db, la, date(2026, 4, 20)) if f.kind == "progress_report_overdue"]
    assert [(f.due, f.pupil, f.setting) for f in late] == [(date(2026, 4, 17), agreed["pupil"], agreed["pru"])]
    assert late[0].message == (
        "The Oaks's progress report for the half term from 23 February 2026 to 27 March 2026 was due on 17 April 2026."
    )
    submit(db, agreed["head"], agreed["agreement"], 1, answers(), pupil_voice="a", next_steps="b",
           today=date(2026, 4, 20))  # fmt: skip
    assert [f for f in findings(db, la, date(2026, 4, 20)) if f.kind == "progress_report_overdue"] == []


def test_the_reports_are_read_by_the_parties_and_the_home_la_with_its_panel_only(
    db: Session, agreed: dict[str, Any]
) -> None:
    report = submit(db, agreed["head"], agreed["agreement"], 1, answers(), pupil_voice="a", next_steps="b", today=END)
    pupil = agreed["pupil"]
    panel = Actor(user=factories.user(db, Role.PANEL_MEMBER, agreed["la"]), via="test")
    for reader in (agreed["lead"], agreed["head"], agreed["commissioner"], panel):
        assert progress.of_pupil(db, reader, pupil) == [report]
        assert progress.get_report(db, reader, report.id) == report
    elsewhere = Actor(user=factories.user(db, Role.COMMISSIONER, agreed["other_la"]), via="test")
    other_head = Actor(user=factories.user(db, Role.AP_HEAD, agreed["farm"]), via="test")
    for outsider in (elsewhere, other_head):
        assert progress.of_pupil(db, outsider, pupil) == []
        with pytest.raises(NotFound):
            progress.get_report(db, outsider, report.id)


def test_the_waiting_list_names_what_each_reader_waits_for(db: Session, agreed: dict[str, Any]) -> None:
    on = date(2026, 4, 20)
    waiting = progress.to_write(db, agreed["head"], on)
    assert [(w.agreement, w.period.number, w.period.state(on)) for w in waiting] == [
        (agreed["agreement"], 1, "overdue")
    ]
    other_head = Actor(user=factories.user(db, Role.AP_HEAD, agreed["farm"]), via="test")
    assert progress.to_write(db, other_head, on) == []


def test_anonymising_the_child_removes_the_reports_words(db: Session, agreed: dict[str, Any]) -> None:
    report = submit(db, agreed["head"], agreed["agreement"], 1, answers(), pupil_voice="I miss my friends",
                    next_steps="Visit Meadow High", today=END)  # fmt: skip
    anonymise(db, Actor.system("test"), agreed["pupil"], date(2040, 1, 1))
    db.flush()
    db.refresh(report)
    assert "I miss my friends" not in report.pupil_voice and "Visit" not in report.next_steps
    assert all("Evidence" not in p["evidence"] for p in report.progress)


def test_a_late_call_off_is_not_reported_on_for_half_terms_before_it(db: Session, placed: dict[str, Any]) -> None:  # noqa: F811
    """A placement running since 9 March, called off on 20 April: the half term that ended on 27
    March is not due; the first reported on is the one the call-off falls in."""
    made = call_off(db, placed["lead"], placed["placement"], placed["approval"], terms(), today=date(2026, 4, 20))
    found = periods(db, made)
    assert (found[0].start, found[0].first) == (date(2026, 4, 13), date(2026, 4, 13))
    assert [f for f in findings(db, placed["la"], date(2026, 4, 20)) if f.kind == "progress_report_overdue"] == []


def test_a_report_opens_no_earlier_than_the_agreement_s_first_day(db: Session, placed: dict[str, Any]) -> None:  # noqa: F811
    made = call_off(db, placed["lead"], placed["placement"], placed["approval"], terms(starts_on=date(2026, 3, 23)),
                    today=TODAY)  # fmt: skip
    head = Actor(user=factories.user(db, Role.AP_HEAD, placed["pru"]), via="test")
    assert periods(db, made)[0].opens == date(2026, 3, 23)  # not 13 March, before it began
    with pytest.raises(DomainError):
        submit(db, head, made, 1, answers(), pupil_voice="a", next_steps="b", today=date(2026, 3, 20))


def test_a_corrected_half_term_keeps_its_report_and_is_not_reported_twice(db: Session, agreed: dict[str, Any]) -> None:
    report = submit(db, agreed["head"], agreed["agreement"], 1, answers(), pupil_voice="a", next_steps="b", today=END)
    # The LA corrects the half term's first day: the report still covers it.
    stretch = db.scalar(
        select(TermDate).where(TermDate.la_id == agreed["la"].id, TermDate.start_date == date(2026, 2, 23))
    )
    assert stretch is not None
    stretch.start_date = date(2026, 2, 24)
    db.flush()
    forget_calendars(db)
    assert periods(db, agreed["agreement"])[0].report == report
    with pytest.raises(DomainError) as again:
        submit(db, agreed["head"], agreed["agreement"], 1, answers(), pupil_voice="a", next_steps="b", today=END)
    assert "submitted already" in again.value.errors[0].message
    assert [f for f in findings(db, agreed["la"], date(2026, 4, 20)) if f.kind == "progress_report_overdue"] == []


def test_with_the_next_term_dates_unrecorded_nothing_is_due_and_nothing_guessed(
    db: Session, agreed: dict[str, Any]
) -> None:
    for stretch in db.scalars(select(TermDate).where(TermDate.la_id == agreed["la"].id, TermDate.start_date > END)):
        db.delete(stretch)
    db.flush()
    forget_calendars(db)
    first = periods(db, agreed["agreement"])[0]
    assert first.due is None and first.state(date(2026, 8, 1)) == "open"
    assert [f for f in findings(db, agreed["la"], date(2026, 8, 1)) if f.kind == "progress_report_overdue"] == []


def test_an_overdue_report_is_chased_for_a_year_and_never_for_an_anonymised_child(
    db: Session, agreed: dict[str, Any]
) -> None:
    la = agreed["la"]

    def chased(on: date) -> int:
        return len([f for f in findings(db, la, on) if f.key.endswith(":2026-02-23")])

    assert chased(date(2027, 4, 17)) == 1  # a year after it was due, 17 April 2026
    assert chased(date(2027, 4, 19)) == 0
    anonymise(db, Actor.system("test"), agreed["pupil"], date(2026, 5, 1))
    db.flush()
    assert chased(date(2026, 5, 1)) == 0


def test_a_pru_that_is_the_home_school_is_not_asked_to_write_the_report(db: Session, agreed: dict[str, Any]) -> None:
    """A child on the roll of one PRU, placed at The Oaks: the home PRU's head reads the agreement,
    and The Oaks' head, not theirs, writes the report."""
    home_pru = factories.setting(db, agreed["la"], SettingKind.PRU, name="Westside PRU")
    agreed["placement"].home_school_id = home_pru.id
    agreed["pupil"].home_school_id = home_pru.id
    db.flush()
    theirs = Actor(user=factories.user(db, Role.AP_HEAD, home_pru), via="test")
    on = date(2026, 4, 20)
    assert progress.to_write(db, theirs, on) == []
    assert [w.writes for w in progress.to_write(db, agreed["head"], on)] == [True]


def test_a_child_who_moves_school_takes_their_reports_to_the_new_school(db: Session, agreed: dict[str, Any]) -> None:
    report = submit(db, agreed["head"], agreed["agreement"], 1, answers(), pupil_voice="a", next_steps="b", today=END)
    new_school = factories.setting(db, agreed["la"], SettingKind.MAINSTREAM, name="Fen High")
    agreed["pupil"].home_school_id = new_school.id
    db.flush()
    new_lead = Actor(user=factories.user(db, Role.SCHOOL_LEAD, new_school), via="test")
    assert progress.of_pupil(db, new_lead, agreed["pupil"]) == [report]
    assert progress.of_pupil(db, agreed["lead"], agreed["pupil"]) == []
    chair = Actor(user=factories.user(db, Role.PANEL_CHAIR, agreed["la"]), via="test")
    assert progress.of_pupil(db, chair, agreed["pupil"]) == [report]
