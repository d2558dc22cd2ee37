"""Hostile values in every place a request carries them, found from the app itself.

The walk reads the app's URL map and, as each walker (an LA administrator, an AP head, a school
lead, a panel's chair, and someone not signed in), asks every GET route once, recording which
query parameters the view reads (through its forms, its helpers or its template) and which
forms the page shows. Then it sends a fixed list of hostile values (a NUL byte, CR/LF, a 30-digit
number, -1, 9999, 0000/01, a superscript digit, 10,000 characters, bytes that are not UTF-8, a
script, and years out of range in a date's three boxes):

- to every query parameter of every GET route (an API operation's parameters come from its
  pydantic query model), and to every segment of a URL path (ids beyond the database's
  integers, text with NUL or CR/LF);
- to every field of every form a page shows, the rest of the form as the browser would send it;
- to every field of every API write, from its pydantic model, the rest of the body valid.

No answer is a server error; a NUL byte is always refused (400); an id beyond the database's
integers is not found (404); a refused write changes nothing (the row count of every table; on a
page the audit trail may only gain its record of what was viewed); a redirect stays on this site;
no page reflects a script; an API error is the API's JSON error. The cases, over 10,000, are the
same on both databases (`make test` sends about half of them: HOSTILE_VALUES=some, below).

A new route, parameter or form field is covered the day it is added. One the walk cannot reach (a
parameter read only behind a branch, a form no page shows the walkers, a GET route no walker is
answered by, a new kind of path parameter or API write) fails a test here until the walk is
taught it: `test_the_walk_reaches_every_parameter_form_and_field` compares what the walk found
with what the source reads (`request.args` by name, and the fields of every `Form` subclass).
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from wtforms import SubmitField
from wtforms.fields.core import UnboundField

from ap_register.blueprints.api import OPERATIONS
from ap_register.blueprints.forms import Form
from ap_register.budgets.rules import create_plan
from ap_register.domain.vocab import Registration, Role, Route
from ap_register.models import AuditEvent
from ap_register.panels.rules import add_member
from ap_register.placements import drafts
from tests import factories
from tests.factories import SYSTEM
from tests.pages import csrf_token, date_fields, errors, page, sign_in, text
from tests.security.test_bad_input import counts

ROOT = Path(__file__).resolve().parents[2]
WALKERS = (Role.LA_ADMIN, Role.AP_HEAD, Role.SCHOOL_LEAD, Role.PANEL_CHAIR, None)
WALKER_IDS = [role.value if role else "anonymous" for role in WALKERS]
SCRIPT = "<script>alert('x')</script>"
THIRTY_DIGITS = "9" * 30

# Query values, percent-encoded as they arrive (the last is not UTF-8 at all).
QUERY_VALUES = [
    "x%00y",
    "%2Freturns%2F%0D%0ASet-Cookie%3A%20x%3Dy",  # CR/LF after a path that looks like one of ours
    THIRTY_DIGITS,
    "-1",
    "9999",
    "0000%2F01",
    "%C2%B2",  # a superscript two: str.isdigit() says yes, int() says no
    "A" * 10_000,
    "%3Cscript%3Ealert('x')%3C%2Fscript%3E",
    "%FF%FE%C0%AF",
]
# A GOV.UK date input sends its three boxes under one name: day, month, then a hostile year.
DATE_BOXES = [["31", "12", "9999"], ["1", "1", "-1"], ["1", "1", THIRTY_DIGITS]]
PATH_IDS = [2**31, 2**63, int(THIRTY_DIGITS)]
PATH_TEXT = ["%00", "x%0D%0Ay", "A" * 1000, "%FF%FE"]
# Form and API fields: text as the browser or the script sends it.
FIELD_VALUES = [
    "a\x00b",
    "\x07\x1b[31m",
    "line\r\nbreak",
    THIRTY_DIGITS,
    "1e400",
    "NaN",
    "-1",
    "9999",
    "A" * 10_000,
    SCRIPT,
]
# The API also gets numbers as numbers, and text no database can store (a lone surrogate).
JSON_VALUES: list[Any] = [
    *FIELD_VALUES,
    "\x00",
    "0000/01",
    int(THIRTY_DIGITS),
    2**63,
    -1,
    9999,
    1e308,
    "\ud800",
    "9999-12-31",
    "0000-01-01",
]

# `make test` sends one value of each kind of harm (HOSTILE_VALUES=some, about half the cases);
# `make test-full` sends every value (the default when pytest is run directly).
SOME = os.environ.get("HOSTILE_VALUES", "all") == "some"
if SOME:
    QUERY_VALUES = [QUERY_VALUES[i] for i in (0, 1, 2, 6, 8, 9)]  # NUL, CR/LF, digits, ², script, bytes
    DATE_BOXES = DATE_BOXES[::2]  # a year too late, a year of thirty digits
    JSON_VALUES = [JSON_VALUES[i] for i in (0, 1, 2, 3, 4, 8, 9, 12, 13, 17, 18)]  # and numbers, a surrogate, a date
    FIELD_VALUES = [FIELD_VALUES[i] for i in (0, 1, 2, 3, 4, 8, 9)]  # NUL, escapes, CR/LF, digits, 1e400, long, script
# Views that are looked at, not changed: the audit trail records them even when a form is refused.
READ_ACTIONS = {"view", "search", "report", "sign_in_failed", "sign_in_code_failed"}


# --- recording the parameters a view reads --------------------------------------------------------

READ: set[str] = set()


class _Reads:
    """A MultiDict that remembers the names asked of it (by a form, a helper or a template)."""

    def __contains__(self, key: object) -> bool:
        READ.add(str(key))
        return super().__contains__(key)  # type: ignore[misc]

    def __getitem__(self, key: str) -> Any:
        READ.add(key)
        return super().__getitem__(key)  # type: ignore[misc]

    def getlist(self, key: str, type: Any = None) -> list[Any]:  # noqa: A002 - MultiDict's own name
        READ.add(key)
        return super().getlist(key, type)  # type: ignore[misc,no-any-return]


class ReadMultiDict(_Reads, MultiDict):  # type: ignore[type-arg]
    pass


class ReadArgs(_Reads, ImmutableMultiDict):  # type: ignore[type-arg]
    def copy(self) -> ReadMultiDict:
        return ReadMultiDict(self)


@pytest.fixture()
def recording(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    class RecordingRequest(app.request_class):  # type: ignore[name-defined,misc]
        parameter_storage_class = ReadArgs

    monkeypatch.setattr(app, "request_class", RecordingRequest)


# --- the area walked ------------------------------------------------------------------------------


@pytest.fixture()
def area(world: dict[str, Any], db: Session) -> dict[str, Any]:
    """The two areas, and what makes the last forms show: the home panel's chair and a member
    (the decision and conflict forms), a budget plan not yet agreed (its lines' form) and a
    an off-site direction to another school (the form of its outcome: a managed move or back),
    and a parent with an address (the form to begin a letter)."""
    home = world["home"]
    add_member(db, SYSTEM, home["panel"], home["users"][Role.PANEL_CHAIR], chair=True)
    add_member(db, SYSTEM, home["panel"], home["users"][Role.PANEL_MEMBER], chair=False)
    home["draft_plan"] = create_plan(
        db, SYSTEM, home["la"], name="Next AP budget", first_year=2034, years=3, demand_policy="From the reserve"
    )
    home["managed_move"] = factories.placement(
        db, home["bystander"], home["school"], Route.OFF_SITE_DIRECTION, Registration.DUAL, tier=None
    )
    # A child not at provision this morning (the form of an attempt to reach the family), and a
    # parent the school may try.
    from ap_register.models import Alert, Contact

    home["absence"] = Alert(
        la_id=home["la"].id, kind="absent_from_provision", key="hostile:absence", pupil_id=home["pupil"].id,
        setting_id=home["pru"].id, due=date(2025, 11, 18), last_found_on=date(2025, 11, 18),
        message="Not marked by 10:00",
    )  # fmt: skip
    db.add_all(
        [
            home["absence"],
            Contact(
                pupil_id=home["pupil"].id,
                role="parent_carer",
                name="Jo Homechild",
                relation="mother",
                phone="07700 900123",
                address="3 Home Street, PE1 3HS",  # and one to write to (the form to begin a letter)
            ),
        ]
    )
    db.commit()
    return world


def known_values(area: dict[str, Any], draft_tokens: list[str]) -> dict[str, list[Any]]:
    """What each path parameter is walked with: the home area's records (some twice, as each
    shows other forms: a plan agreed and not, a placement and a managed move, a placement's
    draft before and after its details)."""
    home = area["home"]
    return {
        "pupil_id": [home["pupil"].id],
        "placement_id": [home["placement"].id, home["managed_move"].id],
        "setting_id": [home["farm"].id],
        "user_id": [home["users"][Role.PANEL_MEMBER].id],
        "panel_id": [home["panel"].id],
        "meeting_id": [home["meeting"].id],
        "referral_id": [home["referral"].id],
        "alert_id": [home["alert"].id, home["absence"].id],
        "engagement_id": [home["engagement"].id],
        "plan_id": [home["plan"].id, home["draft_plan"].id],
        "line_id": [home["plan_line"].id],
        "token_id": [home["tokens"][Role.AP_HEAD].token.id],
        "proposal_id": [home["proposal"].id],
        "transfer_id": [home["transfer"].id],
        "note_id": [home["note"].id],
        "contact_id": [home["contact"].id],
        "document_id": [home["document"].id],
        "letter_id": [home["letter"].id],
        "framework_id": [home["framework"].id],
        "lot_id": [home["lot"].id],
        "approval_id": [home["approval"].id, home["application"].id],
        "agreement_id": [home["agreement"].id],
        "number": [1],
        "report_id": [home["report"].id],
        "suffix": ["pdf", "docx"],
        "provider_id": [home["pru"].id],
        "month": ["2026-10", "2026-11"],
        "role": ["parent_carer", "senco"],
        "stretch_id": [1],
        "outcome": ["reintegration"],
        "fmt": ["csv"],
        "kind": ["pupils"],
        "token": draft_tokens,
    }


def urls(rule: Any, known: dict[str, list[Any]]) -> list[str]:
    unknown = set(rule.arguments) - set(known)
    if unknown:
        pytest.fail(f"The hostile walk does not know the parameters {sorted(unknown)} of {rule.rule}: teach it")
    built = [{}]
    for name in sorted(rule.arguments):
        built = [{**values, name: value} for values in built for value in known[name]]
    return [rule.build(values)[1] for values in built]


def page_rules(app: Flask) -> list[Any]:
    """Every rule but static files, in the same order each run."""
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: (r.rule, r.endpoint))


def get_rules(app: Flask) -> list[Any]:
    return [r for r in page_rules(app) if "GET" in r.methods]


def start_walking(client: Any, area: dict[str, Any], db: Session, role: Role | None) -> dict[str, list[Any]]:
    """Signs the walker in (with their role's API token, which pages ignore); someone not signed
    in has a sign-in waiting for its two-step code. Returns the path values to walk with."""
    client.delete_cookie("session")
    client.environ_base.pop("HTTP_AUTHORIZATION", None)
    home = area["home"]
    if role is None:
        chair = home["users"][Role.PANEL_CHAIR]
        with client.session_transaction() as session:
            session["two_step"] = {"user": chair.id, "version": chair.session_version, "at": time.time(), "next": None}
        return known_values(area, ["no-draft"])
    user = home["users"][role]
    assert sign_in(client, user.email).status_code == 302
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {home['tokens'][role].secret}"
    chosen = {"pupil_id": home["pupil"].id, "route": "off_site_direction", "setting_id": home["farm"].id}
    details = {
        "registration": "none",
        "tier": "time_limited",
        "sessions": "1111111111",
        "start_date": "2025-12-01",
        "planned_end_date": "2026-02-01",
        "notice_date": "2025-11-20",
        "reason": "A fresh start",
        "reintegration_plan": "Back after half term",
    }
    # And a part-time timetable at the home school, whose details page asks for the parent's agreement.
    part_time = {"pupil_id": home["pupil"].id, "route": "part_time_timetable", "setting_id": home["school"].id}
    made = [
        drafts.start(db, user, "placement", chosen),
        drafts.start(db, user, "placement", {**chosen, **details}),
        drafts.start(db, user, "placement", part_time),
    ]
    db.commit()
    return known_values(area, [draft.token for draft in made])


@dataclass
class PageForm:
    """A form a page shows: where it posts and what the browser would send as it stands (a
    radio group left unanswered answered with its first choice, so that more forms pass)."""

    action: str
    endpoint: str
    fields: dict[str, list[str]]
    multiple: set[str]  # names with several boxes (a date's three, a group of checkboxes)
    submit: dict[str, str]


@dataclass
class Walk:
    role: Role | None
    gets: dict[str, list[str]] = field(default_factory=dict)  # endpoint -> URLs walked
    answered: dict[str, int] = field(default_factory=dict)  # endpoint -> the best status it gave
    params: dict[str, set[str]] = field(default_factory=dict)  # endpoint -> query parameters read
    forms: dict[tuple[str, frozenset[str]], PageForm] = field(default_factory=dict)


def read_forms(html: str, app: Flask) -> Iterator[PageForm]:
    adapter = app.url_map.bind("localhost")
    for form in BeautifulSoup(html, "html.parser").find_all("form"):
        if form.get("method", "get").lower() != "post":
            continue
        action = str(form.get("action", ""))
        endpoint, _ = adapter.match(urlsplit(action).path, method="POST")
        fields: dict[str, list[str]] = {}
        radios: dict[str, str] = {}
        multiple: set[str] = set()
        submit: dict[str, str] = {}
        for box in form.find_all(["input", "select", "textarea", "button"]):
            name = box.get("name")
            kind = (box.get("type") or "").lower()
            if not name or name == "csrf_token":
                continue
            if box.name == "button" or kind == "submit":
                submit = submit or {name: str(box.get("value", ""))}
                continue
            if kind == "radio":
                radios.setdefault(name, str(box.get("value", "")))
            elif name in fields:
                multiple.add(name)
            values = fields.setdefault(name, [])
            if box.name == "select":
                chosen = box.find("option", selected=True) or box.find("option")
                values.append(str(chosen.get("value", chosen.get_text())) if chosen else "")
            elif box.name == "textarea":
                values.append(box.get_text())
            elif kind in ("checkbox", "radio"):
                if box.has_attr("checked"):
                    values.append(str(box.get("value", "on")))
            elif kind != "file":
                values.append(str(box.get("value", "")))
        for name, first in radios.items():
            fields[name] = fields[name] or [first]
        yield PageForm(action=action, endpoint=endpoint, fields=fields, multiple=multiple, submit=submit)


def walk(app: Flask, client: Any, area: dict[str, Any], db: Session, role: Role | None) -> Walk:
    """As this walker: every GET route once, recording the parameters each reads and the forms
    it shows. (A parameter nobody reads is sent along, so that a view reading its filters only
    when there are some reads them all.)"""
    found = Walk(role)
    known = start_walking(client, area, db, role)
    for rule in get_rules(app):
        for url in urls(rule, known):
            READ.clear()
            # (The API refuses a parameter it does not know: its parameters are its query model's.)
            response = client.get(url, query_string="" if rule.endpoint.startswith("api.") else "walked=1")
            body = response.get_data()  # a streamed download ends its request only when read
            assert response.status_code < 500, f"GET {url} as {found.role}: {response.status_code}"
            found.gets.setdefault(rule.endpoint, []).append(url)
            found.params.setdefault(rule.endpoint, set()).update(READ - {"walked"})
            status = found.answered.get(rule.endpoint, 999)
            found.answered[rule.endpoint] = min(status, response.status_code)
            if response.status_code == 200 and "html" in response.content_type:
                for form in read_forms(body.decode(), app):
                    found.forms.setdefault((form.endpoint, frozenset(form.fields)), form)
    for op in OPERATIONS:
        if op.query is not None:
            found.params.setdefault("api." + op.endpoint, set()).update(op.query.model_fields)
    return found


@pytest.fixture()
def walked(app: Flask, client: Any, area: dict[str, Any], db: Session, recording: None) -> dict[Role | None, Walk]:
    return {role: walk(app, client, area, db, role) for role in WALKERS}


# --- what every answer must be --------------------------------------------------------------------


class Findings:
    """Every wrong answer among a test's cases, reported together (the first 40) at its end."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def expect(self, good: bool, message: str) -> None:
        if not good:
            self.found.append(message)

    def report(self) -> None:
        worst = sorted(self.found, key=lambda message: ": 5" not in message)  # server errors first
        assert not self.found, f"{len(self.found)} wrong answers:\n" + "\n".join(worst[:40])


def check_answer(response: Any, what: str, findings: Findings) -> None:
    """No server error, no script reflected, a redirect only to a path of this site, and an error
    in the API's JSON shape, as a message to a page's script, or as a GOV.UK page."""
    body: bytes = response.get_data()
    status = response.status_code
    findings.expect(status < 500, f"{what}: {status}")
    if "html" in response.content_type:
        findings.expect(SCRIPT.encode() not in body, f"{what} reflected a script")
    if status in (301, 302, 303):
        location = response.headers["Location"]
        parts = urlsplit(location)
        local = not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
        findings.expect(local and not re.search(r"[\x00-\x1f\\]", location), f"{what} sent to {location!r}")
    if urlsplit(what.split(" ", 1)[1]).path.startswith("/api/"):
        findings.expect(response.is_json, f"{what}: not JSON")
        if response.is_json and status >= 400:
            shape = set(response.get_json().get("error") or ())
            findings.expect(shape == {"status", "title", "message", "errors"}, f"{what}: not the API's error")
    elif status == 400 and response.is_json:  # a page script's own question (the pupil search)
        findings.expect(isinstance(response.get_json().get("error"), str), f"{what}: no message")
    elif status == 400:
        findings.expect(b"govuk-heading-l" in body or b"govuk-error-summary" in body, f"{what}: not a GOV.UK page")


def query_cases(name: str) -> list[str]:
    cases = [f"{name}={value}" for value in QUERY_VALUES]
    cases += ["&".join(f"{name}={box}" for box in boxes) for boxes in DATE_BOXES]
    return cases


# --- query parameters and path segments -----------------------------------------------------------


@pytest.mark.parametrize("role", WALKERS, ids=WALKER_IDS)
def test_hostile_query_parameters_and_path_segments_never_break_a_page(
    app: Flask, client: Any, area: dict[str, Any], db: Session, recording: None, role: Role | None
) -> None:
    found = walk(app, client, area, db, role)
    findings = Findings()
    sent = 0
    for rule in get_rules(app):
        url = found.gets[rule.endpoint][0]
        for name in sorted(found.params[rule.endpoint]):
            for query in query_cases(name):
                response = client.get(url, query_string=query)
                what = f"GET {url}?{query[:80]}"
                check_answer(response, what, findings)
                if "%00" in query:
                    findings.expect(response.status_code == 400, f"{what}: {response.status_code}, not 400")
                sent += 1
    token = csrf_token(client, "/sign-in" if role is None else "/")
    for rule in page_rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        for url in path_cases(rule, found, known_values(area, ["no-draft"])):
            data = {"csrf_token": token} if method == "POST" and not rule.endpoint.startswith("api.") else None
            response = client.open(url, method=method, data=data)
            what = f"{method} {url[:120]}"
            check_answer(response, what, findings)
            if any(str(number) in url for number in PATH_IDS):
                findings.expect(response.status_code == 404, f"{what}: {response.status_code}, not 404")
            sent += 1
    findings.report()
    assert sent > (500 if role is None else 1_000) // (2 if SOME else 1)


def path_cases(rule: Any, found: Walk, known: dict[str, list[Any]]) -> Iterator[str]:
    """The rule's URL with each of its parameters in turn made hostile: ids beyond the database's
    integers, and text with a NUL byte, CR/LF, 1,000 characters or bytes that are not UTF-8."""
    ids = re.findall(r"<int(?:\([^)]*\))?:(\w+)>", rule.rule)
    for name in sorted(rule.arguments):
        for value in PATH_IDS if name in ids else PATH_TEXT:
            marker = value if name in ids else "HOSTILE-SEGMENT"  # text goes in as it is, not quoted again
            url = rule.build({**{n: known[n][0] for n in rule.arguments}, name: marker})[1]
            yield url.replace("HOSTILE-SEGMENT", str(value))


# --- forms -------------------------------------------------------------------------------------------


def field_cases(form: PageForm, name: str) -> list[list[str]]:
    cases = [[value] for value in FIELD_VALUES]
    if name in form.multiple:
        cases += DATE_BOXES
    return cases


class Rows:
    """The row count of every table as the last answer left it: a refused write must leave it
    as it was (but the audit trail, where looking at a page is recorded, and only that)."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.now = counts(db)

    def changed_by_refusal(self) -> str | None:
        before, self.now = self.now, counts(self.db)
        added = self.now["audit_event"] - before["audit_event"]
        changed = {t for t, n in self.now.items() if n != before.get(t) and t != "audit_event"}
        if added:
            newest = select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(added)
            changed |= {f"audit_event ({action})" for action in self.db.scalars(newest)} - {
                f"audit_event ({action})" for action in READ_ACTIONS
            }
        return ", ".join(sorted(changed)) or None

    def accepted(self) -> None:
        self.now = counts(self.db)


# Every form times every hostile value: the LA administrator's walk alone posts thousands of times and took
# more than the suite's 300-second hang guard on PostgreSQL under make test-full.
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("role", WALKERS, ids=WALKER_IDS)
def test_every_field_of_every_form_refuses_hostile_values_cleanly(
    app: Flask, client: Any, area: dict[str, Any], db: Session, recording: None, role: Role | None
) -> None:
    found = walk(app, client, area, db, role)
    token = csrf_token(client, "/sign-in" if role is None else "/")
    findings = Findings()
    rows = Rows(db)
    sent = 0
    for (endpoint, _), form in sorted(found.forms.items(), key=lambda item: (item[0][0], sorted(item[0][1]))):
        if endpoint == "auth.sign_out":
            continue  # it ends the session the walk needs
        # The form's own fields, then the query parameters its page reads (a `next` after a save).
        cases = [(name, value, "") for name in sorted(form.fields) for value in field_cases(form, name)]
        action = urlsplit(form.action).path
        cases += [("", [], query) for name in sorted(found.params.get(endpoint, ())) for query in query_cases(name)]
        for name, value, query in cases:
            data = {**form.fields, **form.submit, "csrf_token": token}
            if name:
                data[name] = value
            response = client.post(action, data=data, query_string=query or urlsplit(form.action).query)
            what = f"POST {action} {name}={str(value)[:40]!r}{query[:60]}"
            check_answer(response, what, findings)
            if any("\x00" in v for v in value) or "%00" in query:
                findings.expect(response.status_code == 400, f"{what}: {response.status_code}, not 400")
            if response.status_code in (301, 302, 303):
                rows.accepted()
            else:
                changed = rows.changed_by_refusal()
                findings.expect(changed is None, f"{what} was refused but changed {changed}")
            sent += 1
    findings.report()
    assert sent > (30 if role is None else 300)


# --- the API's writes --------------------------------------------------------------------------------


def api_bodies(area: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """A valid body for each API write, and where it goes."""
    home = area["home"]
    day = "2025-12-01"
    placement = home["placement"].id
    return {
        "api.create_placement": (
            "/api/v1/placements",
            {
                "pupil_id": home["bystander"].id,
                "setting_id": home["pru"].id,
                "route": "la_other",
                "registration": "dual",
                "tier": "time_limited",
                "sessions": "1111111111",
                "start_date": day,
            },
        ),
        "api.add_contact": (
            "/api/v1/contacts",
            {"pupil_id": home["pupil"].id, "role": "parent_carer", "name": "Jo Homechild", "relation": "mother"},
        ),
        "api.review": (f"/api/v1/placements/{placement}/reviews", {"review_date": day, "notes": "Reviewed"}),
        "api.end": (f"/api/v1/placements/{placement}/end", {"end_date": day, "destination": "not_known"}),
        "api.record_notice": (
            f"/api/v1/placements/{placement}/notice",
            {"address": "1 Mill Lane", "report_to": "Ms Khan", "session_times": "9am to 3pm", "reasons": "To reset"},
        ),
        "api.record_marks": (
            "/api/v1/attendance",
            {
                "marks": [
                    {
                        "pupil_id": home["pupil"].id,
                        "setting_id": home["pru"].id,
                        "date": day,
                        "session": "AM",
                        "code": "/",
                    }
                ]
            },
        ),
    }


def body_paths(schema: dict[str, Any], defs: dict[str, Any], prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field of a request model, from its JSON schema: a list's fields through its first item."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("anyOf", []):
        yield from body_paths(option, defs, prefix)
    if schema.get("type") == "object" or "properties" in schema:
        for name, inner in schema.get("properties", {}).items():
            yield (*prefix, name)
            yield from body_paths(inner, defs, (*prefix, name))
    if schema.get("type") == "array" and "items" in schema:
        yield from body_paths(schema["items"], defs, (*prefix, 0))


def with_value(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    here: Any = changed
    for step in path[:-1]:
        here = here[step]
    here[path[-1]] = value
    return changed


WHOLE_BODIES: list[bytes] = [
    b"[" * 100_000,  # nested deeper than any parser recurses
    b'{"\\u0000": 1}',
    b'"\\u0000"',
    THIRTY_DIGITS.encode(),
    b"\xff\xfe\x00{",
    b'{"marks": [' + b"[" * 5_000 + b"]" * 5_000 + b"]}",
]


@pytest.mark.parametrize("role", [Role.LA_ADMIN, Role.AP_HEAD, Role.SCHOOL_LEAD], ids=lambda r: r.value)
def test_every_field_of_every_api_write_refuses_hostile_values_cleanly(
    client: Any, area: dict[str, Any], db: Session, role: Role
) -> None:
    headers = {"Authorization": f"Bearer {area['home']['tokens'][role].secret}"}
    bodies = api_bodies(area)
    findings = Findings()
    rows = Rows(db)
    sent = 0
    for op in OPERATIONS:
        if op.body is None:
            continue
        if "api." + op.endpoint not in bodies:
            pytest.fail(f"The hostile walk has no valid body for api.{op.endpoint}: teach it")
        url, body = bodies["api." + op.endpoint]
        schema = op.body.model_json_schema()
        paths = sorted(set(body_paths(schema, schema.get("$defs", {}))), key=str)
        cases: list[bytes] = [json.dumps(with_value(body, p, v)).encode() for p in paths for v in JSON_VALUES]
        for raw in cases + WHOLE_BODIES:
            response = client.post(url, data=raw, headers={**headers, "Content-Type": "application/json"})
            what = f"POST {url} {raw[:80]!r}"
            check_answer(response, what, findings)
            if b"\\u0000" in raw or b"\x00" in raw:
                findings.expect(response.status_code == 400, f"{what}: {response.status_code}, not 400")
            if response.status_code >= 400:
                # A refusal may name the child it is about: its record of that view is allowed.
                changed = rows.changed_by_refusal()
                findings.expect(changed is None, f"{what} was refused but changed {changed}")
            else:
                rows.accepted()
            sent += 1
    findings.report()
    assert sent > 500


# --- the walk reaches everything ----------------------------------------------------------------------

READS_IN_SOURCE = re.compile(r"request\.args(?:\.get|\.getlist)?\(\s*[\"'](\w+)[\"']|request\.args\[[\"'](\w+)[\"']\]")


def form_classes() -> list[type[Form]]:
    found, todo = [], list(Form.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__name__)


def field_names(cls: type[Form]) -> set[str]:
    """A form class's fields, but its buttons."""
    return {
        name
        for name in dir(cls)
        if isinstance(getattr(cls, name), UnboundField) and not issubclass(getattr(cls, name).field_class, SubmitField)
    }


def test_the_walk_reaches_every_parameter_form_and_field(app: Flask, walked: dict[Role | None, Walk]) -> None:
    """What the views read and the forms hold, found in the source, is all in what the walk found:
    a parameter read only behind a branch, or a form no page shows the walkers, fails here."""
    params = {name for w in walked.values() for names in w.params.values() for name in names}
    fields = {name for w in walked.values() for form in w.forms.values() for name in form.fields}
    in_source: set[str] = set()
    for path in [*(ROOT / "ap_register").rglob("*.py"), *(ROOT / "ap_register" / "templates").rglob("*.html")]:
        for match in READS_IN_SOURCE.finditer(path.read_text()):
            in_source.add(match.group(1) or match.group(2))
    assert in_source and in_source <= params, f"query parameters the walk never saw read: {in_source - params}"

    def covered(name: str, have: set[str]) -> bool:
        return name in have or any(h.endswith("-" + name) for h in have)  # a prefixed form's fields

    def first_row(cls: type[Form], name: str) -> str:
        """The invoice form's rows repeat its first, read by the same code: row 1 stands for each."""
        numbered = re.fullmatch(r"(upn|sessions|amount)_\d+", name)
        return f"{numbered.group(1)}_1" if numbered and cls.__name__ == "InvoiceForm" else name

    missing = {}
    for cls in form_classes():
        a_search = getattr(cls.Meta, "csrf", True) is False  # a GET form: its fields are query parameters
        gap = {name for name in field_names(cls) if not covered(first_row(cls, name), params if a_search else fields)}
        if gap:
            missing[cls.__name__] = gap
    assert len(form_classes()) > 40 and not missing, f"form fields the walk never reached: {missing}"

    posted = {endpoint for w in walked.values() for endpoint, _ in w.forms}
    # A page's script posts JSON here, not a form: its hostile bodies are in tests/web/test_kept_answers.py.
    script_posts = {"auth.keep_answers"}
    forms_for = {
        r.endpoint
        for r in page_rules(app)
        if "POST" in r.methods and not r.endpoint.startswith("api.") and r.endpoint not in script_posts
    }
    assert forms_for <= posted, f"POST routes whose form no page showed the walkers: {forms_for - posted}"
    # (The API's coverage needs a week: its 422 says the parameters were read.)
    answered = {e for w in walked.values() for e, status in w.answered.items() if status < 400 or status == 422}
    unanswered = {r.endpoint for r in get_rules(app)} - answered
    assert not unanswered, f"GET routes no walker reached (teach the walk a value they answer): {unanswered}"
    with_params = {e for w in walked.values() for e, names in w.params.items() if names}
    assert len(with_params) > 25


# --- what a person sees ---------------------------------------------------------------------------


def test_a_nul_byte_is_refused_with_a_page_that_says_so(client: Any, world: dict[str, Any]) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    soup = page(client.get("/pupils?q=Robin%00"), 400)
    assert "holds a NUL byte, which is not text. Nothing was saved" in text(soup)
    # In a form: refused whole, nothing saved.
    url = f"/placements/{home['placement'].id}/review"
    refused = client.post(
        url,
        data={**date_fields("review_date", date(2025, 12, 1)), "notes": "Fine\x00", "csrf_token": csrf_token(client)},
    )
    assert "holds a NUL byte" in text(page(refused, 400))
    # The API names where it was.
    headers = {"Authorization": f"Bearer {home['tokens'][Role.LA_ADMIN].secret}"}
    answer = client.get("/api/v1/pupils?q=Robin%00", headers=headers)
    assert answer.status_code == 400 and answer.get_json()["error"]["errors"] == [
        {"field": "q", "message": "must not contain a NUL byte"}
    ]
    answer = client.post(
        f"/api/v1/placements/{home['placement'].id}/reviews",
        json={"review_date": "2025-12-01", "notes": "a\x00"},
        headers=headers,
    )
    assert answer.status_code == 400 and answer.get_json()["error"]["errors"][0]["field"] == "notes"


def test_control_characters_in_the_api_s_text_are_refused_by_name(client: Any, world: dict[str, Any]) -> None:
    home = world["home"]
    headers = {"Authorization": f"Bearer {home['tokens'][Role.LA_ADMIN].secret}"}
    mark = {"pupil_id": home["pupil"].id, "setting_id": home["pru"].id, "date": "2025-12-01", "session": "AM"}
    answer = client.post("/api/v1/attendance", json={"marks": [{**mark, "code": "/\n"}]}, headers=headers)
    assert answer.status_code == 422
    assert [(e["field"], e["message"]) for e in answer.get_json()["error"]["errors"]] == [
        ("marks.0.code", "Value error, must be on one line")
    ]
    url = f"/api/v1/placements/{home['placement'].id}/reviews"
    answer = client.post(url, json={"review_date": "2025-12-01", "notes": "Seen\x1b[2J"}, headers=headers)
    assert answer.status_code == 422 and answer.get_json()["error"]["errors"][0]["field"] == "notes"
    answer = client.post(url, json={"review_date": "2025-12-01", "notes": "Half \ud800 a character"}, headers=headers)
    assert answer.status_code == 422 and answer.get_json()["error"]["errors"][0]["field"] == "notes"
    # Line breaks and tabs are what notes are made of.
    answer = client.post(url, json={"review_date": "2025-12-01", "notes": "Seen.\n\tGoing well."}, headers=headers)
    assert answer.status_code == 201


def test_ids_beyond_the_database_s_integers_find_nothing(client: Any, world: dict[str, Any]) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    page(client.get(f"/pupils/{THIRTY_DIGITS}"), 404)
    page(client.get(f"/pupils/{2**31}"), 404)
    headers = {"Authorization": f"Bearer {home['tokens'][Role.LA_ADMIN].secret}"}
    assert client.get(f"/api/v1/pupils/{2**31}", headers=headers).get_json()["error"]["status"] == 404
    # As a filter: not one of the settings, said so, and the search is not narrowed by it.
    soup = page(client.get(f"/pupils?q=Robin&setting={THIRTY_DIGITS}"))
    assert errors(soup) == ["Choose one of the options for “Setting”"] and "Homechild" in text(soup)
    soup = page(client.get(f"/placements?setting={THIRTY_DIGITS}"))
    assert "Homechild" in text(soup)


def test_years_and_dates_out_of_range_show_the_default_or_say_why(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    default = text(page(client.get("/panels/fair-share")))
    for year in ("9999", "-1", THIRTY_DIGITS, "%C2%B2%C2%B2%C2%B2%C2%B2"):
        assert text(page(client.get(f"/panels/fair-share?year={year}"))) == default
    assert "2030/31" in text(page(client.get("/panels/fair-share?year=2030")))
    outcomes = text(page(client.get("/outcomes/")))
    assert text(page(client.get("/outcomes/?year=%C2%B2%C2%B2%C2%B2%C2%B2"))) == outcomes
    soup = page(client.get("/coverage?week=31&week=12&week=9999"))
    assert errors(soup) == ["Week beginning must be in a year from 1900 to 2100"]
    soup = page(client.get("/attendance/received?on=9999-12-31"))
    assert errors(soup) == ["Date must be a real date in a year from 1900 to 2100"]
