"""Budget pages: plans, their lines and variations, utilisation, and a provider's own view."""

from __future__ import annotations

import tempfile

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from ap_register import clock, permissions
from ap_register.blueprints.access import allowed
from ap_register.blueprints.forms import attempt, setting_choices
from ap_register.budgets import rules, sufficiency
from ap_register.budgets.web import bp
from ap_register.budgets.web.forms import AgreeForm, LineForm, PlanForm, SufficiencyForm, VariationForm
from ap_register.domain import exports
from ap_register.domain.errors import NotFound
from ap_register.domain.typed import whole_number
from ap_register.domain.vocab import AP_KINDS, Tier
from ap_register.extensions import db
from ap_register.models import BudgetLine, BudgetPlan, LocalAuthority
from ap_register.web import current_actor, shows_only
from ap_register.years import FinancialYear


def _years_shown(plan: BudgetPlan) -> int:
    """The year a plan's page opens on: the one asked for, else this financial year if the plan
    covers it, else its first."""
    asked = whole_number(request.args.get("year"))
    if asked is not None and plan.first_year <= asked <= plan.last_year:
        return asked
    this_year = FinancialYear.containing(clock.today()).start
    return this_year if plan.first_year <= this_year <= plan.last_year else plan.first_year


@bp.route("/")
@login_required
def index() -> str | Response:
    actor = current_actor()
    if not permissions.can(db.session, actor, "budgets.view"):
        permissions.require(db.session, actor, "budgets.provider")
        return redirect(url_for("budgets.provider", setting_id=current_user.setting_id))
    plans = db.session.scalars(
        permissions.scope_budget_plans(actor, select(BudgetPlan).order_by(BudgetPlan.first_year.desc()))
    ).all()
    return render_template("budgets/index.html", title="Budget", plans=plans)


@bp.route("/new", methods=["GET", "POST"])
@allowed("budgets.manage")
def plan_new() -> str | Response:
    actor = current_actor()
    this_year = FinancialYear.containing(clock.today()).start
    form = PlanForm(data={"years": 3, "first_year": str(this_year)} if request.method == "GET" else None)
    form.first_year.choices = [("", "Choose the year")] + [
        (str(y), FinancialYear(y).label) for y in range(this_year - 1, this_year + 3)
    ]
    if form.validate_on_submit():
        la = db.session.get(LocalAuthority, current_user.la_id)
        assert la is not None
        done, plan = attempt(
            form,
            lambda: rules.create_plan(
                db.session,
                actor,
                la,
                name=form.name.data or "",
                first_year=int(form.first_year.data),
                years=form.years.data or 0,
                demand_policy=form.demand_policy.data or "",
            ),
        )
        if done and plan is not None:
            flash("Plan created: add its lines, then agree it", "success")
            return redirect(url_for("budgets.plan", plan_id=plan.id))
    return render_template("budgets/plan_new.html", title="Create a budget plan", form=form)


@bp.route("/<int:plan_id>")
@login_required
def plan(plan_id: int) -> str:
    actor = current_actor()
    found = permissions.get_budget_plan(db.session, actor, plan_id)
    year = _years_shown(found)
    years = rules.utilisation(db.session, found, clock.today())
    shown = next(y for y in years if y.year == year)
    return render_template(
        "budgets/plan.html",
        title=found.name,
        plan=found,
        years=years,
        shown=shown,
        variations=[v for v in found.variations if v.line.year == year],
        spent=rules.spend(db.session, found, year),
        agree_form=AgreeForm(),
        place_types=rules.PLACE_TYPES,
        today=clock.today(),
    )


@bp.route("/<int:plan_id>/lines", methods=["GET", "POST"])
@allowed("budgets.manage")
def line_new(plan_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_budget_plan(db.session, actor, plan_id)
    if found.agreed_at is not None:
        flash("The plan is agreed: change a line by recording a variation", "info")
        return redirect(url_for("budgets.plan", plan_id=found.id))
    form = LineForm(data={"year": str(_years_shown(found))} if request.method == "GET" else None)
    form.year.choices = [(str(y), FinancialYear(y).label) for y in range(found.first_year, found.last_year + 1)]
    form.provider.choices = setting_choices(frozenset(AP_KINDS), blank="None (the reserve)")
    if form.validate_on_submit():
        provider = None
        if (form.provider.data or "").isdigit():
            provider = permissions.get_setting(db.session, actor, int(form.provider.data))
        done, _ = attempt(
            form,
            lambda: rules.set_line(
                db.session,
                actor,
                found,
                year=int(form.year.data),
                place_type=form.place_type.data,
                provider=provider,
                commissioned=form.commissioned.data,
                unit_cost=form.unit_cost.data,
            ),
        )
        if done:
            flash("Line saved", "success")
            return redirect(url_for("budgets.plan", plan_id=found.id, year=form.year.data))
    return render_template("budgets/line_new.html", title="Add a line to the plan", form=form, plan=found)


@bp.route("/<int:plan_id>/agree", methods=["POST"])
@allowed("budgets.manage")
def agree(plan_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_budget_plan(db.session, actor, plan_id)
    form = AgreeForm()
    if form.validate_on_submit():
        done, _ = attempt(form, lambda: rules.agree_plan(db.session, actor, found))
        if done:
            flash("Plan agreed: bookings beyond its places are now spot purchases", "success")
            return redirect(url_for("budgets.plan", plan_id=found.id))
    years = rules.utilisation(db.session, found, clock.today())
    year = _years_shown(found)
    return render_template(
        "budgets/plan.html",
        title=found.name,
        plan=found,
        years=years,
        shown=next(y for y in years if y.year == year),
        variations=[],
        agree_form=form,
        form=form,
        place_types=rules.PLACE_TYPES,
        today=clock.today(),
    )


@bp.route("/<int:plan_id>/lines/<int:line_id>/vary", methods=["GET", "POST"])
@allowed("budgets.manage")
def vary(plan_id: int, line_id: int) -> str | Response:
    actor = current_actor()
    found = permissions.get_budget_plan(db.session, actor, plan_id)
    line = permissions.get_budget_line(db.session, actor, found, line_id)
    form = VariationForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: rules.vary(db.session, actor, line, change=form.change.data, reason=form.reason.data or ""),
        )
        if done:
            flash("Variation recorded", "success")
            return redirect(url_for("budgets.plan", plan_id=found.id, year=line.year))
    return render_template(
        "budgets/vary.html",
        title="Record a variation",
        form=form,
        plan=found,
        line=line,
        label=rules.line_label(line),
        effective=rules.effective(line),
    )


@bp.route("/<int:plan_id>/export.xlsx")
@login_required
def export(plan_id: int) -> Response:
    actor = current_actor()
    found = permissions.get_budget_plan(db.session, actor, plan_id)
    today = clock.today()
    spent = [(year, rules.spend(db.session, found, year)) for year in range(found.first_year, found.last_year + 1)]
    sheets = rules.workbook_sheets(found, rules.utilisation(db.session, found, today), today, spent)
    sheets += sufficiency.workbook_sheets(sufficiency.Demand(db.session, found, today))
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    exports.write_xlsx_sheets(sheets, spool)  # type: ignore[arg-type]
    spool.seek(0)
    exports.record_export(db.session, actor, "budget_plan", "xlsx", len(sheets[0][2]), {"plan_id": found.id})
    db.session.commit()
    return send_file(
        spool,
        mimetype=exports.MEDIA_TYPES["xlsx"],
        as_attachment=True,
        download_name=f"budget-{found.first_year}-{found.last_year + 1}-{today.isoformat()}.xlsx",
    )


@bp.route("/<int:plan_id>/sufficiency")
@allowed("budgets.view")
def sufficiency_page(plan_id: int) -> str:
    """Demand for places against the places commissioned, month by month over the plan's years,
    with a forecast (a GET form of filters: it changes nothing)."""
    actor = current_actor()
    found = permissions.get_budget_plan(db.session, actor, plan_id)
    shows_only([])  # counts and averages of the LA's placements; no child is shown
    demand = sufficiency.Demand(db.session, found, clock.today())
    form = SufficiencyForm(request.args)
    form.district.choices = [("", "Every district")] + [(d, d) for d in demand.districts]
    form.lot.choices = [("", "Every lot, or none")] + [(str(lot_id), name) for lot_id, name in demand.lot_names.items()]
    form.validate()

    def chosen(name: str) -> str | None:
        field = form[name]
        return (field.data or None) if not field.errors else None

    lot = chosen("lot")
    tier = chosen("tier")
    filters = sufficiency.Filters(
        phase=chosen("phase"),
        district=chosen("district"),
        lot_id=int(lot) if lot else None,
        tier=Tier(tier) if tier else None,
    )
    return render_template(
        "budgets/sufficiency.html",
        title="Sufficiency of places",
        plan=found,
        form=form,
        found=demand.report(filters),
        lot_names=demand.lot_names,
        phases=sufficiency.PHASES,
        tiers=sufficiency.TIERS,
        interval=round(sufficiency.INTERVAL * 100),
        history_months=sufficiency.HISTORY_MONTHS,
    )


@bp.route("/providers/<int:setting_id>")
@allowed("budgets.provider")
def provider(setting_id: int) -> str:
    """A provider's own commissioned places and outreach hours against what it has used."""
    actor = current_actor()
    found = permissions.get_setting(db.session, actor, setting_id)
    if not permissions.can(db.session, actor, "budgets.view") and current_user.setting_id != found.id:
        raise NotFound("Page not found")
    today = clock.today()
    la = db.session.get(LocalAuthority, found.la_id)
    assert la is not None
    plan = rules.plan_for(db.session, la, today)
    lines: list[tuple[rules.YearUse, rules.LineUse]] = []
    if plan is not None:
        visible = set(db.session.scalars(permissions.scope_budget_lines(actor, select(BudgetLine.id))))
        lines = [
            (year, use)
            for year, use in rules.provider_lines(rules.utilisation(db.session, plan, today), found.id)
            if use.line.id in visible
        ]
    return render_template(
        "budgets/provider.html",
        title="Commissioned places and outreach",
        setting=found,
        plan=plan,
        lines=lines,
        place_types=rules.PLACE_TYPES,
        this_year=FinancialYear.containing(today).start,
        today=today,
        over_the_year=rules.places_over_the_year(db.session, plan, found.id, today) if plan is not None else [],
    )
