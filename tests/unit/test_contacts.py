"""The people around a child (casework/contacts.py): who reads and keeps them, a restriction shown
to all who may contact the family with the contact's details to the LA alone, and every problem
with a contact named at once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.casework import contacts
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Destination, Role
from ap_register.models import AuditEvent, Contact

MUM = contacts.ContactDraft(
    "parent_carer",
    "Jo Pupil",
    relation="mother",
    parental_responsibility=True,
    lives_with=True,
    phone="07700 900123",
    email="jo@example.org",
    contact_by="phone",
)
DAD = contacts.ContactDraft(
    "parent_carer",
    "Lee Cole",
    relation="father",
    parental_responsibility=True,
    lives_with=False,
    phone="07700 900456",
    address="9 Mill Road, Ely",
    restriction="No contact: a court order of 3 March 2026",
)


def as_(user: Any) -> Actor:
    return Actor(user=user, via="test")


def test_the_child_s_la_school_and_provider_read_the_people_around_the_child_and_nobody_else(
    db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    contacts.add(db, as_(home["users"][Role.SCHOOL_LEAD]), pupil.id, MUM)
    contacts.add(db, as_(home["users"][Role.ATTENDANCE_OFFICER]), pupil.id, DAD)

    world_parent = home["contact"].id  # the world's own restricted parent, not this test's

    def seen(user: Any) -> list[tuple[str, str | None, bool]]:
        people = contacts.people_around(db, as_(user), pupil)
        return [(p.contact.name, p.detail("phone"), p.withheld) for p in people if p.contact.id != world_parent]

    for role in (Role.LA_ADMIN, Role.ATTENDANCE_OFFICER, Role.COMMISSIONER, Role.PANEL_CHAIR):
        assert seen(home["users"][role]) == [("Jo Pupil", "07700 900123", False), ("Lee Cole", "07700 900456", False)]
    # The school and the provider see the restriction (so as not to call him) but not his number.
    for role in (Role.SCHOOL_LEAD, Role.AP_HEAD):
        assert seen(home["users"][role]) == [("Jo Pupil", "07700 900123", False), ("Lee Cole", None, True)], role
    assert seen(home["users"][Role.PANEL_MEMBER]) == []
    assert seen(other["users"][Role.LA_ADMIN]) == []


def test_a_restricted_contact_is_changed_and_removed_by_the_la_alone(db: Session, world: dict[str, Any]) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    dad = contacts.add(db, as_(home["users"][Role.SCHOOL_LEAD]), pupil.id, DAD)  # the school had the order
    for role in (Role.SCHOOL_LEAD, Role.AP_HEAD):
        with pytest.raises(Forbidden, match="changed only by the child's local authority"):
            contacts.change(db, as_(home["users"][role]), pupil.id, dad.id, DAD)
        with pytest.raises(Forbidden):
            contacts.remove(db, as_(home["users"][role]), pupil.id, dad.id)
    with pytest.raises(NotFound):
        contacts.remove(db, as_(other["users"][Role.LA_ADMIN]), pupil.id, dad.id)
    with pytest.raises(Forbidden):  # reads, but keeps no contacts
        contacts.change(db, as_(home["users"][Role.PANEL_CHAIR]), pupil.id, dad.id, DAD)
    officer = as_(home["users"][Role.ATTENDANCE_OFFICER])
    lifted = contacts.ContactDraft(**{**DAD.__dict__, "restriction": None, "phone": "07700 900457"})
    assert contacts.change(db, officer, pupil.id, dad.id, lifted) == ["phone", "restriction"]
    # Lifted, the school sees him and keeps him up to date; a change that changes nothing is none.
    school = as_(home["users"][Role.SCHOOL_LEAD])
    assert contacts.change(db, school, pupil.id, dad.id, lifted) == []
    contacts.remove(db, school, pupil.id, dad.id)
    assert db.scalars(select(Contact.id).where(Contact.pupil_id == pupil.id)).all() == [home["contact"].id]
    # The trail names what changed, never a number or an address.
    trail = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "contact").order_by(AuditEvent.id)).all()
    assert [(e.action, e.pupil_id, e.detail.get("fields")) for e in trail] == [
        (
            "create",
            pupil.id,
            [
                "name",
                "relation",
                "parental_responsibility",
                "lives_with",
                "address",
                "phone",
                "restriction",
                "audience",
            ],
        ),
        ("update", pupil.id, ["phone", "restriction"]),
        ("delete", pupil.id, None),
    ]
    assert "07700" not in str([e.detail for e in trail]) and "Mill Road" not in str([e.detail for e in trail])


def test_a_setting_keeps_contacts_only_of_children_it_works_with(db: Session, world: dict[str, Any]) -> None:
    home, other = world["home"], world["other"]
    with pytest.raises(NotFound):
        contacts.add(db, as_(home["users"][Role.SCHOOL_LEAD]), other["pupil"].id, MUM)
    # Another provider's outreach with the child: it sees the child, but does not work with them.
    from ap_register.budgets.outreach import start_engagement
    from tests import factories

    head = factories.user(db, Role.AP_HEAD, home["farm"])
    start_engagement(
        db, factories.SYSTEM, provider=home["farm"], school=home["school"], kind="coaching",
        started_on=date(2025, 9, 8), pupil=home["pupil"], today=date(2025, 11, 10),
    )  # fmt: skip
    contacts.add(db, as_(home["users"][Role.LA_ADMIN]), home["pupil"].id, MUM)
    assert contacts.people_around(db, as_(head), home["pupil"]) == []
    with pytest.raises(Forbidden):
        contacts.add(db, as_(head), home["pupil"].id, DAD)
    with pytest.raises(Forbidden):
        contacts.add(db, as_(home["users"][Role.PANEL_MEMBER]), home["pupil"].id, MUM)


def test_every_problem_with_a_contact_is_named_at_once_and_nothing_is_kept(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil, officer = home["pupil"], as_(home["users"][Role.LA_ADMIN])
    contacts.add(db, officer, pupil.id, MUM)
    bad = contacts.ContactDraft(
        "parent_carer", " jo pupil ", relation="aunt", phone="call me", email="jo@", contact_by="letter",
        restriction="x" * 401,
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        contacts.add(db, officer, pupil.id, bad)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("relation", "Choose their relationship to the child"),
        ("phone", "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"),
        ("email", "Enter an email address in the correct format, like name@example.com"),
        ("contact_by", "Enter an address to contact them by letter"),
        ("restriction", "The restriction must be 400 characters or fewer"),
        ("name", "jo pupil is already one of the child's contacts as parent or carer"),
    ]
    worker = contacts.ContactDraft(
        "social_worker", "Sam Reed", parental_responsibility=True, setting_id=home["school"].id
    )
    senco = contacts.ContactDraft("senco", "Ann Lee", setting_id=world["other"]["school"].id)
    nul = contacts.ContactDraft("key_worker", "Kim\x00", phone="1" * 30)
    problems = []
    for draft in (worker, senco, nul):
        with pytest.raises(DomainError) as refused:
            contacts.add(db, officer, pupil.id, draft)
        problems.append([e.message for e in refused.value.errors])
    assert problems == [
        ["Parental responsibility is recorded for a parent or carer only",
         "A setting is recorded for a SENCo or a key worker only"],
        ["Choose a setting that works with the child: their school or a provider they are placed with"],
        ["Name must not contain a NUL byte (the text is not readable text)", "Choose the setting they work at",
         "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"],
    ]  # fmt: skip
    held = db.scalars(select(Contact).where(Contact.pupil_id == pupil.id, Contact.id != home["contact"].id))
    assert [c.name for c in held] == ["Jo Pupil"]


def test_a_senco_or_key_worker_is_at_a_setting_that_works_with_the_child(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil = home["pupil"]
    head = as_(home["users"][Role.AP_HEAD])
    assert [s.id for s in contacts.settings_for(db, head, pupil)] == [home["users"][Role.AP_HEAD].setting_id]
    officer = as_(home["users"][Role.LA_ADMIN])
    assert {s.id for s in contacts.settings_for(db, officer, pupil)} == {
        home["school"].id,
        home["placement"].setting_id,
    }
    worker = contacts.add(
        db, head, pupil.id, contacts.ContactDraft("key_worker", "Kim Ode", setting_id=home["placement"].setting_id)
    )
    assert worker.setting_id == home["placement"].setting_id


def test_nothing_is_added_to_an_anonymised_record(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil = home["pupil"]
    pupil.anonymised_on = date(2026, 1, 5)
    with pytest.raises(DomainError, match="not kept") as refused:
        contacts.add(db, as_(home["users"][Role.LA_ADMIN]), pupil.id, MUM)
    assert "anonymised" in refused.value.errors[0].message


def test_a_parent_the_la_s_own_file_gave_it_is_its_officers_until_one_shares_them(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil, users = home["pupil"], home["users"]
    officer, school = as_(users[Role.ATTENDANCE_OFFICER]), as_(users[Role.SCHOOL_LEAD])
    assert contacts.record_parents(db, officer, pupil, [("Rae Homechild", "4 Mill Lane"), ("rae homechild", None)])
    [rae] = [c for c in db.scalars(select(Contact).where(Contact.pupil_id == pupil.id)) if c.name == "Rae Homechild"]
    assert rae.audience == "la"  # and named once, however often the file names them

    def school_sees() -> list[str]:
        return [p.contact.name for p in contacts.people_around(db, school, pupil)]

    assert "Rae Homechild" not in school_sees()
    with pytest.raises(NotFound):  # not even known to be there
        contacts.change(db, school, pupil.id, rae.id, contacts.ContactDraft("parent_carer", "Rae", relation="mother"))
    with pytest.raises(DomainError, match="not kept"):  # a setting keeps no contact for itself
        contacts.add(
            db, school, pupil.id, contacts.ContactDraft("parent_carer", "Sol", relation="father", audience="la")
        )
    shared = contacts.ContactDraft(
        "parent_carer", "Rae Homechild", relation="mother", address="4 Mill Lane", audience="all"
    )
    assert contacts.change(db, officer, pupil.id, rae.id, shared) == ["relation", "audience"]
    assert "Rae Homechild" in school_sees()


def test_a_provider_whose_placement_ended_no_longer_reads_the_family_s_details(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil, head = home["pupil"], as_(home["users"][Role.AP_HEAD])
    contacts.add(db, as_(home["users"][Role.LA_ADMIN]), pupil.id, MUM)
    assert "Jo Pupil" in [p.contact.name for p in contacts.people_around(db, head, pupil)]
    home["placement"].end_date, home["placement"].destination = date(2025, 10, 20), Destination.RETURNED_HOME_SCHOOL
    db.flush()
    assert contacts.people_around(db, head, pupil) == []
    with pytest.raises(Forbidden):
        contacts.add(db, head, pupil.id, DAD)


def test_a_restricted_contact_s_preferences_are_withheld_with_the_rest(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil = home["pupil"]
    careful = contacts.ContactDraft(**{**DAD.__dict__, "preferences": "Lives at the refuge on Station Road"})
    contacts.add(db, as_(home["users"][Role.LA_ADMIN]), pupil.id, careful)
    school = as_(home["users"][Role.SCHOOL_LEAD])
    [seen] = [p for p in contacts.people_around(db, school, pupil) if p.contact.name == "Lee Cole"]
    assert [seen.detail(name) for name in ("address", "phone", "email", "preferences")] == [None] * 4
