"""A child's caseworker, the officer's own caseload, handing over a leaver's cases, notes on the
child's record, and the people around the child."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput
from werkzeug.wrappers import Response

from ap_register import clock, permissions
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import Form, GovDateField, attempt, checkboxes, radios, submit, text_area, text_field
from ap_register.blueprints.forms import select as select_field
from ap_register.casework import caseloads, chronology, contacts, documents, letter_files, letters, notes
from ap_register.casework.web import bp
from ap_register.domain import exports
from ap_register.domain.errors import DomainError, FieldError
from ap_register.domain.typed import record_id
from ap_register.domain.vocab import ROLE_LABELS
from ap_register.extensions import db, limiter
from ap_register.models import Document
from ap_register.web import current_actor, export_limit, render_recorded, table_download

NOBODY = "none"


class CaseworkerForm(Form):
    caseworker = select_field("Caseworker", [], "Choose the officer who follows this child's case, or nobody")
    submit = submit("Save the caseworker")


class NoteForm(Form):
    happened_on = GovDateField("Date it happened", description="For example, 27 11 2026")
    category = radios("What is it about?", list(notes.CATEGORIES.items()), "Choose what the note is about")
    text = text_area(
        "What was done or agreed",
        "Enter what was done or agreed",
        max_length=notes.MAX_TEXT,
        counted=True,
        description="Who took part, what was said or done, and what happens next. Facts, not opinions.",
    )
    audience = radios("Who may read it?", list(notes.AUDIENCES.items()), "Choose who may read the note")
    submit = submit("Keep the note")


class HandOverForm(Form):
    to = select_field("Hand them to", [], "Choose who takes them on")
    submit = submit("Hand them over")


@bp.route("/pupils/<int:pupil_id>/caseworker", methods=["GET", "POST"])
@login_required
def caseworker(pupil_id: int) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "case.assign", pupil)
    officers = caseloads.caseworkers(db.session, pupil.home_la_id)
    current = caseloads.caseworker_of(db.session, pupil)
    form = CaseworkerForm()
    form.caseworker.choices = [("", "Choose an officer")] + [
        (str(u.id), f"{u.name}, {ROLE_LABELS[u.role]}") for u in officers
    ]
    form.caseworker.choices.append((NOBODY, "Nobody"))
    if request.method == "GET":
        form.caseworker.data = str(current.id) if current is not None else ""
    if form.validate_on_submit():
        chosen = None if form.caseworker.data == NOBODY else record_id(form.caseworker.data)
        done, given = attempt(form, lambda: caseloads.assign(db.session, actor, pupil.id, chosen))
        if done:
            flash(
                f"{pupil.full_name}'s case is with {given.name}" if given else "Nobody holds this case now", "success"
            )
            return redirect(url_for("register.pupil", pupil_id=pupil.id))
    return render_recorded(
        "casework/caseworker.html", title="Choose the caseworker", form=form, pupil=pupil, current=current
    )


@bp.route("/cases")
@allowed("case.hold")
def my_cases() -> str:
    actor = current_actor()
    return render_recorded("casework/my_cases.html", title="My cases", cases=caseloads.my_cases(db.session, actor))


@bp.route("/admin/users/<int:user_id>/hand-over", methods=["GET", "POST"])
@allowed("case.hand_over")
def hand_over(user_id: int) -> str | Response:
    actor = current_actor()
    leaving = permissions.get_user(db.session, actor, user_id)
    held = caseloads.held_by(db.session, leaving)
    form = HandOverForm()
    takers = [u for u in caseloads.caseworkers(db.session, leaving.la_id or 0) if u.id != leaving.id]
    form.to.choices = [("", "Choose an officer")] + [(str(u.id), f"{u.name}, {ROLE_LABELS[u.role]}") for u in takers]
    if form.validate_on_submit():
        taker = record_id(form.to.data) or 0
        done, moved = attempt(form, lambda: caseloads.hand_over(db.session, actor, leaving.id, taker))
        if done and moved is not None:
            flash(f"Handed over {moved.cases} cases and {moved.alerts} open alerts", "success")
            return redirect(url_for("admin.user", user_id=leaving.id))
    return render_template(
        "casework/hand_over.html", title="Hand over cases and alerts", form=form, leaving=leaving, held=held
    )


def _note_page(pupil_id: int, corrects: int | None) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "note.write", pupil)
    corrected = notes.note_to_correct(db.session, actor, pupil, corrects) if corrects is not None else None
    form = NoteForm()
    if corrected is not None:
        del form.audience  # a correction is read by whoever reads the note it corrects
        if request.method == "GET":
            form.category.data = corrected.category
    if form.validate_on_submit():
        audience = corrected.audience if corrected is not None else form.audience.data or ""
        draft = notes.NoteDraft(form.happened_on.data, form.category.data or "", form.text.data or "", audience)
        done, _ = attempt(form, lambda: notes.write(db.session, actor, pupil.id, draft, corrects))
        if done:
            flash("Correction kept" if corrected is not None else "Note kept", "success")
            return redirect(url_for("register.pupil", pupil_id=pupil.id, _anchor="notes"))
    return render_recorded(
        "casework/note.html",
        title="Correct a note" if corrected is not None else "Add a note",
        form=form,
        pupil=pupil,
        corrected=corrected,
        categories=notes.CATEGORIES,
        audiences=notes.AUDIENCES,
        max_text=notes.MAX_TEXT,
    )


@bp.route("/pupils/<int:pupil_id>/notes/new", methods=["GET", "POST"])
@login_required
def note_new(pupil_id: int) -> str | Response:
    return _note_page(pupil_id, None)


@bp.route("/pupils/<int:pupil_id>/notes/<int:note_id>/correct", methods=["GET", "POST"])
@login_required
def note_correct(pupil_id: int, note_id: int) -> str | Response:
    return _note_page(pupil_id, note_id)


# --- the people around the child -------------------------------------------------------------

YES_NO_UNKNOWN = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known")]
ANSWERS = {"yes": True, "no": False, "unknown": None}


class ContactRoleForm(Form):
    role = radios("Who are they to the child?", list(contacts.ROLES.items()), "Choose who they are to the child")
    submit = submit("Continue")


class ContactForm(Form):
    name = text_field("Full name", "Enter their name", max_length=200)
    relation = radios(
        "Relationship to the child", list(contacts.RELATIONSHIPS.items()), "Choose their relationship to the child"
    )
    parental_responsibility = radios(
        "Do they have parental responsibility?",
        YES_NO_UNKNOWN,
        "Choose whether they have parental responsibility",
        description="Mothers, married fathers and fathers named on the birth certificate since December 2003 have "
        "it; others by a court order, an adoption, or a guardian's appointment",
    )
    lives_with = radios("Does the child live with them?", YES_NO_UNKNOWN, "Choose whether the child lives with them")
    organisation = text_field("Organisation or team", max_length=200)
    setting = select_field("Setting they work at", [], "Choose the setting they work at")
    phone = text_field("Phone number", max_length=30, description="For international numbers include the country code")
    email = text_field("Email address", max_length=254)
    address = text_area("Address", max_length=400)
    contact_by = radios(
        "How would they like to be contacted?",
        [*contacts.CONTACT_BY.items(), ("none", "No preference")],
        "Choose how they would like to be contacted",
    )
    preferences = text_area(
        "What to know before contacting them (optional)",
        max_length=400,
        description="For example, an interpreter, a time of day, or a number that is only for emergencies",
    )
    restriction = text_area(
        "Restriction (optional)",
        max_length=400,
        description="For example, a court order of no contact. Everyone who may contact the family sees it; this "
        "contact's address, phone and email are then shown only to the local authority's officers",
    )
    audience = radios(
        "Who may see their details?",
        [
            ("all", "The local authority, and the school and providers that work with the child"),
            ("la", "The local authority's officers only"),
        ],
        "Choose who may see their details",
    )
    submit = submit("Save the contact")


def _contact_form(pupil: Any, role: str, actor: Any) -> ContactForm:
    form = ContactForm()
    if not permissions.can(db.session, actor, "contact.restricted", pupil):
        del form.audience  # a setting's contacts are shared with the LA and the child's settings
    if role != "parent_carer":
        del form.relation, form.parental_responsibility, form.lives_with
    if role in contacts.AT_A_SETTING:
        del form.organisation
        form.setting.choices = [("", "Choose a setting")] + [
            (str(s.id), s.name) for s in contacts.settings_for(db.session, actor, pupil)
        ]
    else:
        del form.setting
    return form


def _draft(form: ContactForm, role: str) -> contacts.ContactDraft:
    def given(name: str) -> Any:
        field = getattr(form, name, None)
        return field.data if field is not None else None

    return contacts.ContactDraft(
        role=role,
        name=form.name.data or "",
        relation=given("relation"),
        organisation=given("organisation"),
        setting_id=record_id(given("setting")) if given("setting") else None,
        address=form.address.data,
        phone=form.phone.data,
        email=form.email.data,
        parental_responsibility=ANSWERS.get(given("parental_responsibility") or "unknown"),
        lives_with=ANSWERS.get(given("lives_with") or "unknown"),
        contact_by=None if form.contact_by.data in (None, "none") else form.contact_by.data,
        preferences=form.preferences.data,
        restriction=form.restriction.data,
        audience=given("audience"),
    )


def _answer(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


@bp.route("/pupils/<int:pupil_id>/contacts/new", methods=["GET", "POST"])
@login_required
def contact_role(pupil_id: int) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "contact.edit", pupil)
    form = ContactRoleForm()
    if form.validate_on_submit():
        return redirect(url_for("casework.contact_new", pupil_id=pupil.id, role=form.role.data))
    return render_recorded("casework/contact_role.html", title="Add a person", form=form, pupil=pupil)


@bp.route("/pupils/<int:pupil_id>/contacts/new/<role>", methods=["GET", "POST"])
@login_required
def contact_new(pupil_id: int, role: str) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "contact.edit", pupil)
    if role not in contacts.ROLES:
        abort(404)
    form = _contact_form(pupil, role, actor)
    if request.method == "GET" and form.audience is not None:
        form.audience.data = "all"
    if form.validate_on_submit():
        done, _ = attempt(form, lambda: contacts.add(db.session, actor, pupil.id, _draft(form, role)))
        if done:
            flash(f"{form.name.data} added", "success")
            return redirect(url_for("register.pupil", pupil_id=pupil.id, _anchor="people"))
    return render_recorded(
        "casework/contact.html",
        title=f"Add a {contacts.ROLES[role].split(' (')[0].lower()}",
        form=form,
        pupil=pupil,
        role=role,
        contact=None,
    )


@bp.route("/pupils/<int:pupil_id>/contacts/<int:contact_id>", methods=["GET", "POST"])
@login_required
def contact_change(pupil_id: int, contact_id: int) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    contact = contacts.contact_to_change(db.session, actor, pupil, contact_id)
    form = _contact_form(pupil, contact.role, actor)
    if request.method == "GET":
        for name in ("name", "relation", "organisation", "phone", "email", "address", "preferences", "restriction"):
            if getattr(form, name, None) is not None:  # a field of this role (others are deleted: None)
                getattr(form, name).data = getattr(contact, name)
        if form.setting is not None:
            form.setting.data = str(contact.setting_id or "")
        if form.parental_responsibility is not None:
            form.parental_responsibility.data = _answer(contact.parental_responsibility)
            form.lives_with.data = _answer(contact.lives_with)
        form.contact_by.data = contact.contact_by or "none"
        if form.audience is not None:
            form.audience.data = contact.audience
    if form.validate_on_submit():
        draft = _draft(form, contact.role)
        done, changed = attempt(form, lambda: contacts.change(db.session, actor, pupil.id, contact.id, draft))
        if done:
            flash(f"{draft.name} changed" if changed else "Nothing was changed", "success")
            return redirect(url_for("register.pupil", pupil_id=pupil.id, _anchor="people"))
    return render_recorded(
        "casework/contact.html",
        title=f"Change {contact.name}'s details",
        form=form,
        pupil=pupil,
        role=contact.role,
        contact=contact,
    )


class RemoveForm(Form):
    submit = submit("Remove them")


@bp.route("/pupils/<int:pupil_id>/contacts/<int:contact_id>/remove", methods=["GET", "POST"])
@login_required
def contact_remove(pupil_id: int, contact_id: int) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    contact = contacts.contact_to_change(db.session, actor, pupil, contact_id)
    form = RemoveForm()
    if form.validate_on_submit():
        name = contact.name
        done, _ = attempt(form, lambda: contacts.remove(db.session, actor, pupil.id, contact.id))
        if done:
            flash(f"{name} is no longer one of {pupil.full_name}'s contacts", "success")
            return redirect(url_for("register.pupil", pupil_id=pupil.id, _anchor="people"))
    return render_recorded(
        "casework/contact_remove.html",
        title=f"Remove {contact.name}?",
        form=form,
        pupil=pupil,
        contact=contact,
        roles=contacts.ROLES,
    )


# --- the chronology ----------------------------------------------------------------------------


class ChronologyForm(Form):
    class Meta:
        csrf = False  # a filter: it reads, never writes

    kind = checkboxes("Show", list(chronology.KINDS.items()))
    submit = submit("Show")


def _chronology_kinds() -> list[str]:
    return [k for k in request.args.getlist("kind") if k in chronology.KINDS]


@bp.route("/pupils/<int:pupil_id>/chronology")
@login_required
def chronology_page(pupil_id: int) -> str:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    kinds = _chronology_kinds()
    form = ChronologyForm(request.args)
    form.kind.data = kinds
    entries = chronology.chronology(db.session, actor, pupil, kinds)
    return render_recorded(
        "casework/chronology.html",
        title=f"{pupil.full_name}: chronology",
        form=form,
        pupil=pupil,
        entries=entries,
        kinds=chronology.KINDS,
        chosen=kinds,
        today=clock.today(),
    )


@bp.route("/pupils/<int:pupil_id>/chronology.<fmt>")
@login_required
@limiter.limit(export_limit)
def chronology_download(pupil_id: int, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    rows = [e.row() for e in chronology.chronology(db.session, actor, pupil, _chronology_kinds())]
    exports.record_export(db.session, actor, "chronology", fmt, len(rows), {"pupil_id": pupil.id})
    db.session.commit()
    return table_download(fmt, chronology.COLUMNS, rows, f"chronology-{pupil.upn}.{fmt}")


# --- documents ---------------------------------------------------------------------------------


def _storage() -> documents.Store:
    return documents.storage_for(current_app.config)


class DocumentForm(Form):
    file = FileField(
        "The file",
        widget=GovFileInput(),
        description="A PDF, a Word document (DOCX), a JPEG or PNG image, or plain text. It is checked for viruses "
        "before anyone can open it",
    )
    category = radios("What is it?", list(documents.CATEGORIES.items()), "Choose what the document is")
    description = text_area("Description (optional)", max_length=documents.MAX_DESCRIPTION)
    audience = radios("Who may open it?", list(notes.AUDIENCES.items()), "Choose who may open it")
    submit = submit("Upload the document")


@bp.route("/pupils/<int:pupil_id>/documents/new", methods=["GET", "POST"])
@login_required
def document_new(pupil_id: int) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "document.upload", pupil)
    # The record it is evidence for, named in the address (`?review=12`): one of the child's own.
    attach_to = next((kind for kind in documents.ATTACHABLE if kind in request.args), "")
    attach_id = record_id(request.args.get(attach_to, "")) if attach_to else None
    documents.attachment(db.session, actor, pupil, attach_to, attach_id)
    form = DocumentForm()
    limit = current_app.config["DOCUMENT_MAX_MB"] * 1024 * 1024
    if form.validate_on_submit():
        sent = form.file.data
        draft = documents.DocumentDraft(
            filename=getattr(sent, "filename", "") or "",
            data=sent.read(limit + 1) if sent else b"",
            category=form.category.data or "",
            audience=form.audience.data or "",
            description=form.description.data or "",
            attach_to=attach_to,
            attach_id=attach_id,
        )
        scanner = documents.Scanner(current_app.config["CLAMSCAN"], current_app.config["CLAMAV_DATABASE"])
        done, kept = attempt(
            form, lambda: documents.upload(db.session, actor, pupil.id, draft, _storage(), scanner, limit)
        )
        if done and kept is not None:
            flash(f"{kept.filename} uploaded", "success")
            return redirect(_attached_page(pupil.id, attach_to, attach_id))
    return render_recorded(
        "casework/document.html",
        title="Upload a document",
        form=form,
        pupil=pupil,
        limit_mb=limit // (1024 * 1024),
        attach={attach_to: attach_id} if attach_to else {},
        attach_label=documents.ATTACHABLE.get(attach_to, ""),
        back=_attached_page(pupil.id, attach_to, attach_id),
    )


def _attached_page(pupil_id: int, attach_to: str, attach_id: int | None) -> str:
    """The page that shows the record a document is evidence for."""
    if attach_to == "referral":
        return url_for("panels.referral", referral_id=attach_id)
    if attach_to == "review":
        from ap_register.models import PlacementReview

        review = db.session.get(PlacementReview, attach_id)
        return url_for("register.placement", placement_id=review.placement_id if review else 0, _anchor="reviews")
    if attach_to == "note":
        return url_for("register.pupil", pupil_id=pupil_id, _anchor=f"note-{attach_id}")
    return url_for("register.pupil", pupil_id=pupil_id, _anchor="documents")


@bp.route("/documents/<int:document_id>")
@login_required
def document_open(document_id: int) -> Response:
    actor = current_actor()
    try:
        found, data = documents.open_document(db.session, actor, document_id, _storage())
    except documents.StorageUnavailable:
        current_app.logger.exception("The document store could not be read")
        abort(503)
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype=found.content_type, as_attachment=True, download_name=found.filename)


# --- letters -----------------------------------------------------------------------------------


class LetterBeginForm(Form):
    source = radios("What is the letter about?", [], "Choose what the letter is about")
    recipient = radios("Who is it to?", [], letters.NOT_A_PARENT)
    submit = submit("Begin the letter")


class LetterSendForm(Form):
    how = radios("How was it sent?", list(letters.SENT_HOW.items()), "Choose how the letter was sent")
    sent_on = GovDateField("The day it was sent", description="For example, 27 11 2026")
    send = submit("Record that it was sent")


class LetterDiscardForm(Form):
    discard = submit("Throw away this draft")


def _words_form(kind: str, kept: dict[str, Any] | None = None) -> Form:
    """The form of the writer's own words for a letter of this kind (`letters.WORDS`): as sent when
    `kept` is None, else showing `kept`."""
    attrs: dict[str, Any] = {}
    for words in letters.words_of(kind):
        if words.multiline:
            attrs[words.name] = text_area(words.label, max_length=words.max_length, description=words.hint)
        else:
            attrs[words.name] = text_field(words.label, max_length=words.max_length, description=words.hint)
    attrs["save"] = submit("Save the letter")
    form_class = type("LetterWordsForm", (Form,), attrs)
    if kept is None:
        return form_class()
    return form_class(formdata=None, data=dict(kept))


@bp.route("/pupils/<int:pupil_id>/letters/new", methods=["GET", "POST"])
@login_required
def letter_new(pupil_id: int) -> str | Response:
    actor = current_actor()
    pupil = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "letter.write", pupil)
    made_from = letters.sources(db.session, actor, pupil)
    people = letters.recipients(db.session, actor, pupil)
    form = LetterBeginForm()
    form.source.choices = [(s.key, s.label) for s in made_from]
    form.recipient.choices = [
        (str(c.id), f"{c.name} ({contacts.RELATIONSHIPS.get(c.relation or '', 'parent or carer').lower()})")
        for c in people
    ]
    if form.validate_on_submit():
        chosen = record_id(form.recipient.data)
        done, letter = attempt(form, lambda: letters.begin(db.session, actor, pupil.id, form.source.data or "", chosen))
        if done and letter is not None:
            flash("Letter begun: check it, then add your own words", "success")
            return redirect(url_for("casework.letter", letter_id=letter.id))
    return render_recorded(
        "casework/letter_new.html", title="Write a letter", form=form, pupil=pupil, made_from=made_from, people=people
    )


def _letter_page(
    letter: Any, pupil: Any, form: Any = None, status: int = 200, problems: list[dict[str, str]] | None = None
) -> tuple[str, int]:
    """The letter as it reads, and while it is a draft the writer's forms: their words, its sending
    and throwing it away (`form`: the one just sent back with its problems)."""
    actor = current_actor()
    changes = letters.may_change(db.session, actor, letter)
    words = sending = discarding = None
    if changes:
        words = form if form is not None and hasattr(form, "signed_by") else _words_form(letter.kind, letter.edits)
        sending = form if isinstance(form, LetterSendForm) else LetterSendForm(formdata=None)
        if sending.sent_on.data is None and not sending.errors:
            sending.sent_on.data = clock.today()
        discarding = LetterDiscardForm(formdata=None)
    page = render_recorded(
        "casework/letter.html",
        title=letters.KINDS[letter.kind],
        letter=letter,
        pupil=pupil,
        content=letters.content(letter),
        words=words,
        sending=sending,
        discarding=discarding,
        form=form,
        statuses=letters.STATUSES,
        sent_how=letters.SENT_HOW,
        words_of=letters.words_of(letter.kind),
        errors=problems or [],
    )
    return page, status


@bp.route("/letters/<int:letter_id>", methods=["GET", "POST"])
@login_required
def letter(letter_id: int) -> tuple[str, int] | Response:
    actor = current_actor()
    found = letters.opened(db.session, actor, letter_id) if request.method == "GET" else None
    found = found or letters.get(db.session, actor, letter_id)
    pupil = permissions.get_pupil(db.session, actor, found.pupil_id)
    if request.method == "GET":
        return _letter_page(found, pupil)
    form = _words_form(found.kind)
    if form.validate_on_submit():
        given = {w.name: (getattr(form, w.name).data or "") for w in letters.words_of(found.kind)}
        done, changed = attempt(form, lambda: letters.revise(db.session, actor, found.id, given))
        if done:
            flash("Letter saved" if changed else "Nothing had changed", "success")
            return redirect(url_for("casework.letter", letter_id=found.id))
    return _letter_page(found, pupil, form, 400)


@bp.route("/letters/<int:letter_id>/send", methods=["POST"])
@login_required
def letter_send(letter_id: int) -> tuple[str, int] | Response:
    actor = current_actor()
    found = letters.get(db.session, actor, letter_id)
    pupil = permissions.get_pupil(db.session, actor, found.pupil_id)
    form = LetterSendForm()
    if form.validate_on_submit():
        how, on = form.how.data or "", form.sent_on.data
        done, sent = attempt(form, lambda: letters.send(db.session, actor, found.id, how, on, _storage(), _pdf))
        if done and sent is not None:
            flash("Letter recorded as sent: it is kept on the child's record and chronology", "success")
            return redirect(url_for("casework.letter", letter_id=found.id))
    return _letter_page(found, pupil, form, 400)


@bp.route("/letters/<int:letter_id>/discard", methods=["POST"])
@login_required
def letter_discard(letter_id: int) -> tuple[str, int] | Response:
    actor = current_actor()
    found = letters.get(db.session, actor, letter_id)
    pupil = permissions.get_pupil(db.session, actor, found.pupil_id)
    form = LetterDiscardForm()
    if form.validate_on_submit():
        done, _ = attempt(form, lambda: letters.discard(db.session, actor, found.id))
        if done:
            flash("Draft letter thrown away", "success")
            return redirect(url_for("register.pupil", pupil_id=pupil.id, _anchor="letters"))
    return _letter_page(found, pupil, form, 400)


def _pdf(content: letters.Content) -> bytes:
    try:
        return letter_files.pdf(content, current_app.config["LETTER_FONT_DIR"])
    except letter_files.FontMissing as error:
        current_app.logger.error("%s", error)
        raise DomainError("The letter was not printed", [FieldError("", letters.NOT_PRINTED)]) from error


@bp.route("/letters/<int:letter_id>.<suffix>")
@login_required
def letter_download(letter_id: int, suffix: str) -> Response:
    if suffix not in ("pdf", "docx"):
        abort(404)
    actor = current_actor()
    found = letters.opened(db.session, actor, letter_id, suffix)
    if suffix == "pdf" and found.document_id is not None:
        # The PDF that went, for whoever reads the letter (`scope_letters`), not only the LA's
        # officers who find it among the documents.
        kept = db.session.get(Document, found.document_id)
        try:
            data = _storage().read(kept.storage_key) if kept is not None else b""
        except FileNotFoundError:
            abort(404)
        except documents.StorageUnavailable:
            current_app.logger.exception("The document store could not be read")
            abort(503)
    elif suffix == "pdf":
        try:
            data = _pdf(letters.content(found))
        except DomainError as refused:
            pupil = permissions.get_pupil(db.session, actor, found.pupil_id)
            db.session.commit()
            page, _status = _letter_page(
                found, pupil, problems=[{"text": e.message, "href": "#letter"} for e in refused.errors]
            )
            return Response(page, status=422)
    else:
        data = letter_files.docx(letters.content(found))
    db.session.commit()
    mimetype = "application/pdf" if suffix == "pdf" else documents.DOCX
    return send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=letters.filename(found, suffix)
    )
