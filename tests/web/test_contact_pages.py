"""The people around a child on the child's page, and adding, changing and removing them, as the
LA's officers, the school and the provider use them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, Contact
from tests.pages import errors, page, post, sign_in, text

MUM = {
    "name": "Jo Homechild",
    "relation": "mother",
    "parental_responsibility": "yes",
    "lives_with": "yes",
    "phone": "07700 900123",
    "email": "jo@example.org",
    "address": "4 Mill Lane, Ely",
    "contact_by": "phone",
    "preferences": "Call after 3pm",
    "restriction": "",
    "audience": "all",
}


def test_a_school_adds_a_parent_and_everyone_who_works_with_the_child_sees_them_by_role(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    shown = page(client.get(f"/pupils/{pupil.id}"))
    assert shown.select_one("#people") is not None
    add = shown.select_one(f"a[href='/pupils/{pupil.id}/contacts/new']")
    assert add is not None and add.get_text(strip=True) == "Add a person"
    chosen = post(client, f"/pupils/{pupil.id}/contacts/new", {"role": "parent_carer"})
    assert chosen.headers["Location"].endswith(f"/pupils/{pupil.id}/contacts/new/parent_carer")
    form = page(client.get(f"/pupils/{pupil.id}/contacts/new/parent_carer"))
    assert form.select_one("input[name=parental_responsibility]") and form.select_one("input[name=lives_with]")
    assert form.select_one("select[name=setting]") is None  # a parent works at no setting
    done = post(client, f"/pupils/{pupil.id}/contacts/new/parent_carer", MUM, follow_redirects=True)
    assert "Jo Homechild added" in text(page(done))
    for role in (Role.SCHOOL_LEAD, Role.AP_HEAD, Role.ATTENDANCE_OFFICER):
        sign_in(client, home["users"][role].email)
        people = page(client.get(f"/pupils/{pupil.id}")).select_one("#people")
        assert people is not None
        cards = [c.get_text(" ", strip=True) for c in people.find_all_next("div", class_="govuk-summary-card")]
        card = next(c for c in cards if c.startswith("Jo Homechild"))
        for expected in (
            "Jo Homechild, parent or carer",
            "Relationship Mother",
            "Parental responsibility Yes",
            "Lives with the child Yes",
            "Phone 07700 900123",
            "Before contacting them Call after 3pm",
        ):
            assert expected in card, (role, expected)
    # A panel member sees the child (the panel's papers) but not the people around them.
    sign_in(client, home["users"][Role.PANEL_MEMBER].email)
    assert "Jo Homechild" not in text(page(client.get(f"/pupils/{pupil.id}")))


def test_a_restriction_is_shown_to_all_who_may_contact_the_family_and_its_details_to_the_la(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil, dad = home["pupil"], home["contact"]
    dad_id, dad_name, dad_phone = dad.id, dad.name, dad.phone
    sign_in(client, home["users"][Role.AP_HEAD].email)
    shown = page(client.get(f"/pupils/{pupil.id}"))
    warning = shown.select_one("#people ~ .govuk-warning-text")
    assert warning is not None and f"Restriction on {dad.name} (father): No contact: a court order" in warning.get_text(
        " ", strip=True
    )
    assert dad.phone not in text(shown) and "Held by the local authority" in text(shown)
    # No change link for the provider, and the page itself refuses.
    assert shown.select_one(f"a[href='/pupils/{pupil.id}/contacts/{dad.id}']") is None
    assert client.get(f"/pupils/{pupil.id}/contacts/{dad.id}").status_code == 403
    assert post(client, f"/pupils/{pupil.id}/contacts/{dad.id}/remove", {}).status_code == 403
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    shown = page(client.get(f"/pupils/{pupil.id}"))
    assert dad.phone in text(shown)
    form = page(client.get(f"/pupils/{pupil.id}/contacts/{dad.id}"))
    restriction = form.select_one("textarea[name=restriction]")
    assert restriction is not None and restriction.get_text().strip() == "No contact: a court order"
    confirm = page(client.get(f"/pupils/{pupil.id}/contacts/{dad.id}/remove"))
    assert "Their restriction goes with them" in text(confirm)
    gone = post(client, f"/pupils/{pupil.id}/contacts/{dad_id}/remove", {}, follow_redirects=True)
    assert f"{dad_name} is no longer one of" in text(page(gone))
    assert db.scalar(select(Contact).where(Contact.id == dad_id)) is None
    assert dad_phone not in text(page(client.get(f"/pupils/{pupil.id}")))
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "contact")) == "delete"


def test_bad_details_are_named_in_the_error_summary_and_change_nothing(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    before = db.scalars(select(Contact.id)).all()
    refused = page(
        post(
            client,
            f"/pupils/{pupil.id}/contacts/new/parent_carer",
            {**MUM, "phone": "ring me", "contact_by": "email", "email": ""},
        )
    )
    assert errors(refused) == [
        "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192",
        "Enter an email address to contact them by email",
    ]
    senco = page(
        post(
            client,
            f"/pupils/{pupil.id}/contacts/new/senco",
            {"name": "Ann Lee", "setting": str(other["school"].id), "contact_by": "none"},
        )
    )
    assert errors(senco)  # another LA's school is not among the choices
    # A NUL byte is refused before any page reads the form.
    nul = {"name": "Sam\x00", "contact_by": "none"}
    assert post(client, f"/pupils/{pupil.id}/contacts/new/social_worker", nul).status_code == 400
    assert client.get(f"/pupils/{pupil.id}/contacts/new/grandmother").status_code == 404
    assert db.scalars(select(Contact.id)).all() == before
    # Another LA's child, and another child's contact under this child, are not found.
    assert client.get(f"/pupils/{other['pupil'].id}/contacts/new/parent_carer").status_code == 404
    assert client.get(f"/pupils/{home['bystander'].id}/contacts/{home['contact'].id}").status_code == 404
