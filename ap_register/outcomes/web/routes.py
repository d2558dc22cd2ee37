"""Outcome pages. The comparison reads the scores the nightly job keeps (computing them when none
are kept for the year, and on request); a provider's page and the pupils behind a figure are
computed as they are asked for, shown only as far as the viewer may see them."""

from __future__ import annotations

import tempfile

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.blueprints.access import allowed
from ap_register.domain import exports
from ap_register.domain.errors import NotFound
from ap_register.extensions import db, limiter
from ap_register.models import LocalAuthority, Pupil
from ap_register.outcomes import rules
from ap_register.outcomes.web import bp
from ap_register.web import current_actor, current_la, render_recorded
from ap_register.years import AcademicYear


def _year() -> int:
    parsed = AcademicYear.parse(request.args.get("year", ""))
    asked = parsed.start if parsed else None
    latest = AcademicYear.last_ended(clock.today()).start + 1
    if asked is None or not 2000 <= asked <= latest:
        return AcademicYear.last_ended(clock.today()).start
    return asked


def _sorted(found: rules.Scores, key: str) -> list[rules.ProviderScores]:
    if key not in rules.OUTCOMES:
        return sorted(found.providers, key=lambda p: p.provider.name if p.provider else "")

    # Highest first; suppressed figures last, never as zeros.
    def order(p: rules.ProviderScores) -> tuple[bool, float, str]:
        value = p.figures[key].value
        return value is None, -(value or 0), p.provider.name if p.provider else ""

    return sorted(found.providers, key=order)


@bp.route("/")
@allowed("outcomes.compare")
def compare() -> str:
    year = _year()
    la = current_la()
    found = rules.kept_or_computed(db.session, la, year)
    sort = request.args.get("sort", "")
    return render_template(
        "outcomes/compare.html",
        title="Provider outcomes",
        found=found,
        providers=_sorted(found, sort),
        sort=sort,
        year=year,
        this_year=AcademicYear.last_ended(clock.today()).start + 1,
        labels=rules.LABELS,
        outcomes=rules.OUTCOMES,
        national=rules.national_benchmarks(),
        unscored=rules.unscored(db.session, current_actor(), la),
        unscored_why=rules.UNSCORED_WHY,
    )


@bp.route("/recalculate", methods=["POST"])
@login_required
@limiter.limit(lambda: str(current_app.config["RECALCULATE_RATE_LIMIT"]))
def recalculate() -> Response:
    """Compute a year's scores now and keep them, as the nightly job would."""
    actor = current_actor()
    permissions.require(db.session, actor, "outcomes.compare")
    year = _year()
    la = current_la()
    rules.store(db.session, rules.scores(db.session, la, year))
    audit.record(db.session, actor, "change", "scores", la.code, detail={"year": year})
    db.session.commit()
    flash(f"The outcomes of {AcademicYear(year).label} have been recalculated.", "success")
    return redirect(url_for("outcomes.compare", year=AcademicYear(year).label))


@bp.route("/export.xlsx")
@allowed("outcomes.compare")
def export() -> Response:
    actor = current_actor()
    year = _year()
    found = rules.scores(db.session, current_la(), year)
    rows = rules.table_rows(found)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    exports.write_xlsx(rules.SCORE_COLUMNS, rows, spool, f"Outcomes {AcademicYear(year).label.replace('/', '-')}")
    spool.seek(0)
    exports.record_export(db.session, actor, "scores", "xlsx", len(rows), {"year": year})
    db.session.commit()
    return send_file(
        spool,
        mimetype=exports.MEDIA_TYPES["xlsx"],
        as_attachment=True,
        download_name=f"outcomes-{found.la.code}-{AcademicYear(year).label.replace('/', '-')}.xlsx",
    )


def _provider_scores(setting_id: int) -> tuple[rules.Scores, rules.ProviderScores, int]:
    actor = current_actor()
    permissions.require(db.session, actor, "outcomes.provider")
    setting = permissions.get_setting(db.session, actor, setting_id)
    if not permissions.may_see_provider_scores(actor, setting):
        raise NotFound("Page not found")
    year = _year()
    la = db.session.get(LocalAuthority, setting.la_id)
    assert la is not None
    found = rules.scores(db.session, la, year)
    mine = next((p for p in found.providers if p.provider and p.provider.id == setting.id), None)
    if mine is None:
        raise NotFound("Page not found")
    return found, mine, year


@bp.route("/providers/<int:setting_id>")
@login_required
def provider(setting_id: int) -> str:
    found, mine, year = _provider_scores(setting_id)
    assert mine.provider is not None
    return render_template(
        "outcomes/provider.html",
        title=f"Outcomes of {mine.provider.name}",
        found=found,
        mine=mine,
        beside=rules.area_beside(found, mine),
        benchmarks=rules.benchmarks_beside(found, mine),
        year=year,
        this_year=AcademicYear.last_ended(clock.today()).start + 1,
        labels=rules.LABELS,
        outcomes=rules.OUTCOMES,
        definitions=rules.DEFINITIONS,
    )


@bp.route("/providers/<int:setting_id>/<outcome>")
@login_required
def pupils(setting_id: int, outcome: str) -> str:
    """The pupils behind one figure, as far as the viewer may see them; each view is audited."""
    if outcome not in rules.OUTCOMES:
        raise NotFound("Page not found")
    found, mine, year = _provider_scores(setting_id)
    assert mine.provider is not None
    actor = current_actor()
    figure = mine.figures[outcome]
    ids = [r.pupil_id for r in figure.pupils]
    visible = {
        p.id: p for p in db.session.scalars(permissions.scope_pupils(actor, select(Pupil).where(Pupil.id.in_(ids))))
    }
    rows = [(visible[r.pupil_id], r) for r in figure.pupils if r.pupil_id in visible]
    for pupil_id in sorted({p.id for p, _ in rows}):
        audit.record(
            db.session,
            actor,
            "view",
            "outcome",
            f"{mine.provider.id}:{outcome}:{year}",
            pupil_id=pupil_id,
        )
    return render_recorded(
        "outcomes/pupils.html",
        title=f"{rules.LABELS[outcome]}: the pupils behind the figure",
        mine=mine,
        figure=figure,
        rows=sorted(rows, key=lambda row: (row[1].met, row[0].last_name, row[0].first_name)),
        hidden=len(figure.pupils) - len(rows),
        outcome=outcome,
        year=year,
        labels=rules.LABELS,
        definitions=rules.DEFINITIONS,
    )


@bp.route("/methodology")
@login_required
def methodology() -> str:
    return render_template(
        "outcomes/methodology.html",
        title="How the outcomes are measured",
        labels=rules.LABELS,
        outcomes=rules.OUTCOMES,
        definitions=rules.DEFINITIONS,
        honesty=rules.HONESTY,
        national=rules.national_benchmarks(),
        min_n=rules.MIN_N,
        term=rules.TERM,
        activities=rules.ACTIVITIES,
        sustained=rules.SUSTAINED,
    )


@bp.route("/schools")
@login_required
def schools() -> str:
    """Each mainstream school's moves out and returns, and the off-rolling signal."""
    from ap_register.outcomes import profiles as movement

    actor = current_actor()
    permissions.require(db.session, actor, "outcomes.compare")
    year = _year()
    found = movement.movement_profiles(db.session, current_la(), year)
    flagged_first = sorted(found.schools, key=lambda p: (not p.flagged, -(p.per_thousand(p.older_out) or 0)))
    return render_template(
        "outcomes/schools.html",
        title="Schools' movement profiles",
        found=found,
        schools=flagged_first,
        year_groups=movement.year_groups(found),
        caveat=movement.CAVEAT,
        rule=movement.FLAG_RULE,
        year=year,
        this_year=AcademicYear.last_ended(clock.today()).start + 1,
    )
