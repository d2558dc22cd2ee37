"""Half-termly progress reports as the provider writes them and the school, the LA and its panel
read them: the provider's list, the form filled from the registers, its errors, the report, and
where it shows (the child's page, the chronology); who may not write or read one."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import AttendanceMark, AuditEvent, ProgressReport
from tests.pages import errors, page, post, sign_in, text

# The world's agreement runs from 1 September 2026; today (the tests' clock) is 4 December 2026.
# Its first half term, 3 September to 23 October 2026, was due on 6 November: overdue. The second,
# 2 November to 18 December, opened today, and the world's provider has reported on it.


def test_the_provider_writes_the_overdue_report_and_the_school_reads_it(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    agreement, pupil, pru = home["agreement"], home["pupil"], home["pru"]
    db.add(AttendanceMark(pupil_id=pupil.id, setting_id=pru.id, date=date(2026, 9, 7), session="AM", code="/"))
    db.add(AttendanceMark(pupil_id=pupil.id, setting_id=pru.id, date=date(2026, 9, 7), session="PM", code="N"))
    db.commit()
    sign_in(client, home["users"][Role.AP_HEAD].email)
    listed = text(page(client.get("/commissioning/reports")))
    assert "Reports to write" in listed and pupil.full_name in listed
    assert "3 September 2026 to 23 October 2026" in listed and "Overdue" in listed
    assert "2 November 2026 to 18 December 2026" not in listed  # reported on
    home_page = text(page(client.get("/")))
    assert "Progress reports to write" in home_page and "1 report to write, 1 overdue" in home_page

    url = f"/commissioning/agreements/{agreement.id}/half-terms/1/report"
    form = text(page(client.get(url)))
    assert "Objective 1: Robin attends every session" in form
    assert "Measured by: The register, reviewed each half term" in form
    refused = page(post(client, url, {"rating_1": "", "evidence_1": "", "pupil_voice": "", "next_steps": ""}), 200)
    assert errors(refused) == [
        *[m for n in range(1, 5) for m in (f"Choose the progress made towards objective {n}",
                                           f"Enter the evidence of progress towards objective {n}")],
        "Enter what the pupil says about their progress, in their own words",
        "Enter the next steps",
    ]  # fmt: skip
    first_half = select(ProgressReport).where(
        ProgressReport.agreement_id == agreement.id, ProgressReport.period_start == date(2026, 9, 3)
    )
    assert db.scalar(first_half) is None
    sent = post(
        client,
        url,
        {
            "rating_1": "some",
            "evidence_1": "Came every Monday morning; afternoons are harder",
            **{f"rating_{n}": "good" for n in (2, 3, 4)},
            **{f"evidence_{n}": "On track" for n in (2, 3, 4)},
            "pupil_voice": "I like cooking best",
            "next_steps": "Afternoon sessions in the kitchen",
        },
    )
    assert sent.status_code == 302
    report = db.scalar(first_half)
    assert report is not None and sent.headers["Location"].endswith(f"/commissioning/reports/{report.id}")
    # Filled from the registers: every agreed session of the half term, one present, one N.
    assert (report.sessions_attended, report.sessions_unauthorised) == (1, 1)
    assert report.sessions_agreed == report.sessions_attended + report.sessions_unauthorised + report.sessions_unmarked

    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    shown = text(page(client.get(f"/commissioning/reports/{report.id}")))
    assert "Progress report, 3 September 2026 to 23 October 2026" in shown
    assert "Some progress" in shown and "I like cooking best" in shown and "Afternoon sessions" in shown
    agreed = report.sessions_agreed  # no X or the like: every agreed session is a possible one
    assert f"Attended 1 ({round(100 / agreed, 1)}% of {agreed} possible sessions)" in shown
    viewed = db.scalar(
        select(AuditEvent).where(AuditEvent.object_type == "progress_report", AuditEvent.action == "view")
    )
    assert viewed is not None and viewed.pupil_id == pupil.id
    child = text(page(client.get(f"/pupils/{pupil.id}")))
    assert "Progress at alternative provision" in child and "objective 1 some progress" in child
    story = text(page(client.get(f"/pupils/{pupil.id}/chronology?kind=progress")))
    assert "Progress report for the half term from 3 September 2026 to 23 October 2026" in story
    agreement_page = text(page(client.get(f"/commissioning/agreements/{agreement.id}")))
    assert "Half term from 3 September 2026 to 23 October 2026: submitted" in agreement_page
    assert "write the report" not in agreement_page  # the school reads; the provider writes


def test_the_panel_reads_the_report_with_the_referral(client: Any, db: Session, world: dict[str, Any]) -> None:
    from ap_register.commissioning import progress
    from ap_register.domain.actors import Actor

    home = world["home"]
    head = Actor(user=home["users"][Role.AP_HEAD], via="test")
    report = progress.submit(
        db, head, home["agreement"], 1, [progress.Answer("good", "Full weeks since October")] * 4,
        pupil_voice="Ready to go back", next_steps="A phased return", today=date(2026, 12, 4),
    )  # fmt: skip
    db.commit()
    sign_in(client, home["users"][Role.PANEL_MEMBER].email)
    referral = text(page(client.get(f"/referrals/{home['referral'].id}")))
    assert "Progress at alternative provision" in referral and "objective 1 good progress" in referral
    assert "Ready to go back" in text(page(client.get(f"/commissioning/reports/{report.id}")))
    # The panel reads the report, not the agreement behind it.
    assert client.get(f"/commissioning/agreements/{home['agreement'].id}").status_code == 403


def test_who_may_not_write_or_read_a_report(client: Any, db: Session, world: dict[str, Any]) -> None:
    from ap_register.commissioning import progress
    from ap_register.domain.actors import Actor

    home, away = world["home"], world["other"]
    agreement = home["agreement"]
    report = progress.submit(
        db, Actor(user=home["users"][Role.AP_HEAD], via="test"), agreement, 1, [progress.Answer("good", "Yes")] * 4,
        pupil_voice="Fine", next_steps="More", today=date(2026, 12, 4),
    )  # fmt: skip
    db.commit()
    url = f"/commissioning/agreements/{agreement.id}/half-terms/2/report"
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    assert client.get(url).status_code == 403
    sign_in(client, away["users"][Role.AP_HEAD].email)
    assert client.get(url).status_code == 404
    assert client.get(f"/commissioning/reports/{report.id}").status_code == 404
    listed = text(page(client.get("/commissioning/reports")))
    assert away["pupil"].full_name in listed and home["pupil"].full_name not in listed
    sign_in(client, home["users"][Role.AP_HEAD].email)
    # A half term reported on already leads to its report; one the agreement does not have is not found.
    assert (
        client.get(f"/commissioning/agreements/{agreement.id}/half-terms/1/report")
        .headers["Location"]
        .endswith(f"/commissioning/reports/{report.id}")
    )
    assert client.get(f"/commissioning/agreements/{agreement.id}/half-terms/99/report").status_code == 404
    assert client.get(f"/commissioning/agreements/{agreement.id}/half-terms/{'9' * 30}/report").status_code == 404
