"""Same-day absence follow-up as people use it: the alert page with who to contact and the
attempts made, recording an attempt, a provider recording a child sent home, and the LA's times."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.coverage import absence
from ap_register.domain.vocab import Role
from ap_register.models import Alert, AttendanceMark, Contact, ContactAttempt
from tests.pages import errors, page, post, sign_in, text

DAY = date(2025, 11, 18)


def absent(db: Session, home: dict[str, Any]) -> Alert:
    mum = Contact(
        pupil_id=home["pupil"].id, role="parent_carer", name="Jo Homechild", relation="mother",
        phone="07700 900123", preferences="Works nights: call after 11am",
    )  # fmt: skip
    db.add(mum)
    db.add(AttendanceMark(pupil_id=home["pupil"].id, setting_id=home["pru"].id, date=DAY, session="AM", code="N"))
    absence.follow_up(db, home["la"], datetime.combine(DAY, time(10), tzinfo=clock.ENGLAND))
    db.commit()
    found = db.scalar(select(Alert).where(Alert.kind == absence.KIND))
    assert found is not None
    return found


def test_the_school_sees_who_to_call_and_records_each_attempt(client: Any, db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    alert = absent(db, home)
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    shown = page(client.get(f"/alerts/{alert.id}"))
    who = shown.select_one("#who-to-contact")
    assert who is not None
    assert "Jo Homechild Mother. Phone 07700 900123. Works nights: call after 11am" in text(shown)
    # The restricted father: a warning, never his number.
    assert f"Do not contact {home['contact'].name} (father): No contact: a court order" in text(shown)
    assert home["contact"].phone not in text(shown)
    form = page(client.get(f"/alerts/{alert.id}/contact"))
    labels = [label.get_text(" ", strip=True) for label in form.select("label[for^=contact]")]
    assert "Jo Homechild, mother (07700 900123)" in labels
    assert f"{home['contact'].name}, father: restricted, do not contact" in labels
    # Choosing the restricted father is refused, with the reason, and nothing is kept.
    mum = db.scalar(select(Contact.id).where(Contact.name == "Jo Homechild"))
    refused = page(
        post(
            client,
            f"/alerts/{alert.id}/contact",
            {"contact": str(home["contact"].id), "method": "phone", "outcome": "reached"},
        )
    )
    assert errors(refused) == [f"{home['contact'].name} is under a restriction: No contact: a court order"]
    assert db.scalars(select(ContactAttempt)).all() == []
    done = post(
        client, f"/alerts/{alert.id}/contact",
        {"contact": str(mum), "method": "phone", "outcome": "reached", "note": "Sam is at the GP with mum"},
        follow_redirects=True,
    )  # fmt: skip
    after = text(page(done))
    assert "Attempt recorded" in after and "Spoke to them: we know where the child is" in after
    assert "Phone call to Jo Homechild" in after and "Sam is at the GP with mum" in after
    db.refresh(alert)
    assert alert.status == "acknowledged"
    # Another LA's officer cannot reach the alert or its form.
    sign_in(client, world["other"]["users"][Role.ATTENDANCE_OFFICER].email)
    assert client.get(f"/alerts/{alert.id}/contact").status_code == 404


def test_a_provider_records_a_child_sent_home_and_the_school_hears_at_once(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil = home["pupil"]
    with clock.fixed(datetime.combine(DAY, time(11, 20), tzinfo=clock.ENGLAND)):
        sign_in(client, home["users"][Role.AP_HEAD].email)
        shown = page(client.get(f"/pupils/{pupil.id}"))
        assert shown.select_one(f"a[href='/pupils/{pupil.id}/sent-home']") is not None
        form = page(client.get(f"/pupils/{pupil.id}/sent-home"))
        assert [o.get_text(strip=True) for o in form.select("select#setting option")] == [home["pru"].name]
        refused = page(post(client, f"/pupils/{pupil.id}/sent-home", {"setting": str(home["pru"].id), "reason": ""}))
        assert errors(refused) == ["Say why they went home, and who they went with or who was told"]
        done = post(
            client, f"/pupils/{pupil.id}/sent-home",
            {"setting": str(home["pru"].id), "reason": "Unwell; collected by mum"}, follow_redirects=True,
        )  # fmt: skip
        assert "The school, the attendance officer and the caseworker have been told" in text(page(done))
        sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
        inbox = text(page(client.get("/inbox")))
        assert "A pupil is not at their alternative provision this morning" in inbox
        # The school's lead does not record a provider's child sent home.
        assert client.get(f"/pupils/{pupil.id}/sent-home").status_code == 403


def test_the_la_sets_its_times_on_a_page_with_the_error_summary(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    shown = page(client.get("/admin/absence-follow-up"))
    assert shown.select_one("input#check_at")["value"] == "10:00"  # type: ignore[index]
    refused = page(
        post(
            client,
            "/admin/absence-follow-up",
            {"check_at": "10:00", "check_early_at": "11:00", "escalate_at": "9:00", "officer": ""},
        )
    )
    assert errors(refused) == [
        "The earlier time must be no later than the usual time",
        "The time to escalate must be after the time the register is checked",
    ]
    officer = home["users"][Role.ATTENDANCE_OFFICER]
    post(
        client,
        "/admin/absence-follow-up",
        {"check_at": "9:45", "check_early_at": "9:15", "escalate_at": "12:30", "officer": str(officer.id)},
    )
    db.refresh(home["la"])
    assert (home["la"].absence_check_at, home["la"].absence_officer_id) == (time(9, 45), officer.id)
