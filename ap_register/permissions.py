"""Who may see and do what: the one place that says so.

`scope_*` filters any query (pages, exports, reports, API) to what the actor may see;
`can` answers for one record and one action; `require` raises NotFound when the record is
not visible (so its existence does not leak) and Forbidden when it is visible but the action
is not allowed. Templates call `can` too. The system actor (CLI, jobs) is not limited.

Visibility (docs/architecture.md, Who may see and do what): LA users see pupils whose home LA
is theirs; a setting's users see pupils who are, or were, on its roll or placed with it or by it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, object_session

from ap_register import clock
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Forbidden, NotFound
from ap_register.domain.vocab import LA_ROLES, SCHOOL_ROUTES, SETTING_ROLES, Role, Route
from ap_register.models import (
    AgendaItem,
    Alert,
    AuditEvent,
    BudgetLine,
    BudgetPlan,
    CaseNote,
    ComplianceCheck,
    Document,
    Framework,
    FrameworkLot,
    Letter,
    LotApproval,
    Meeting,
    Movement,
    OutreachEngagement,
    PanelMember,
    Placement,
    PlacementAgreement,
    ProgressReport,
    Pupil,
    Referral,
    Setting,
    User,
)

S = TypeVar("S", bound=Select[*tuple[Any, ...]])  # a select of any columns

# Role-level permissions: which roles may ever do each action (object checks come after).
ACTIONS: dict[str, frozenset[Role]] = {
    "pupil.view": frozenset(Role),
    # A child's own details (names, date of birth, SEN) are the home LA's to add and change, and
    # a child's record moves to another LA only by a transfer its administrators release.
    "pupil.edit": frozenset({Role.LA_ADMIN}),
    "pupil.transfer": frozenset({Role.LA_ADMIN}),
    # Where a child lives and who their parents are: the home LA's officers only (children not in
    # school), never a school or a provider through the register.
    "pupil.contact": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER}),
    # The people around a child (casework/contacts.py): read by the home LA's officers who work
    # cases and by the school and providers that work with the child (who call home when the child
    # is absent), and kept up to date by the same, but for the panel's chair. A contact under a
    # restriction ("no contact with father") shows its restriction to them all, and its details,
    # and the right to change or remove it, to the home LA's officers alone.
    "contact.view": frozenset(
        {Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER, Role.PANEL_CHAIR, Role.SCHOOL_LEAD, Role.AP_HEAD}
    ),
    "contact.edit": frozenset(
        {Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER, Role.SCHOOL_LEAD, Role.AP_HEAD}
    ),
    "contact.restricted": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER, Role.PANEL_CHAIR}),
    # A child's caseworker: an officer of the child's home LA who follows their case. Who may hold
    # a caseload, who may give a child's case to one of them, and who hands over the cases and
    # alerts of someone who leaves (casework/caseloads.py).
    "case.hold": frozenset({Role.LA_ADMIN, Role.ATTENDANCE_OFFICER, Role.COMMISSIONER, Role.PANEL_CHAIR}),
    "case.assign": frozenset({Role.LA_ADMIN, Role.ATTENDANCE_OFFICER, Role.COMMISSIONER}),
    "case.hand_over": frozenset({Role.LA_ADMIN}),
    # Notes on a child's record (casework/notes.py): written by the LA's officers who work cases
    # and by a school or provider that works with the child; a note for the LA's officers only is
    # read by them alone, one for everyone by all who may see the child.
    "note.write": frozenset(Role) - {Role.PANEL_MEMBER},
    "note.read_la": frozenset({Role.LA_ADMIN, Role.ATTENDANCE_OFFICER, Role.COMMISSIONER, Role.PANEL_CHAIR}),
    # A correction: by the note's author, or an officer of the child's home LA who reads LA notes.
    "note.correct": frozenset(Role) - {Role.PANEL_MEMBER},
    # A note read through `scope_notes` (the one way to load one).
    "note.view": frozenset(Role),
    # Documents on a child's record (casework/documents.py): uploaded by those who write notes,
    # opened through `scope_documents` as notes are read.
    "document.upload": frozenset(Role) - {Role.PANEL_MEMBER},
    # Letters made from the record (casework/letters.py): begun by a school lead for a child of
    # their school and by the home LA's officers; which letters each may write is the letter's
    # own record's rule (an off-site notice `placement.notice`, a part-time timetable's agreement
    # `placement.review`), the LA's letter about education from the sixth day of a permanent
    # exclusion its officers' who arrange it, and the panel's decision its panel's.
    "letter.write": frozenset(
        {Role.SCHOOL_LEAD, Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER, Role.PANEL_CHAIR}
    ),
    "letter.la": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER}),
    "letter.panel": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.PANEL_CHAIR}),
    "placement.record": frozenset({Role.SCHOOL_LEAD, Role.AP_HEAD, Role.LA_ADMIN, Role.COMMISSIONER}),
    "placement.review": frozenset({Role.SCHOOL_LEAD, Role.AP_HEAD, Role.LA_ADMIN, Role.COMMISSIONER}),
    "placement.end": frozenset({Role.SCHOOL_LEAD, Role.AP_HEAD, Role.LA_ADMIN, Role.COMMISSIONER}),
    "movement.record": frozenset({Role.SCHOOL_LEAD, Role.AP_HEAD, Role.LA_ADMIN, Role.ATTENDANCE_OFFICER}),
    "register.view": frozenset(Role),
    "register.export": frozenset(Role),
    "setting.view": frozenset(Role),
    "setting.edit_oversight": frozenset({Role.LA_ADMIN, Role.COMMISSIONER}),
    "setting.set_kind": frozenset({Role.LA_ADMIN}),
    "admin.users": frozenset({Role.LA_ADMIN}),
    "admin.term_dates": frozenset({Role.LA_ADMIN}),
    "admin.imports": frozenset({Role.LA_ADMIN}),
    # The day the LA began to use the register (`placements.adoption`), and bringing in a
    # placement from the LA's old records (one that started before it) without the checks that
    # gate a new one: the LA's administrators only (and its imports), never a setting.
    "admin.adoption": frozenset({Role.LA_ADMIN}),
    "placement.from_old_records": frozenset({Role.LA_ADMIN}),
    # An off-site direction's written notice is the directing school's (its governing body's) and
    # the LA's: never the receiving setting's to write (SI 2010/1156 reg 3).
    "placement.notice": frozenset({Role.SCHOOL_LEAD, Role.LA_ADMIN, Role.COMMISSIONER}),
    "admin.audit": frozenset({Role.LA_ADMIN}),
    "admin.api_tokens": frozenset({Role.LA_ADMIN}),
    "coverage.view": frozenset(Role),
    # The area's counts week by week (every pupil of the LA, not a setting's own): the LA's people.
    "coverage.term": LA_ROLES,
    "referral.submit": frozenset(
        {Role.SCHOOL_LEAD, Role.AP_HEAD, Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER}
    ),
    # The LA's agreement to consider a child under its fair access protocol starts the 20-day clock.
    "referral.agree_fair_access": frozenset({Role.LA_ADMIN, Role.COMMISSIONER}),
    "panels.view": LA_ROLES,
    "panels.manage": frozenset({Role.LA_ADMIN, Role.PANEL_CHAIR}),
    "outreach.view": frozenset(Role),
    # The whole plan (every provider's places and tariffs) is the LA's; a provider sees its own lines.
    "budgets.view": frozenset({Role.COMMISSIONER, Role.LA_ADMIN, Role.PANEL_CHAIR}),
    "budgets.manage": frozenset({Role.COMMISSIONER, Role.LA_ADMIN}),
    "budgets.provider": frozenset({Role.COMMISSIONER, Role.LA_ADMIN, Role.PANEL_CHAIR, Role.AP_HEAD}),
    # Commissioning (commissioning/frameworks.py): the LA's frameworks and lots and the evidence its
    # providers give it are kept by its commissioners and administrators. A provider's AP head sees
    # the frameworks of its area, applies to a lot for its own setting, and reads the standing of
    # its own evidence (never another provider's).
    "framework.view": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.AP_HEAD}),
    "framework.manage": frozenset({Role.LA_ADMIN, Role.COMMISSIONER}),
    "framework.apply": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.AP_HEAD}),
    "evidence.view": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.AP_HEAD}),
    # A placement called off under a framework, and its individual placement agreement
    # (commissioning/agreements.py): called off by the home school's lead or the home LA's officers
    # who place children; read by the parties to it (the home school, the provider) and the home
    # LA's officers who follow the child's education, never by a panel.
    "agreement.call_off": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.SCHOOL_LEAD}),
    "agreement.view": frozenset(
        {Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER, Role.SCHOOL_LEAD, Role.AP_HEAD}
    ),
    # A half-termly progress report on a pupil under a placement's agreement
    # (commissioning/progress.py): written by the provider's own head; read as the agreement is.
    "progress.report": frozenset({Role.AP_HEAD}),
    # Read by those who read the agreement, and by the home LA's panel members: a child's progress
    # at AP is the evidence a panel weighs when it decides on reintegration.
    "progress.view": frozenset(
        {
            Role.LA_ADMIN,
            Role.COMMISSIONER,
            Role.ATTENDANCE_OFFICER,
            Role.SCHOOL_LEAD,
            Role.AP_HEAD,
            Role.PANEL_CHAIR,
            Role.PANEL_MEMBER,
        }
    ),
    # Paying for what was delivered (commissioning/payments.py): each month's statement per
    # provider, against its invoice. Read by the LA's commissioners and administrators and by the
    # provider's own head (its own statements only); the invoice is recorded by either; the
    # statement is approved, and the LA's money committed, by the LA alone.
    "payments.view": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.AP_HEAD}),
    "payments.invoice": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.AP_HEAD}),
    "payments.approve": frozenset({Role.LA_ADMIN, Role.COMMISSIONER}),
    # The directory of providers approved on the LA's frameworks, with their rates, places and
    # outcomes: those who arrange or follow a placement; not the panel's members, who decide on
    # what is put to them, nor a provider, who sees no other provider's rates, places or scores.
    "directory.view": frozenset(Role) - {Role.PANEL_MEMBER, Role.AP_HEAD},
    "outreach.record": frozenset({Role.AP_HEAD, Role.LA_ADMIN, Role.COMMISSIONER}),
    # Who speaks for a school's pupils when a provider offers outreach to one by name (or asks a
    # provider for it): the school's leads and the LA's officers.
    "outreach.agree": frozenset({Role.SCHOOL_LEAD, Role.LA_ADMIN, Role.COMMISSIONER}),
    # Every provider's scores side by side, and schools' movement profiles: the LA's users.
    "outcomes.compare": LA_ROLES,
    # A provider's own scores beside the LA's averages: its AP head too.
    "outcomes.provider": LA_ROLES | {Role.AP_HEAD},
    # Statutory returns: the LA's people who make them, and a school lead for their own school's.
    "returns.view": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER, Role.SCHOOL_LEAD}),
    # The register of children not in school (Children's Wellbeing and Schools Act 2026 s38): the LA's.
    "cnis.view": frozenset({Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER}),
    "alerts.view": frozenset(Role),
    "alerts.act": frozenset(Role) - {Role.PANEL_MEMBER},
    "attendance.record": frozenset({Role.AP_HEAD, Role.SCHOOL_LEAD, Role.LA_ADMIN, Role.ATTENDANCE_OFFICER}),
    # A child sent home from, or leaving, their provider early (coverage/absence.py): the provider
    # the child is placed with, or the LA's officers who take registers.
    "absence.sent_home": frozenset({Role.AP_HEAD, Role.LA_ADMIN, Role.ATTENDANCE_OFFICER}),
}
# LA roles that arrange and change placements for any pupil of their LA.
PLACING_LA_ROLES = frozenset({Role.LA_ADMIN, Role.COMMISSIONER})


def role_allows(user: User, action: str) -> bool:
    return user.role in ACTIONS[action]


# --- what a user may see -------------------------------------------------------------------


def pupil_visible(user: User) -> ColumnElement[bool]:
    """A WHERE clause on Pupil: the pupils this user may see. A setting's user who sits on a
    panel also sees the pupils on that panel's agendas, to read the papers and decide."""
    if user.role in LA_ROLES and user.la_id is not None:
        return Pupil.home_la_id == user.la_id
    if user.role in SETTING_ROLES and user.setting_id is not None:
        setting_id = user.setting_id
        return or_(
            Pupil.home_school_id == setting_id,
            exists().where(
                Placement.pupil_id == Pupil.id,
                or_(
                    Placement.setting_id == setting_id,
                    Placement.home_school_id == setting_id,
                    Placement.commissioner_setting_id == setting_id,
                ),
            ),
            exists().where(Movement.pupil_id == Pupil.id, Movement.setting_id == setting_id),
            exists().where(OutreachEngagement.pupil_id == Pupil.id, OutreachEngagement.provider_id == setting_id),
            # A panel's papers, while the child is still of the LA whose panel it is.
            Pupil.id.in_(
                select(Referral.pupil_id)
                .join(AgendaItem, AgendaItem.referral_id == Referral.id)
                .join(Meeting, Meeting.id == AgendaItem.meeting_id)
                .join(PanelMember, PanelMember.panel_id == Meeting.panel_id)
                .where(
                    PanelMember.user_id == user.id,
                    PanelMember.active.is_(True),
                    Referral.la_id == Pupil.home_la_id,
                )
            ),
        )
    return false()


def acts_for(actor: Actor, action: str, setting: Setting) -> bool:
    """Whether the actor may do `action` for this setting: its own people, or the officers of its
    LA, in a role that may (the system always may). Who logs a provider's outreach, who speaks for
    a school's pupils, who takes a setting's register."""
    user = actor.user
    if user is None:
        return True
    if not role_allows(user, action):
        return False
    if user.role in LA_ROLES:
        return user.la_id == setting.la_id
    return user.setting_id == setting.id


def panel_membership(session: Session, user: User, panel_id: int) -> PanelMember | None:
    return session.scalar(
        select(PanelMember).where(
            PanelMember.panel_id == panel_id, PanelMember.user_id == user.id, PanelMember.active.is_(True)
        )
    )


def _visible(actor: Actor) -> ColumnElement[bool]:
    return true() if actor.user is None else pupil_visible(actor.user)


def scope_pupils(actor: Actor, stmt: S) -> S:
    """Filter a query that selects from Pupil."""
    return stmt.where(_visible(actor))


def scope_by_pupil(actor: Actor, stmt: S, pupil_id_column: Any) -> S:
    """Filter a query over any record that belongs to a pupil (placements, movements, marks)."""
    if actor.user is None:
        return stmt
    return stmt.where(pupil_id_column.in_(select(Pupil.id).where(pupil_visible(actor.user))))


def _scope_audience(actor: Actor, stmt: S, pupil_id: Any, audience: Any, author_id: Any) -> S:
    """Records of a child with an audience (case notes, documents) the actor may read: of children
    they may see, and then one for everyone (`all`) when the actor is of the child's LA or works
    with the child (on their setting's roll, or placed with their setting, now or before), one for
    the LA's officers (`la`) when they are one of the child's home LA's (`note.read_la`); and
    always those they wrote or uploaded themselves."""
    stmt = scope_by_pupil(actor, stmt, pupil_id)
    if actor.user is None:
        return stmt
    user = actor.user
    if user.role in LA_ROLES:
        own_la = pupil_id.in_(select(Pupil.id).where(Pupil.home_la_id == user.la_id))
        readable = or_(audience == "all", audience == "la") if role_allows(user, "note.read_la") else audience == "all"
        return stmt.where(or_(and_(own_la, readable), author_id == user.id))
    works = or_(
        pupil_id.in_(select(Pupil.id).where(Pupil.home_school_id == user.setting_id)),
        pupil_id.in_(select(Placement.pupil_id).where(Placement.setting_id == user.setting_id))
        if user.role == Role.AP_HEAD
        else false(),
    )
    return stmt.where(or_(and_(audience == "all", works), author_id == user.id))


def scope_notes(actor: Actor, stmt: S) -> S:
    """Notes on children's records the actor may read (`_scope_audience`)."""
    return _scope_audience(actor, stmt, CaseNote.pupil_id, CaseNote.audience, CaseNote.author_id)


def scope_documents(actor: Actor, stmt: S) -> S:
    """Documents on children's records the actor may open: as notes (`_scope_audience`)."""
    return _scope_audience(actor, stmt, Document.pupil_id, Document.audience, Document.uploaded_by_id)


def scope_letters(actor: Actor, stmt: S) -> S:
    """Letters on children's records the actor may read: as the details of the person they are to
    are read today (`contact.view`). The home LA's officers who read contacts read every letter of
    their LA's children; a school or provider reads a letter to a contact shared with it (`all`)
    while it works with the child now (`works_with_now`: on its roll, or a placement there not
    ended). Nobody else, the letter's own writer included once they no longer work with the child."""
    stmt = scope_by_pupil(actor, stmt, Letter.pupil_id)
    user = actor.user
    if user is None:
        return stmt
    if not role_allows(user, "contact.view"):
        return stmt.where(false())
    if user.role in LA_ROLES:
        return stmt.where(Letter.pupil_id.in_(select(Pupil.id).where(Pupil.home_la_id == user.la_id)))
    if user.setting_id is None:
        return stmt.where(false())
    placed_now = (
        Letter.pupil_id.in_(
            select(Placement.pupil_id).where(
                Placement.setting_id == user.setting_id,
                or_(Placement.end_date.is_(None), Placement.end_date >= clock.today()),
            )
        )
        if user.role == Role.AP_HEAD
        else false()
    )
    on_roll = Letter.pupil_id.in_(select(Pupil.id).where(Pupil.home_school_id == user.setting_id))
    return stmt.where(Letter.audience == "all", or_(on_roll, placed_now))


def scope_placements(actor: Actor, stmt: S) -> S:
    return scope_by_pupil(actor, stmt, Placement.pupil_id)


def scope_referrals(actor: Actor, stmt: S) -> S:
    return scope_by_pupil(actor, stmt, Referral.pupil_id)


def scope_outreach(actor: Actor, stmt: S) -> S:
    """Outreach engagements: a provider's own, a school's own, and every one in an LA user's area;
    one with a named pupil only while the actor may see that pupil (a child whose record moved to
    another LA goes with it)."""
    user = actor.user
    if user is None:
        return stmt
    of_the_child = or_(
        OutreachEngagement.pupil_id.is_(None),
        OutreachEngagement.pupil_id.in_(select(Pupil.id).where(pupil_visible(user))),
    )
    if user.la_id is not None:
        return stmt.where(
            OutreachEngagement.provider_id.in_(select(Setting.id).where(Setting.la_id == user.la_id)), of_the_child
        )
    return stmt.where(
        or_(OutreachEngagement.provider_id == user.setting_id, OutreachEngagement.school_id == user.setting_id),
        of_the_child,
    )


def scope_movements(actor: Actor, stmt: S) -> S:
    return scope_by_pupil(actor, stmt, Movement.pupil_id)


def scope_settings(actor: Actor, stmt: S) -> S:
    """Settings are not personal data: everyone sees the settings of their own area."""
    if actor.user is None:
        return stmt
    return stmt.where(Setting.la_id == actor.user.organisation_la_id)


def scope_users(actor: Actor, stmt: S) -> S:
    """An LA admin manages the users of their LA and of the settings in it."""
    if actor.user is None:
        return stmt
    user = actor.user
    if not role_allows(user, "admin.users"):
        return stmt.where(false())
    return stmt.where(
        or_(User.la_id == user.la_id, User.setting_id.in_(select(Setting.id).where(Setting.la_id == user.la_id)))
    )


def scope_colleagues(actor: Actor, stmt: S) -> S:
    """The people an actor works beside, to give work to: an LA user's, the LA's own staff; a
    setting user's, their setting's staff."""
    if actor.user is None:
        return stmt
    user = actor.user
    if user.setting_id is not None:
        return stmt.where(User.setting_id == user.setting_id)
    return stmt.where(User.la_id == user.la_id)


def scope_alerts(actor: Actor, stmt: S) -> S:
    """Stored alerts: about pupils the actor may see; a provider's oversight alerts to LA users of
    its LA and to the provider's own users."""
    if actor.user is None:
        return stmt
    user = actor.user
    visible = select(Pupil.id).where(pupil_visible(user))
    if user.la_id is not None:
        return stmt.where(Alert.la_id == user.la_id, or_(Alert.pupil_id.is_(None), Alert.pupil_id.in_(visible)))
    return stmt.where(
        or_(Alert.pupil_id.in_(visible), (Alert.pupil_id.is_(None)) & (Alert.setting_id == user.setting_id))
    )


def scope_budget_plans(actor: Actor, stmt: S) -> S:
    """Whole budget plans: the LA's, to its commissioners, administrators and panel chairs."""
    user = actor.user
    if user is None:
        return stmt
    if not role_allows(user, "budgets.view"):
        return stmt.where(false())
    return stmt.where(BudgetPlan.la_id == user.la_id)


def scope_budget_lines(actor: Actor, stmt: S) -> S:
    """Budget lines: every line of the plans above; a provider's own lines of agreed plans to its
    AP head (its commissioned places and tariff, never another provider's)."""
    user = actor.user
    if user is None:
        return stmt
    if role_allows(user, "budgets.view"):
        return stmt.where(BudgetLine.plan_id.in_(scope_budget_plans(actor, select(BudgetPlan.id))))
    if role_allows(user, "budgets.provider") and user.setting_id is not None:
        return stmt.where(
            BudgetLine.provider_id == user.setting_id,
            BudgetLine.plan_id.in_(select(BudgetPlan.id).where(BudgetPlan.agreed_at.is_not(None))),
        )
    return stmt.where(false())


def scope_frameworks(actor: Actor, stmt: S) -> S:
    """Frameworks (and, joined to them, their lots): those of the actor's own area."""
    user = actor.user
    if user is None:
        return stmt
    if not role_allows(user, "framework.view"):
        return stmt.where(false())
    return stmt.where(Framework.la_id == user.organisation_la_id)


def scope_lots(actor: Actor, stmt: S) -> S:
    return stmt.where(FrameworkLot.framework_id.in_(scope_frameworks(actor, select(Framework.id))))


def scope_approvals(actor: Actor, stmt: S) -> S:
    """Providers' places on lots: every one of the area's to its commissioners; an AP head's own."""
    user = actor.user
    stmt = stmt.where(LotApproval.lot_id.in_(scope_lots(actor, select(FrameworkLot.id))))
    if user is None or user.la_id is not None:
        return stmt
    return stmt.where(LotApproval.provider_id == user.setting_id)


def scope_directory(actor: Actor, stmt: S) -> S:
    """Providers' places on lots as the directory lists them: the approved ones on the frameworks
    of the actor's area, to every role that arranges or follows a placement."""
    user = actor.user
    stmt = stmt.where(LotApproval.status == "approved")
    if user is None:
        return stmt
    if not role_allows(user, "directory.view"):
        return stmt.where(false())
    area_lots = select(FrameworkLot.id).join(Framework).where(Framework.la_id == user.organisation_la_id)
    return stmt.where(LotApproval.lot_id.in_(area_lots))


def scope_evidence(actor: Actor, stmt: S) -> S:
    """A provider's evidence as the LA checked it: the LA's, to its commissioners and
    administrators; a provider's own (as its area's LA holds it), to its AP head."""
    user = actor.user
    if user is None:
        return stmt
    if not role_allows(user, "evidence.view"):
        return stmt.where(false())
    if user.la_id is not None:
        return stmt.where(ComplianceCheck.la_id == user.la_id)
    return stmt.where(ComplianceCheck.provider_id == user.setting_id, ComplianceCheck.la_id == user.organisation_la_id)


def may_see_evidence(actor: Actor, provider: Setting) -> bool:
    """Whether the actor reads this provider's evidence page: the LA's people for its providers, an
    AP head for their own."""
    user = actor.user
    if user is None:
        return True
    if not user.active or not role_allows(user, "evidence.view"):
        return False
    if user.la_id is not None:
        return provider.la_id == user.la_id
    return provider.id == user.setting_id


def scope_audit(actor: Actor, stmt: S) -> S:
    if actor.user is None:
        return stmt
    user = actor.user
    if not role_allows(user, "admin.audit"):
        return stmt.where(false())
    return stmt.where(
        or_(
            AuditEvent.pupil_id.in_(select(Pupil.id).where(pupil_visible(user))),
            AuditEvent.user_id.in_(scope_users(actor, select(User.id))),
        )
    )


# --- one record ----------------------------------------------------------------------------


def can_view_pupil(session: Session, actor: Actor, pupil: Pupil) -> bool:
    if actor.user is None:
        return True
    return session.scalar(select(Pupil.id).where(Pupil.id == pupil.id, pupil_visible(actor.user))) is not None


def _setting_party(user: User, placement: Placement) -> bool:
    return user.setting_id is not None and user.setting_id in (
        placement.setting_id,
        placement.home_school_id,
        placement.commissioner_setting_id,
    )


def _placed_with(pupil: Pupil, setting_id: int | None) -> bool:
    """Whether someone with authority over the child already placed them at this setting."""
    session = object_session(pupil)
    if setting_id is None or session is None:
        return False
    found = session.scalar(
        select(Placement.id).where(Placement.pupil_id == pupil.id, Placement.setting_id == setting_id).limit(1)
    )
    return found is not None


def works_with(user: User, pupil: Pupil) -> bool:
    """A setting's own relationship with a child that lets it change the child's record: the
    child is on its roll, or (for a provider) placed with it, as a pupil referral unit admits the
    pupils the LA places there. Seeing a child (through outreach, a panel's papers, or a move
    proposed to a school) is not enough to admit them, exclude them or place them: a school takes
    another school's pupil onto its roll through the panel's managed move, not on its own."""
    if user.setting_id is None:
        return False
    if pupil.home_school_id == user.setting_id:
        return True
    return user.role == Role.AP_HEAD and _placed_with(pupil, user.setting_id)


def works_with_now(user: User, pupil: Pupil) -> bool:
    """`works_with`, today: the child is on the setting's roll, or (for a provider) has a placement
    there that has not ended (running, or still to start). Who calls home and keeps the family's
    numbers: a provider whose placement with the child ended no longer does."""
    if user.setting_id is None:
        return False
    if pupil.home_school_id == user.setting_id:
        return True
    session = object_session(pupil)
    if user.role != Role.AP_HEAD or session is None:
        return False
    today = clock.today()
    found = session.scalar(
        select(Placement.id)
        .where(
            Placement.pupil_id == pupil.id,
            Placement.setting_id == user.setting_id,
            or_(Placement.end_date.is_(None), Placement.end_date >= today),
        )
        .limit(1)
    )
    return found is not None


def placement_refusal(
    actor: Actor, pupil: Pupil, route: Route | None = None, setting: Setting | None = None
) -> str | None:
    """Why this actor may not record this placement for this (visible) pupil, or None."""
    user = actor.user
    if user is None or user.role in PLACING_LA_ROLES:
        return None
    if not role_allows(user, "placement.record"):
        return "Your role cannot record placements"
    if user.role == Role.SCHOOL_LEAD:
        if pupil.home_school_id != user.setting_id:
            return "Only the pupil's school of main registration, or the local authority, can arrange this"
        if route is not None and route not in SCHOOL_ROUTES:
            return "Placements on this route are arranged by the local authority"
        return None
    if user.role == Role.AP_HEAD:
        if setting is not None and setting.id != user.setting_id:
            return "You can record placements at your own setting only"
        if not works_with(user, pupil):
            return "A placement with you is arranged by the pupil's school or the local authority"
        return None
    return "Your role cannot record placements"


def can(session: Session, actor: Actor, action: str, obj: Any = None) -> bool:
    """May this actor do this action (to this record)? Answers False for what it cannot see."""
    user = actor.user
    if user is None:
        return True
    if not user.active or not role_allows(user, action):
        return False
    if isinstance(obj, Pupil):
        if not can_view_pupil(session, actor, obj):
            return False
        if action in ("pupil.edit", "pupil.transfer", "pupil.contact", "case.assign"):
            return obj.home_la_id == user.la_id
        if action == "placement.record":
            return placement_refusal(actor, obj) is None
        if action == "referral.submit" and user.role == Role.SCHOOL_LEAD:
            return obj.home_school_id == user.setting_id
        if action == "movement.record":
            return user.role in LA_ROLES or works_with(user, obj)
        if action in ("note.write", "document.upload", "letter.write", "letter.la", "letter.panel"):
            return obj.home_la_id == user.la_id if user.role in LA_ROLES else works_with(user, obj)
        if action in ("contact.view", "contact.edit", "contact.restricted", "absence.sent_home"):
            return obj.home_la_id == user.la_id if user.role in LA_ROLES else works_with_now(user, obj)
        return True
    if isinstance(obj, Placement):
        if not can_view_pupil(session, actor, obj.pupil):
            return False
        if action in ("placement.review", "placement.end"):
            return user.role in PLACING_LA_ROLES or _setting_party(user, obj)
        if action == "progress.report":
            return user.setting_id is not None and user.setting_id == obj.setting_id
        if action in ("agreement.view", "agreement.call_off"):
            if user.role in LA_ROLES:
                return obj.pupil.home_la_id == user.la_id
            parties = (obj.home_school_id,) if action == "agreement.call_off" else (obj.home_school_id, obj.setting_id)
            return user.setting_id is not None and user.setting_id in parties
        if action == "placement.notice":
            return user.role in PLACING_LA_ROLES or (
                user.setting_id is not None and user.setting_id == obj.home_school_id
            )
        return True
    if isinstance(obj, CaseNote):
        # The note is one the actor reads (scope_notes); may they correct it?
        if action == "note.correct":
            pupil = session.get(Pupil, obj.pupil_id)  # the page's own child: no query per note
            return obj.author_id == user.id or (
                role_allows(user, "note.read_la") and pupil is not None and pupil.home_la_id == user.la_id
            )
        return action == "note.view"
    if isinstance(obj, Setting):
        if action == "framework.apply" and user.la_id is None:
            return obj.id == user.setting_id  # a provider applies for itself
        return obj.la_id == user.organisation_la_id
    if isinstance(obj, Framework):
        return obj.la_id == user.organisation_la_id
    if isinstance(obj, User):
        return session.scalar(scope_users(actor, select(User.id).where(User.id == obj.id))) is not None
    return obj is None


def require(session: Session, actor: Actor, action: str, obj: Any = None) -> None:
    """Raise NotFound if the actor may not see `obj`, Forbidden if they may see it but not act."""
    if can(session, actor, action, obj):
        return
    if obj is not None and not can(session, actor, _view_action(obj), obj):
        raise NotFound("Page not found")
    raise Forbidden("You do not have permission to do this")


def _view_action(obj: Any) -> str:
    if isinstance(obj, Setting):
        return "setting.view"
    if isinstance(obj, User):
        return "admin.users"
    if isinstance(obj, CaseNote):
        return "note.view"
    if isinstance(obj, Framework):
        return "framework.view"
    return "pupil.view"


def _one(session: Session, stmt: Select[Any]) -> Any:
    found = session.scalar(stmt)
    if found is None:
        raise NotFound("Page not found")
    return found


def get_pupil(session: Session, actor: Actor, pupil_id: int) -> Pupil:
    """The pupil, if this actor may see them; NotFound otherwise (never "forbidden": that would
    confirm the child exists)."""
    pupil: Pupil = _one(session, scope_pupils(actor, select(Pupil).where(Pupil.id == pupil_id)))
    return pupil


def get_placement(session: Session, actor: Actor, placement_id: int) -> Placement:
    placement: Placement = _one(session, scope_placements(actor, select(Placement).where(Placement.id == placement_id)))
    return placement


def get_setting(session: Session, actor: Actor, setting_id: int) -> Setting:
    setting: Setting = _one(session, scope_settings(actor, select(Setting).where(Setting.id == setting_id)))
    return setting


def may_see_provider_scores(actor: Actor, provider: Setting) -> bool:
    """An LA user sees every provider of the LA; an AP head only their own setting."""
    user = actor.user
    if user is None:
        return True
    if not role_allows(user, "outcomes.provider"):
        return False
    if user.la_id is not None:
        return provider.la_id == user.la_id
    return provider.id == user.setting_id


def get_budget_plan(session: Session, actor: Actor, plan_id: int) -> BudgetPlan:
    plan: BudgetPlan = _one(session, scope_budget_plans(actor, select(BudgetPlan).where(BudgetPlan.id == plan_id)))
    return plan


def get_budget_line(session: Session, actor: Actor, plan: BudgetPlan, line_id: int) -> BudgetLine:
    line: BudgetLine = _one(
        session,
        scope_budget_lines(actor, select(BudgetLine).where(BudgetLine.id == line_id, BudgetLine.plan_id == plan.id)),
    )
    return line


def scope_agreements(actor: Actor, stmt: S) -> S:
    """Placement agreements: of placements the actor sees, to the home LA's officers in
    `agreement.view` and to the two settings party to it (the home school and the provider)."""
    user = actor.user
    placements = scope_placements(actor, select(Placement.id))
    stmt = stmt.where(PlacementAgreement.placement_id.in_(placements))
    if user is None:
        return stmt
    if not role_allows(user, "agreement.view"):
        return stmt.where(false())
    if user.la_id is not None:
        home = select(Placement.id).join(Pupil, Placement.pupil_id == Pupil.id).where(Pupil.home_la_id == user.la_id)
        return stmt.where(PlacementAgreement.placement_id.in_(home))
    party = select(Placement.id).where(
        or_(Placement.home_school_id == user.setting_id, Placement.setting_id == user.setting_id)
    )
    return stmt.where(PlacementAgreement.placement_id.in_(party))


def scope_progress_reports(actor: Actor, stmt: S) -> S:
    """Half-termly progress reports: of placements the actor sees, to the home LA's officers in
    `progress.view` (its panel's chair and members among them), to the provider that wrote them,
    and to the child's school now (a child who moves school takes their reports to the new one;
    the old school no longer reads them)."""
    user = actor.user
    placements = scope_placements(actor, select(Placement.id))
    agreements = select(PlacementAgreement.id).where(PlacementAgreement.placement_id.in_(placements))
    if user is not None:
        if not role_allows(user, "progress.view"):
            return stmt.where(false())
        readable = select(Placement.id).join(Pupil, Placement.pupil_id == Pupil.id)
        if user.la_id is not None:
            readable = readable.where(Pupil.home_la_id == user.la_id)
        else:
            readable = readable.where(
                or_(Pupil.home_school_id == user.setting_id, Placement.setting_id == user.setting_id)
            )
        agreements = agreements.where(PlacementAgreement.placement_id.in_(readable))
    return stmt.where(ProgressReport.agreement_id.in_(agreements))


def get_agreement(session: Session, actor: Actor, agreement_id: int) -> PlacementAgreement:
    found: PlacementAgreement = _one(
        session, scope_agreements(actor, select(PlacementAgreement).where(PlacementAgreement.id == agreement_id))
    )
    return found


def get_framework(session: Session, actor: Actor, framework_id: int) -> Framework:
    found: Framework = _one(session, scope_frameworks(actor, select(Framework).where(Framework.id == framework_id)))
    return found


def get_lot(session: Session, actor: Actor, lot_id: int) -> FrameworkLot:
    found: FrameworkLot = _one(session, scope_lots(actor, select(FrameworkLot).where(FrameworkLot.id == lot_id)))
    return found


def get_approval(session: Session, actor: Actor, approval_id: int) -> LotApproval:
    found: LotApproval = _one(session, scope_approvals(actor, select(LotApproval).where(LotApproval.id == approval_id)))
    return found


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    user: User = _one(session, scope_users(actor, select(User).where(User.id == user_id)))
    return user
