"""A child's caseworker, the officer's own caseload, and handing over a leaver's cases."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ap_register import permissions
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import Form, GovDateField, attempt, radios, submit, text_area
from ap_register.blueprints.forms import select as select_field
from ap_register.casework import caseloads, notes
from ap_register.casework.web import bp
from ap_register.domain.typed import record_id
from ap_register.domain.vocab import ROLE_LABELS
from ap_register.extensions import db
from ap_register.web import current_actor, render_recorded

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
