"""The people around a child: who to call, who may decide, and who must not be contacted.

A child's contacts (`Contact`) are of five roles (`ROLES`):

- a **parent or carer**, with their relationship to the child and, as separate facts, whether they
  hold parental responsibility (Children Act 1989 ss2-3) and whether the child lives with them. In
  education law "parent" includes anyone who is not a parent of the child but has parental
  responsibility for them or has care of them (Education Act 1996 s576), so neither fact alone
  says who is a parent; a part-time timetable, for one, is agreed with "a parent who the pupil
  normally lives with" (SI 2024/208 reg 11(6));
- the child's **social worker**;
- the **virtual school head**, the officer an LA appoints to promote the educational achievement
  of the children it looks after (Children Act 1989 s22(3A) and (3B));
- a setting's **SENCo** (Children and Families Act 2014 s67) and **key worker**, each at a setting
  that works with the child.

Each may have a phone, an email, an address, the way they ask to be contacted, and what to know
before contacting them (an interpreter, a time of day). A **restriction** ("no contact with
father: court order") is shown to everyone who may contact the family, so that nobody calls the
wrong person; the restricted contact's address, phone and email are then shown only to the home
LA's officers (`contact.restricted`), who alone change or remove such a contact.

Who reads a child's contacts: the home LA's officers in `contact.view`, and the school and the
providers that work with the child (on its roll, or placed with it now), who are the ones to call
home today, when the contact is shared with them (`audience` `all`; the parents the LA's own
pupils file gave it are for its officers, `la`, until one shares them). Who adds and changes them:
the same people in `contact.edit`. Every change is on the
child's audit trail, naming the fields changed but not their values (a phone number or an address
is not kept in a trail that is never rewritten). Nothing is added to an anonymised record, and
anonymising removes its contacts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.casework.notes import ANONYMISED, AUDIENCES
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import among
from ap_register.domain.errors import DomainError, FieldError, Forbidden, NotFound, Refusal
from ap_register.domain.text import kept_text
from ap_register.models import Contact, Placement, Pupil, Setting

ROLES = {
    "parent_carer": "Parent or carer",
    "social_worker": "Social worker",
    "virtual_school_head": "Virtual school head",
    "senco": "Special educational needs co-ordinator (SENCo)",
    "key_worker": "Key worker",
}
# The roles a SENCo or key worker has: each at a setting that works with the child.
AT_A_SETTING = frozenset({"senco", "key_worker"})
RELATIONSHIPS = {
    "mother": "Mother",
    "father": "Father",
    "step_parent": "Step-parent",
    "grandparent": "Grandparent",
    "other_relative": "Another relative",
    "foster_carer": "Foster carer",
    "special_guardian": "Special guardian",
    "residential_carer": "Residential carer (children's home)",
    "other": "Someone else who has care of the child",
    "not_known": "Not recorded",
}
CONTACT_BY = {"phone": "Phone", "email": "Email", "letter": "Letter"}
WITHHELD = "Held by the local authority: this contact has a restriction"
RESTRICTED_BY_LA = "A contact with a restriction is changed only by the child's local authority"

_PHONE = re.compile(r"\+?[0-9 ()\-]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class ContactDraft:
    """A contact as a person (a form, a file, the API) gives it. Free text is as typed."""

    role: str
    name: str
    relation: str | None = None
    organisation: str | None = None
    setting_id: int | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    parental_responsibility: bool | None = None
    lives_with: bool | None = None
    contact_by: str | None = None
    preferences: str | None = None
    restriction: str | None = None
    # `la` or `all` (notes.AUDIENCES); None: as held, or `all` for a new contact.
    audience: str | None = None


KEPT = tuple(f.name for f in fields(ContactDraft) if f.name != "role")


@dataclass(frozen=True)
class Person:
    """A contact as one reader sees it: a restricted contact's details withheld from a setting."""

    contact: Contact
    withheld: bool
    may_change: bool

    @property
    def role(self) -> str:
        return ROLES[self.contact.role]

    @property
    def relationship(self) -> str | None:
        return RELATIONSHIPS.get(self.contact.relation or "")

    def detail(self, name: str) -> Any:
        return (
            None
            if self.withheld and name in ("address", "phone", "email", "preferences")
            else getattr(self.contact, name)
        )


# --- reading -----------------------------------------------------------------------------------


def may_read(session: Session, actor: Actor, pupil: Pupil) -> bool:
    return permissions.can(session, actor, "contact.view", pupil)


def people_around(session: Session, actor: Actor, pupil: Pupil) -> list[Person]:
    """The child's contacts the actor may read (none when they may not), parents first, each as
    they may see it: the home LA's officers every contact in full; a setting the contacts shared
    with it (`all`), and any contact under a restriction, whose details it never sees."""
    if not may_read(session, actor, pupil):
        return []
    full = permissions.can(session, actor, "contact.restricted", pupil)
    edits = permissions.can(session, actor, "contact.edit", pupil)
    order = {role: n for n, role in enumerate(ROLES)}
    loaded = session.scalars(
        select(Contact).where(Contact.pupil_id == pupil.id).options(joinedload(Contact.setting))  # one query
    )
    held = sorted(loaded, key=lambda c: (order.get(c.role, 99), c.id))
    return [
        Person(
            c,
            withheld=not full and (bool(c.restriction) or c.audience != "all"),
            may_change=edits and (full or (not c.restriction and c.audience == "all")),
        )
        for c in held
        if full or c.audience == "all" or c.restriction
    ]


def _contacts(session: Session, pupil_id: int) -> list[Contact]:
    return list(session.scalars(select(Contact).where(Contact.pupil_id == pupil_id).order_by(Contact.id)))


def contact_to_change(session: Session, actor: Actor, pupil: Pupil, contact_id: int) -> Contact:
    """A contact of this child that the actor may change: NotFound when it is not this child's or
    the actor may not read the child's contacts; Forbidden for a restricted contact a setting reads."""
    permissions.require(session, actor, "contact.view", pupil)
    found = session.scalar(select(Contact).where(Contact.id == contact_id, Contact.pupil_id == pupil.id))
    if found is None:
        raise NotFound("Page not found")
    permissions.require(session, actor, "contact.edit", pupil)
    full = permissions.can(session, actor, "contact.restricted", pupil)
    if found.audience != "all" and not found.restriction and not full:
        raise NotFound("Page not found")  # the LA's own: a setting does not know it is there
    if (found.restriction or found.audience != "all") and not full:
        raise Forbidden(RESTRICTED_BY_LA)
    return found


def parents_of(session: Session, pupil_ids: Iterable[int]) -> dict[int, list[Contact]]:
    """Each child's parents and carers, in the order they were added (for the register of
    children not in school, which holds each parent's name and address: Education Act 1996 s436C)."""
    ids = sorted(set(pupil_ids))
    found: dict[int, list[Contact]] = {}
    if not ids:
        return found
    for contact in session.scalars(
        select(Contact)
        .where(among(session, Contact.pupil_id, ids), Contact.role == "parent_carer")
        .order_by(Contact.pupil_id, Contact.id)
    ):
        found.setdefault(contact.pupil_id, []).append(contact)
    return found


def settings_for(session: Session, actor: Actor, pupil: Pupil) -> list[Setting]:
    """Where a SENCo or key worker of this child may work: a setting's own user, their setting;
    an LA officer, the child's school and the settings of the child's placements."""
    user = actor.user
    if user is not None and user.setting_id is not None:
        return [session.get(Setting, user.setting_id)]  # type: ignore[list-item]
    ids = {pupil.home_school_id} | set(
        session.scalars(select(Placement.setting_id).where(Placement.pupil_id == pupil.id))
    )
    ids.discard(None)
    return list(session.scalars(select(Setting).where(Setting.id.in_(ids)).order_by(Setting.name))) if ids else []


# --- checking ----------------------------------------------------------------------------------


def checked(
    session: Session, actor: Actor, pupil: Pupil, draft: ContactDraft, existing: Contact | None = None
) -> dict[str, Any]:
    """The values to keep for this contact, or DomainError naming every problem."""
    refusal = Refusal()
    role = existing.role if existing is not None else draft.role
    if role not in ROLES:
        refusal.add("role", "Choose who they are to the child")
    name = kept_text(refusal, "name", "Name", draft.name, 200)
    if name is None:
        refusal.add("name", "Enter their name")
    values: dict[str, Any] = {"name": name}
    if role == "parent_carer":
        if draft.relation not in RELATIONSHIPS:
            refusal.add("relation", "Choose their relationship to the child")
        values.update(
            relation=draft.relation,
            parental_responsibility=draft.parental_responsibility,
            lives_with=draft.lives_with,
        )
    else:
        for field_name, given, label in (
            ("relation", draft.relation, "A relationship"),
            ("parental_responsibility", draft.parental_responsibility, "Parental responsibility"),
            ("lives_with", draft.lives_with, "Whether the child lives with them"),
        ):
            if given is not None:
                refusal.add(field_name, f"{label} is recorded for a parent or carer only")
        values.update(relation=None, parental_responsibility=None, lives_with=None)
    values["organisation"] = kept_text(refusal, "organisation", "Organisation", draft.organisation, 200)
    if role in AT_A_SETTING:
        allowed = {s.id for s in settings_for(session, actor, pupil)}
        if draft.setting_id is None:
            refusal.add("setting", "Choose the setting they work at")
        elif draft.setting_id not in allowed:
            refusal.add(
                "setting", "Choose a setting that works with the child: their school or a provider they are placed with"
            )
        values["setting_id"] = draft.setting_id
    else:
        if draft.setting_id is not None:
            refusal.add("setting", "A setting is recorded for a SENCo or a key worker only")
        values["setting_id"] = None
    values["address"] = kept_text(refusal, "address", "Address", draft.address, 400, multiline=True)
    phone = kept_text(refusal, "phone", "Phone number", draft.phone, 30)
    if phone is not None and not (_PHONE.fullmatch(phone) and 7 <= sum(c.isdigit() for c in phone) <= 15):
        refusal.add("phone", "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")
    values["phone"] = phone
    email = kept_text(refusal, "email", "Email address", draft.email, 254)
    if email is not None and not _EMAIL.fullmatch(email):
        refusal.add("email", "Enter an email address in the correct format, like name@example.com")
    values["email"] = email
    if draft.contact_by is not None and draft.contact_by not in CONTACT_BY:
        refusal.add("contact_by", "Choose how they would like to be contacted: phone, email or letter")
    elif draft.contact_by is not None:
        needed = {"phone": phone, "email": email, "letter": values["address"]}[draft.contact_by]
        if needed is None:
            what = {"phone": "a phone number", "email": "an email address", "letter": "an address"}[draft.contact_by]
            refusal.add("contact_by", f"Enter {what} to contact them by {CONTACT_BY[draft.contact_by].lower()}")
    values["contact_by"] = draft.contact_by
    values["preferences"] = kept_text(
        refusal, "preferences", "What to know before contacting them", draft.preferences, 400, multiline=True
    )
    values["restriction"] = kept_text(refusal, "restriction", "The restriction", draft.restriction, 400, multiline=True)
    audience = draft.audience or (existing.audience if existing is not None else "all")
    if audience not in AUDIENCES:
        refusal.add("audience", "Choose who may see their details")
    elif audience != "all" and not permissions.can(session, actor, "contact.restricted", pupil):
        refusal.add("audience", "Only the local authority's officers keep a contact for themselves")
    values["audience"] = audience
    if name is not None and role in ROLES:
        clash = next(
            (
                c
                for c in _contacts(session, pupil.id)
                if c.role == role and c.name.casefold() == name.casefold() and (existing is None or c.id != existing.id)
            ),
            None,
        )
        if clash is not None:
            refusal.add("name", f"{name} is already one of the child's contacts as {ROLES[role].lower()}")
    refusal.raise_if_any("The contact was not kept")
    return values


# --- changing ----------------------------------------------------------------------------------


def _open(session: Session, actor: Actor, pupil_id: int) -> Pupil:
    """The child, locked while one change to their contacts is checked and made (two people adding
    the same parent at once keep one), if the actor may change their contacts."""
    pupil = permissions.get_pupil(session, actor, pupil_id)
    permissions.require(session, actor, "contact.edit", pupil)
    if pupil.anonymised_on is not None:
        raise DomainError("The contact was not kept", [FieldError("", ANONYMISED)])
    session.execute(select(Pupil.id).where(Pupil.id == pupil.id).with_for_update())
    return pupil


def add(session: Session, actor: Actor, pupil_id: int, draft: ContactDraft) -> Contact:
    with session.begin_nested():
        pupil = _open(session, actor, pupil_id)
        values = checked(session, actor, pupil, draft)
        contact = Contact(pupil_id=pupil.id, role=draft.role, **values)
        session.add(contact)
        session.flush()
        _audited(session, actor, "create", contact, [k for k, v in values.items() if v is not None])
    return contact


def change(session: Session, actor: Actor, pupil_id: int, contact_id: int, draft: ContactDraft) -> list[str]:
    """Change a contact to what the draft says; the names of the fields that changed."""
    with session.begin_nested():
        pupil = _open(session, actor, pupil_id)
        contact = contact_to_change(session, actor, pupil, contact_id)
        values = checked(session, actor, pupil, draft, existing=contact)
        changed = [name for name, value in values.items() if getattr(contact, name) != value]
        if changed:
            for name in changed:
                setattr(contact, name, values[name])
            session.flush()
            _audited(session, actor, "update", contact, changed)
    return changed


def remove(session: Session, actor: Actor, pupil_id: int, contact_id: int) -> None:
    with session.begin_nested():
        pupil = _open(session, actor, pupil_id)
        contact = contact_to_change(session, actor, pupil, contact_id)
        _audited(session, actor, "delete", contact, [])
        session.delete(contact)
        session.flush()


def save(session: Session, actor: Actor, pupil_id: int, draft: ContactDraft) -> str:
    """Add the contact, or change the child's contact of the same role and name (a file's row):
    "added", "updated" or "unchanged"."""
    pupil = permissions.get_pupil(session, actor, pupil_id)
    same = next(
        (
            c
            for c in _contacts(session, pupil.id)
            if c.role == draft.role and c.name.casefold() == (draft.name or "").strip().casefold()
        ),
        None,
    )
    if same is None:
        add(session, actor, pupil.id, draft)
        return "added"
    return "updated" if change(session, actor, pupil.id, same.id, draft) else "unchanged"


def record_parents(session: Session, actor: Actor, pupil: Pupil, parents: list[tuple[str, str | None]]) -> bool:
    """The parents a pupils file names for a child it already holds (name and address each): a
    parent of that name gains the address given, a new name is added as a parent or carer whose
    relationship is not recorded, for the LA's officers only (the LA's file gave it: sharing it with
    the school is an officer's choice). A parent the file leaves out stays (a file of names is no
    reason to forget a restriction). Whether anything changed."""
    held = {c.name.casefold(): c for c in _contacts(session, pupil.id) if c.role == "parent_carer"}
    changed = False
    for name, address in parents:
        contact = held.get(name.casefold())
        if contact is None:
            draft = ContactDraft("parent_carer", name, relation="not_known", address=address, audience="la")
            held[name.casefold()] = add(session, actor, pupil.id, draft)  # a name given twice is one parent
            changed = True
        elif address is not None and contact.address != address:
            if contact.restriction and not permissions.can(session, actor, "contact.restricted", pupil):
                raise Forbidden(RESTRICTED_BY_LA)
            contact.address = address
            _audited(session, actor, "update", contact, ["address"])
            changed = True
    return changed


def forget(session: Session, pupil: Pupil) -> None:
    """Anonymising: the child's contacts go (the audit trail keeps that each was kept)."""
    session.execute(delete(Contact).where(Contact.pupil_id == pupil.id))


def _audited(session: Session, actor: Actor, action: str, contact: Contact, changed: list[str]) -> None:
    detail: dict[str, Any] = {"role": contact.role, "restricted": bool(contact.restriction)}
    if changed:
        detail["fields"] = changed
    audit.record(session, actor, action, "contact", contact.id, pupil_id=contact.pupil_id, detail=detail)
