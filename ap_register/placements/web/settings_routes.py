"""Settings: the area's schools and providers, and unregistered providers' oversight records."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ap_register import permissions
from ap_register.blueprints.forms import attempt
from ap_register.domain.search import settings_query
from ap_register.domain.vocab import SettingKind
from ap_register.extensions import db
from ap_register.placements import settings as setting_rules
from ap_register.placements.independent_school import FULL_TIME_SESSIONS
from ap_register.placements.web import bp
from ap_register.placements.web.forms import OversightForm, SettingKindForm, SettingsFilterForm
from ap_register.web import current_actor, paged_query


@bp.route("/settings")
@login_required
def settings() -> str:
    form = SettingsFilterForm(request.args)
    form.validate()
    kind = SettingKind(form.kind.data) if form.kind.data and not form.kind.errors else None
    results = paged_query(settings_query(current_actor(), kind, form.q.data or ""))
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("register/settings.html", title="Settings", form=form, results=results, query=query)


@bp.route("/settings/<int:setting_id>")
@login_required
def setting(setting_id: int) -> str:
    found = permissions.get_setting(db.session, current_actor(), setting_id)
    status = setting_rules.oversight_status(found) if found.unregistered else None
    # The count can tell of a looked-after child: the LA's officers who oversee providers see it.
    overseer = permissions.can(db.session, current_actor(), "setting.edit_oversight", found)
    test = setting_rules.independent_school_reading(db.session, found) if overseer else None
    return render_template(
        "register/setting.html",
        title=found.name,
        setting=found,
        status=status,
        test=test,
        full_time_sessions=FULL_TIME_SESSIONS,
    )


@bp.route("/settings/<int:setting_id>/oversight", methods=["GET", "POST"])
@login_required
def setting_oversight(setting_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_setting(db.session, actor, setting_id)
    permissions.require(db.session, actor, "setting.edit_oversight", found)
    form = OversightForm(obj=found if request.method == "GET" else None)
    if request.method == "GET":
        form.sites.data = "\n".join(site.address for site in found.sites)
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: setting_rules.update_oversight(
                db.session,
                actor,
                found,
                contact_name=form.contact_name.data or "",
                contact_phone=form.contact_phone.data,
                contact_email=form.contact_email.data,
                safeguarding_checks_confirmed=bool(form.safeguarding_checks_confirmed.data),
                safeguarding_checks_date=form.safeguarding_checks_date.data,
                last_qa_visit_date=form.last_qa_visit_date.data,
                risk_assessment_date=form.risk_assessment_date.data,
                risk_assessment_notes=form.risk_assessment_notes.data,
                sites=(form.sites.data or "").splitlines(),
            ),
        )
        if done:
            flash("Oversight record saved", "success")
            return redirect(url_for("register.setting", setting_id=found.id))
    return render_template("register/oversight.html", title=f"Oversight record: {found.name}", form=form, setting=found)


@bp.route("/settings/<int:setting_id>/kind", methods=["GET", "POST"])
@login_required
def setting_kind(setting_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_setting(db.session, actor, setting_id)
    permissions.require(db.session, actor, "setting.set_kind", found)
    form = SettingKindForm(data={"kind": found.kind.value} if request.method == "GET" else None)
    if form.validate_on_submit():
        setting_rules.set_kind(db.session, actor, found, SettingKind(form.kind.data))
        db.session.commit()
        flash("Kind of setting saved", "success")
        return redirect(url_for("register.setting", setting_id=found.id))
    return render_template("register/setting_kind.html", title="Change the kind of setting", form=form, setting=found)
