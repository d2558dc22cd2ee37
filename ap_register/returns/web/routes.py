"""Returns pages: choose a return, see what is missing before census day, download the lines."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from ap_register import clock, permissions
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import Form, GovDateField, attempt, radios, submit
from ap_register.blueprints.forms import select as select_field
from ap_register.extensions import db, limiter
from ap_register.returns import ap_census, cnis
from ap_register.returns import rules as returns
from ap_register.returns.web import bp
from ap_register.web import (
    current_actor,
    current_la,
    export_limit,
    render_recorded,
    same_site_path,
    shows_only,
    table_download,
)
from ap_register.years import AcademicYear


def _years(today: date) -> list[tuple[str, str]]:
    current = AcademicYear.containing(today).start
    return [(str(y), f"{y}/{(y + 1) % 100:02d}") for y in range(current + 1, current - 3, -1)]


class ReturnForm(Form):
    class Meta:
        csrf = False

    kind = select_field("Return", [(k, label) for k, label in returns.RETURNS.items()])
    year = select_field("Academic year", [])
    term = select_field(
        "Term (school census)",
        [(k, label) for k, label in returns.TERMS.items()],
        description="The AP census is in January",
    )
    submit = submit("Show")


class DayForm(Form):
    class Meta:
        csrf = False

    on = GovDateField("On", required=False, description="The day the register is taken for (default today)")
    submit = submit("Show")


class CensusReasonForm(Form):
    census_reason = radios(
        "Why was the placement commissioned?",
        [(key, label) for key, (label, _) in returns.CENSUS_REASONS.items()],
        required="Choose the reason the placement was commissioned",
    )
    submit = submit("Save")


class SettingTypeForm(Form):
    census_setting_type = radios(
        "What type of setting is it?",
        [(key, label) for key, (label, _) in returns.SETTING_TYPES.items()],
        required="Choose the type of setting",
    )
    submit = submit("Save")


def _chosen() -> tuple[ReturnForm, str, int, str]:
    today = clock.today()
    args = request.args.copy()
    if current_user.setting_id is not None:
        args["kind"] = "school-census"  # a school makes the school census return only
    form = ReturnForm(args)
    form.year.choices = _years(today)
    if current_user.setting_id is not None:
        form.kind.choices = [("school-census", returns.RETURNS["school-census"])]
    form.validate()
    kind = form.kind.data if form.kind.data in dict(form.kind.choices) else form.kind.choices[0][0]
    year = (AcademicYear.parse(form.year.data or "") or AcademicYear.containing(today)).start
    if str(year) not in dict(form.year.choices):
        year = AcademicYear.containing(today).start
    term = form.term.data if form.term.data in returns.TERMS else "spring"
    form.kind.data, form.year.data, form.term.data = kind, str(year), term
    return form, kind, year, term


def _built() -> tuple[ReturnForm, returns.Return]:
    """The return the query asks for, built (and its view audited) for the signed-in person."""
    form, kind, year, term = _chosen()
    found = returns.build(db.session, current_actor(), current_la(), kind, year, term)
    db.session.commit()
    shows_only(found.pupil_ids)
    return form, found


@bp.route("/")
@allowed("returns.view")
def index() -> str:
    form, found = _built()
    query = {"kind": found.kind, "year": found.year, "term": found.term}
    return render_template(
        "returns/index.html",
        title="Statutory returns",
        form=form,
        found=found,
        query=query,
        days_left=found.days_left(clock.today()),
        reasons=returns.CENSUS_REASONS,
        standing=ap_census.STANDING,
        not_produced=ap_census.NOT_PRODUCED,
    )


@bp.route("/export.<fmt>")
@login_required
@limiter.limit(export_limit)
def export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx", "xml"):
        abort(404)
    permissions.require(db.session, current_actor(), "returns.view")
    _, found = _built()
    kind, year, term = found.kind, found.year, found.term
    name = f"{kind}-{year}-{term}.{fmt}" if kind == "school-census" else f"{kind}-{year}.{fmt}"
    if fmt == "xml":
        if found.xml is None:
            abort(404)  # only the AP census is a file for the collection system
        return Response(
            found.xml,
            mimetype="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{found.la.code}-{name}"'},
        )
    return table_download(fmt, returns.COLUMNS[kind], found.rows, name)


@bp.route("/gaps.<fmt>")
@login_required
@limiter.limit(export_limit)
def gaps_export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    permissions.require(db.session, current_actor(), "returns.view")
    _, found = _built()
    gaps = [g.as_json() for g in found.gaps]
    return table_download(fmt, returns.GAP_COLUMNS, gaps, f"{found.kind}-{found.year}-gaps.{fmt}")


@bp.route("/placements/<int:placement_id>/census-reason", methods=["GET", "POST"])
@login_required
def census_reason(placement_id: int) -> str | BaseResponse:
    actor = current_actor()
    placement = permissions.get_placement(db.session, actor, placement_id)
    permissions.require(db.session, actor, "placement.review", placement)
    form = CensusReasonForm(data={"census_reason": placement.census_reason})
    back = _back(url_for("register.placement", placement_id=placement.id))
    if form.validate_on_submit():
        done, _ = attempt(
            form, lambda: returns.set_census_reason(db.session, actor, placement, form.census_reason.data)
        )
        if done:
            flash("The census reason is saved", "success")
            return redirect(back)
    return render_template(
        "returns/census_reason.html",
        title="Why was the placement commissioned?",
        form=form,
        placement=placement,
        back=back,
    )


@bp.route("/settings/<int:setting_id>/census-type", methods=["GET", "POST"])
@login_required
def census_setting_type(setting_id: int) -> str | BaseResponse:
    actor = current_actor()
    setting = permissions.get_setting(db.session, actor, setting_id)
    permissions.require(db.session, actor, "setting.edit_oversight", setting)
    form = SettingTypeForm(data={"census_setting_type": setting.census_setting_type})
    back = _back(url_for("register.setting", setting_id=setting.id))
    if form.validate_on_submit():
        done, _ = attempt(
            form, lambda: returns.set_census_setting_type(db.session, actor, setting, form.census_setting_type.data)
        )
        if done:
            flash("The type of setting is saved", "success")
            return redirect(back)
    return render_template(
        "returns/census_type.html", title="What type of setting is it?", form=form, setting=setting, back=back
    )


def _back(default: str) -> str:
    """Where to go after a fix: back to the return it was made from, or the record's own page."""
    return same_site_path(request.args.get("next"), default, under="/returns/")


def _day() -> tuple[DayForm, date]:
    form = DayForm(request.args)
    form.validate()
    return form, form.on.data if form.on.data and not form.on.errors else clock.today()


@bp.route("/children-not-in-school")
@login_required
def children_not_in_school() -> str:
    actor = current_actor()
    form, on = _day()
    found = cnis.register_on(db.session, actor, current_la(), on)
    return render_recorded(
        "returns/cnis.html",
        title="Children not in school",
        form=form,
        on=on,
        children=found,
        summary=cnis.summary(found),
        conditions=cnis.CONDITIONS,
        not_held=cnis.NOT_HELD,
        in_force_from=cnis.IN_FORCE_FROM,
        source=cnis.SOURCE,
    )


@bp.route("/children-not-in-school/export.<fmt>")
@login_required
@limiter.limit(export_limit)
def children_not_in_school_export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    actor = current_actor()
    _, on = _day()
    found = cnis.register_on(db.session, actor, current_la(), on)
    db.session.commit()
    return table_download(fmt, cnis.COLUMNS, cnis.rows(found), f"children-not-in-school-{on}.{fmt}")
