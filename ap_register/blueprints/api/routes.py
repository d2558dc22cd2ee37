"""The API's operations. Each reads through the permission scopes and writes through domain/,
exactly as the pages do; what a token may see and do is what a person of its organisation and
role may see and do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import Response
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.casework import contacts
from ap_register.coverage import attendance
from ap_register.coverage.rules import week_coverage
from ap_register.domain.errors import DomainError, FieldError, NotFound
from ap_register.domain.search import PlacementFilters, paginate, placements_query, pupils_query, settings_query
from ap_register.extensions import db
from ap_register.models import Alert, AttendanceMark, LocalAuthority, Movement, Placement, Pupil, Setting
from ap_register.outcomes import rules as outcomes
from ap_register.placements import use_cases as placement_use_cases
from ap_register.placements.notice import NoticeContents
from ap_register.placements.rules import PlacementDraft
from ap_register.placements.use_cases import EndPlacement, RecordPlacement, ReviewPlacement, record_placement
from ap_register.returns.rules import reason_of
from ap_register.years import AcademicYear

from . import ApiError, api_actor, bp, operation
from .openapi import document
from .schemas import (
    AlertOut,
    AlertPage,
    AlertsQuery,
    ContactIn,
    ContactList,
    ContactOut,
    CoverageOut,
    CoverageQuery,
    EndIn,
    FieldProblem,
    MarkOut,
    MarkPage,
    MarksIn,
    MarksQuery,
    MarksWritten,
    Me,
    MovementOut,
    MovementPage,
    MovementsQuery,
    NoticeIn,
    PlacementCreated,
    PlacementIn,
    PlacementOut,
    PlacementPage,
    PlacementsQuery,
    PupilCoverage,
    PupilCoverageOut,
    PupilOut,
    PupilPage,
    PupilsQuery,
    ReviewIn,
    ReviewOut,
    ScoresOut,
    ScoresQuery,
    SettingOut,
    SettingPage,
    SettingsQuery,
)

# --- plain values from records --------------------------------------------------------------


def setting_out(setting: Setting) -> SettingOut:
    return SettingOut(
        id=setting.id,
        ref=setting.ref,
        name=setting.name,
        kind=setting.kind,
        la_code=setting.la.code,
        urn=setting.urn,
        ukprn=setting.ukprn,
        postcode=setting.postcode,
        phase=setting.phase,
        open=setting.open,
    )


def pupil_out(pupil: Pupil) -> PupilOut:
    return PupilOut(
        id=pupil.id,
        upn=pupil.upn,
        first_name=pupil.first_name,
        last_name=pupil.last_name,
        date_of_birth=pupil.date_of_birth,
        home_la_code=pupil.home_la.code,
        home_school_id=pupil.home_school_id,
        home_school_ref=pupil.home_school.ref if pupil.home_school else None,
        sen_status=pupil.sen_status.value,
        primary_need=pupil.primary_need,
        child_in_need=pupil.child_in_need,
        looked_after=pupil.looked_after,
    )


def placement_out(placement: Placement, today: date | None = None) -> PlacementOut:
    return PlacementOut(
        id=placement.id,
        pupil_id=placement.pupil_id,
        upn=placement.pupil.upn,
        setting_id=placement.setting_id,
        setting_ref=placement.setting.ref,
        setting_name=placement.setting.name,
        route=placement.route,
        registration=placement.registration,
        tier=placement.tier,
        sessions=placement.sessions,
        start_date=placement.start_date,
        planned_end_date=placement.planned_end_date,
        end_date=placement.end_date,
        destination=placement.destination,
        notice_date=placement.notice_date,
        last_review_date=placement.last_review_date,
        next_review_date=placement.next_review_date,
        home_school_id=placement.home_school_id,
        home_school_code=placement.home_school_code.value if placement.home_school_code else None,
        census_reason=reason_of(placement),
        status=placement.status_on(today or clock.today()),  # type: ignore[arg-type]
        notice_missing=placement.notice_missing,
        from_old_records=placement.from_old_records,
    )


def movement_out(movement: Movement) -> MovementOut:
    return MovementOut(
        id=movement.id,
        pupil_id=movement.pupil_id,
        upn=movement.pupil.upn,
        date=movement.date,
        kind=movement.kind,
        setting_id=movement.setting_id,
        setting_ref=movement.setting.ref if movement.setting else None,
        placement_id=movement.placement_id,
        days=movement.days,
        reason=movement.reason,
        recorded_via=movement.recorded_via,
        recorded_at=movement.recorded_at,
    )


def _page(stmt: Select[Any], query: Any) -> tuple[list[Any], dict[str, int]]:
    found = paginate(db.session, stmt, query.page, query.per_page)
    # paginate clamps the page to the last one; an API answers the page asked for (empty past the end).
    if query.page != found.page:
        return [], {"page": query.page, "per_page": query.per_page, "total": found.total, "pages": found.pages}
    return found.items, {"page": found.page, "per_page": found.per_page, "total": found.total, "pages": found.pages}


# --- the document and the caller ------------------------------------------------------------


@operation("/openapi.json", summary="This API's OpenAPI 3.1 document", tag="about", response=None, public=True)
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of this API, generated from the code that serves it."""
    import json

    return Response(json.dumps(document()), mimetype="application/json")


@operation("/me", summary="The organisation and role this token acts for", tag="about", response=Me)
def me() -> Me:
    actor = api_actor()
    user = actor.user
    assert user is not None
    from ap_register.models import ApiToken

    token = db.session.scalar(select(ApiToken).where(ApiToken.client_id == user.id))
    return Me(
        name=user.name,
        role=user.role,
        organisation=user.organisation_name,
        la_code=(user.la or user.setting.la).code,  # type: ignore[union-attr]
        setting_id=user.setting_id,
        expires_at=token.expires_at if token else None,
    )


# --- settings -------------------------------------------------------------------------------


@operation(
    "/settings", summary="Settings of the token's area", tag="settings", response=SettingPage, query=SettingsQuery
)
def settings(query: SettingsQuery) -> SettingPage:
    """Schools, AP and other settings of the token's local authority (not personal data)."""
    stmt = settings_query(api_actor(), query.kind, query.q, query.include_closed).options(joinedload(Setting.la))
    items, info = _page(stmt, query)
    return SettingPage(items=[setting_out(s) for s in items], **info)


@operation("/settings/<int:setting_id>", summary="One setting", tag="settings", response=SettingOut)
def setting(setting_id: int) -> SettingOut:
    return setting_out(permissions.get_setting(db.session, api_actor(), setting_id))


# --- pupils ---------------------------------------------------------------------------------


@operation("/pupils", summary="Find pupils", tag="pupils", response=PupilPage, query=PupilsQuery)
def pupils(query: PupilsQuery) -> PupilPage:
    """Pupils this token may see, by UPN or name; each search is audited."""
    actor = api_actor()
    stmt = pupils_query(actor, query.q, query.setting_id).options(joinedload(Pupil.home_la))
    items, info = _page(stmt, query)
    audit.record(
        db.session,
        actor,
        "search",
        "pupil",
        detail={"query": query.q, "setting_id": query.setting_id, "results": info["total"], "page": query.page},
    )
    return PupilPage(items=[pupil_out(p) for p in items], **info)


@operation("/pupils/<int:pupil_id>", summary="One pupil", tag="pupils", response=PupilOut)
def pupil(pupil_id: int) -> PupilOut:
    actor = api_actor()
    found = permissions.get_pupil(db.session, actor, pupil_id)
    audit.record(db.session, actor, "view", "pupil", found.id, pupil_id=found.id)
    return pupil_out(found)


@operation(
    "/pupils/<int:pupil_id>/coverage",
    summary="A pupil's full-time coverage in a school week",
    tag="coverage",
    response=PupilCoverageOut,
    query=CoverageQuery,
)
def pupil_coverage(pupil_id: int, query: CoverageQuery) -> PupilCoverageOut:
    """The pupil's planned sessions across every setting that shares them in the week starting
    `week` (a Monday), with gaps, overlaps and flags. `in_scope` is false when the pupil has no
    arrangement that week and is on a school's roll full time (nothing for coverage to check)."""
    actor = api_actor()
    found = permissions.get_pupil(db.session, actor, pupil_id)
    coverage = week_coverage(db.session, actor, found.home_la, query.week, pupil_ids=[found.id])
    audit.record(db.session, actor, "view", "coverage", found.id, pupil_id=found.id, detail={"week": str(query.week)})
    week = next((w for w in coverage.pupils if w.pupil.id == found.id), None)
    return PupilCoverageOut(
        la=coverage.la.code,
        week=coverage.week,
        required_sessions=coverage.required_sessions,
        in_scope=week is not None,
        pupil=_pupil_coverage(week) if week is not None else None,
    )


def _pupil_coverage(week: Any) -> PupilCoverage:
    return PupilCoverage(pupil_id=week.pupil.id, **week.as_json())


# --- the people around a pupil ----------------------------------------------------------------


def contact_out(person: contacts.Person) -> ContactOut:
    c = person.contact
    return ContactOut(
        id=c.id,
        pupil_id=c.pupil_id,
        role=c.role,
        name=c.name,
        relation=c.relation,
        parental_responsibility=c.parental_responsibility,
        lives_with=c.lives_with,
        organisation=c.organisation,
        setting_id=c.setting_id,
        withheld=person.withheld,
        phone=person.detail("phone"),
        email=person.detail("email"),
        address=person.detail("address"),
        contact_by=c.contact_by,
        preferences=person.detail("preferences"),
        restriction=c.restriction,
        audience=c.audience,
    )


@operation("/pupils/<int:pupil_id>/contacts", summary="The people around a pupil", tag="pupils", response=ContactList)
def pupil_contacts(pupil_id: int) -> ContactList:
    """Parents and carers, the social worker, the virtual school head, SENCos and key workers: for
    the pupil's LA and the settings that work with them. A restricted contact's phone, email and
    address are the LA's alone (`withheld`)."""
    actor = api_actor()
    found = permissions.get_pupil(db.session, actor, pupil_id)
    permissions.require(db.session, actor, "contact.view", found)
    audit.record(db.session, actor, "view", "contacts", found.id, pupil_id=found.id)
    return ContactList(items=[contact_out(p) for p in contacts.people_around(db.session, actor, found)])


@operation(
    "/contacts",
    "POST",
    summary="Add a person around a pupil",
    tag="pupils",
    response=ContactOut,
    status=201,
    body=ContactIn,
)
def add_contact(body: ContactIn) -> ContactOut:
    """The same use case as the pupil's page: the same checks, the same audit."""
    actor = api_actor()
    draft = contacts.ContactDraft(**body.model_dump(exclude={"pupil_id"}))
    with body_fields({"setting": "setting_id"}):
        added = contacts.add(db.session, actor, body.pupil_id, draft)
    pupil = permissions.get_pupil(db.session, actor, body.pupil_id)
    shown = next(p for p in contacts.people_around(db.session, actor, pupil) if p.contact.id == added.id)
    return contact_out(shown)


# --- placements -----------------------------------------------------------------------------


@operation("/placements", summary="Find placements", tag="placements", response=PlacementPage, query=PlacementsQuery)
def placements(query: PlacementsQuery) -> PlacementPage:
    actor = api_actor()
    filters = PlacementFilters(route=query.route, tier=query.tier, setting_id=query.setting_id, status=query.status)
    stmt = placements_query(actor, filters)
    if query.pupil_id is not None:
        stmt = stmt.where(Placement.pupil_id == query.pupil_id)
    items, info = _page(stmt, query)
    audit.record(
        db.session, actor, "search", "placement", detail={"results": info["total"], "pupil_id": query.pupil_id}
    )
    return PlacementPage(items=[placement_out(p) for p in items], **info)


@contextmanager
def body_fields(names: dict[str, str]) -> Iterator[None]:
    """A refusal names the register's fields; the API answers with the names of its own body."""
    try:
        yield
    except DomainError as error:
        error.errors = [FieldError(names.get(e.field, e.field), e.message) for e in error.errors]
        raise


@operation(
    "/placements",
    "POST",
    summary="Record a placement",
    tag="placements",
    response=PlacementCreated,
    status=201,
    body=PlacementIn,
)
def create_placement(body: PlacementIn) -> PlacementCreated:
    """Record a placement: the same use case as the placement pages and the placements import,
    with the same checks (route, registration, the setting's kind and tier, sessions, dates, the
    statutory notice, the panel's decision where the LA needs one, the budget's places) and the
    same commissioner. Warnings are returned, not refused."""
    request = RecordPlacement(
        pupil_id=body.pupil_id,
        draft=PlacementDraft(
            setting_id=body.setting_id,
            route=body.route,
            registration=body.registration,
            sessions=body.sessions,
            start_date=body.start_date,
            tier=body.tier,
            planned_end_date=body.planned_end_date,
            notice_date=body.notice_date,
            last_review_date=body.last_review_date,
            reason=body.reason,
            reintegration_plan=body.reintegration_plan,
            destination_plan=body.destination_plan,
            destination_setting_id=body.destination_setting_id,
            unregistered_override_reason=body.unregistered_override_reason,
            spot_purchase=body.spot_purchase,
            agreed_cost=body.agreed_cost,
            spot_reason=body.spot_reason,
            parent_agreed_on=body.parent_agreed_on,
            part_time_purpose=body.part_time_purpose,
            notice_address=body.notice_address,
            notice_report_to=body.notice_report_to,
            notice_session_times=body.notice_session_times,
            notice_reasons=body.notice_reasons,
            la_notice_date=body.la_notice_date,
        ),
        census_reason=body.census_reason,
    )
    with body_fields({"setting": "setting_id", "destination_setting": "destination_setting_id"}):
        done = record_placement(db.session, api_actor(), request)
    return PlacementCreated(placement=placement_out(done.placement), warnings=done.warnings)


@operation("/placements/<int:placement_id>", summary="One placement", tag="placements", response=PlacementOut)
def placement(placement_id: int) -> PlacementOut:
    actor = api_actor()
    found = permissions.get_placement(db.session, actor, placement_id)
    audit.record(db.session, actor, "view", "placement", found.id, pupil_id=found.pupil_id)
    return placement_out(found)


@operation(
    "/placements/<int:placement_id>/reviews",
    "POST",
    summary="Record a review of a placement",
    tag="placements",
    response=ReviewOut,
    status=201,
    body=ReviewIn,
)
def review(placement_id: int, body: ReviewIn) -> ReviewOut:
    request = ReviewPlacement(
        placement_id,
        review_date=body.review_date,
        notes=body.notes,
        next_review_date=body.next_review_date,
        planned_end_date=body.planned_end_date,
        pupil_took_part=body.pupil_took_part,
        parents_took_part=body.parents_took_part,
    )
    done = placement_use_cases.review(db.session, api_actor(), request)
    return ReviewOut(
        id=done.id,
        placement_id=done.placement_id,
        review_date=done.review_date,
        notes=done.notes,
        next_review_date=done.placement.next_review_date,
    )


@operation(
    "/placements/<int:placement_id>/notice",
    "POST",
    summary="Record what an off-site direction's written notice says",
    tag="placements",
    response=PlacementOut,
    body=NoticeIn,
)
def record_notice(placement_id: int, body: NoticeIn) -> PlacementOut:
    """The same use case as the placement's notice page: the directing school or the LA (never the
    receiving setting) records the notice's contents; `notice_missing` then says what is left."""
    contents = NoticeContents(
        address=body.address,
        report_to=body.report_to,
        session_times=body.session_times,
        reasons=body.reasons,
        la_notice_date=body.la_notice_date,
    )
    done = placement_use_cases.record_notice(
        db.session, api_actor(), placement_use_cases.RecordNotice(placement_id, contents)
    )
    return placement_out(done)


@operation(
    "/placements/<int:placement_id>/end",
    "POST",
    summary="End a placement with its destination",
    tag="placements",
    response=PlacementOut,
    body=EndIn,
)
def end(placement_id: int, body: EndIn) -> PlacementOut:
    request = EndPlacement(placement_id, end_date=body.end_date, destination=body.destination, reason=body.reason)
    return placement_out(placement_use_cases.end(db.session, api_actor(), request))


# --- movements ------------------------------------------------------------------------------


@operation("/movements", summary="The movement ledger", tag="movements", response=MovementPage, query=MovementsQuery)
def movements(query: MovementsQuery) -> MovementPage:
    """Movements of the pupils this token may see, oldest first: the append-only ledger."""
    actor = api_actor()
    stmt = select(Movement).options(joinedload(Movement.pupil), joinedload(Movement.setting))
    if query.pupil_id is not None:
        stmt = stmt.where(Movement.pupil_id == query.pupil_id)
    if query.since is not None:
        stmt = stmt.where(Movement.date >= query.since)
    stmt = permissions.scope_movements(actor, stmt.order_by(Movement.date, Movement.id))
    items, info = _page(stmt, query)
    audit.record(db.session, actor, "search", "movement", detail={"results": info["total"], "pupil_id": query.pupil_id})
    return MovementPage(items=[movement_out(m) for m in items], **info)


# --- attendance -----------------------------------------------------------------------------


@operation(
    "/attendance",
    "POST",
    summary="Record attendance marks in bulk",
    tag="attendance",
    response=MarksWritten,
    body=MarksIn,
)
def record_marks(body: MarksIn) -> MarksWritten:
    """Marks for any number of sessions, all or nothing: each is checked as the register page
    checks it (a setting the token may take registers for, a pupil expected there that session,
    a national code in use, a school day not in the future). One refused mark refuses them all,
    with every problem named by its place in `marks`."""
    marks = [attendance.Mark(m.pupil_id, m.setting_id, m.date, m.session, m.code) for m in body.marks]
    written = attendance.record_marks(db.session, api_actor(), marks)
    return MarksWritten(received=len(body.marks), written=written)


@operation("/attendance", summary="Attendance marks recorded", tag="attendance", response=MarkPage, query=MarksQuery)
def marks(query: MarksQuery) -> MarkPage:
    actor = api_actor()
    stmt = select(AttendanceMark).order_by(AttendanceMark.date, AttendanceMark.session, AttendanceMark.id)
    if query.setting_id is not None:
        stmt = stmt.where(AttendanceMark.setting_id == query.setting_id)
    if query.pupil_id is not None:
        stmt = stmt.where(AttendanceMark.pupil_id == query.pupil_id)
    if query.date_from is not None:
        stmt = stmt.where(AttendanceMark.date >= query.date_from)
    if query.date_to is not None:
        stmt = stmt.where(AttendanceMark.date <= query.date_to)
    stmt = permissions.scope_by_pupil(actor, stmt, AttendanceMark.pupil_id)
    items, info = _page(stmt, query)
    audit.record(db.session, actor, "search", "attendance_mark", detail={"results": info["total"]})
    return MarkPage(
        items=[
            MarkOut(pupil_id=m.pupil_id, setting_id=m.setting_id, date=m.date, session=m.session, code=m.code)
            for m in items
        ],
        **info,
    )


# --- alerts, coverage, scores ---------------------------------------------------------------


@operation("/alerts", summary="Alerts on the statutory clocks", tag="alerts", response=AlertPage, query=AlertsQuery)
def alerts(query: AlertsQuery) -> AlertPage:
    actor = api_actor()
    permissions.require(db.session, actor, "alerts.view")
    stmt = select(Alert).options(joinedload(Alert.pupil)).order_by(Alert.due, Alert.id)
    if query.status is not None:
        stmt = stmt.where(Alert.status == query.status)
    items, info = _page(permissions.scope_alerts(actor, stmt), query)
    return AlertPage(
        items=[
            AlertOut(
                id=a.id,
                kind=a.kind,
                pupil_id=a.pupil_id,
                upn=a.pupil.upn if a.pupil else None,
                setting_id=a.setting_id,
                placement_id=a.placement_id,
                due=a.due,
                message=a.message,
                status=a.status,
            )
            for a in items
        ],
        **info,
    )


@operation(
    "/coverage",
    summary="Full-time coverage of a school week",
    tag="coverage",
    response=CoverageOut,
    query=CoverageQuery,
)
def coverage(query: CoverageQuery) -> CoverageOut:
    """Every pupil in scope that week whom this token may see, as the `coverage` command gives it."""
    actor = api_actor()
    session = db.session
    permissions.require(session, actor, "coverage.view")
    assert actor.user is not None
    la = session.get(LocalAuthority, actor.user.organisation_la_id)
    found = week_coverage(session, actor, la, query.week)
    audit.record(session, actor, "report", "coverage", la.code, detail={"week": str(query.week)})
    return CoverageOut(
        la=found.la.code,
        week=found.week,
        required_sessions=found.required_sessions,
        pupils=[_pupil_coverage(w) for w in found.pupils],
    )


@operation(
    "/scores",
    summary="Five-outcome scores of the area's providers",
    tag="scores",
    response=ScoresOut,
    query=ScoresQuery,
)
def scores(query: ScoresQuery) -> ScoresOut:
    """As the `scores` command: value, n, 95% interval, band. An AP head's token gets its own
    provider only."""
    actor = api_actor()
    session = db.session
    user = actor.user
    assert user is not None
    if not permissions.role_allows(user, "outcomes.provider"):
        raise NotFound("Not found")
    chosen = AcademicYear.last_ended(clock.today()) if query.year is None else AcademicYear.parse(query.year)
    year = chosen.start if chosen else None
    if year is None:
        raise ApiError(422, "A query parameter was refused", [FieldProblem(field="year", message="Not a year")])
    la = session.get(LocalAuthority, user.organisation_la_id)
    found = outcomes.scores(session, la, year)
    shown = found.as_json()
    shown["providers"] = [
        entry
        for entry, provider in zip(shown["providers"], found.providers, strict=True)  # type: ignore[call-overload]
        if provider.provider is not None and permissions.may_see_provider_scores(actor, provider.provider)
    ]
    audit.record(session, actor, "report", "scores", la.code, detail={"year": year})
    return ScoresOut.model_validate(shown)


__all__ = ["bp"]
