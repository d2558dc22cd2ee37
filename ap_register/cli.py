"""The `ap-register` command (also `flask --app ap_register ...`).

JSON goes to stdout, messages to stderr; exit status 0 on success, 1 on refused input,
2 on usage errors (click's own).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from contextlib import nullcontext
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from ap_register import clock
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.imports import KINDS as IMPORT_KINDS
from ap_register.domain.text import counted
from ap_register.domain.vocab import Role
from ap_register.extensions import db, reports_session
from ap_register.years import AcademicYear


def cli_actor(via: str = "cli") -> Actor:
    try:
        label = f"{via}:{getpass.getuser()}"
    except (KeyError, OSError):
        label = via
    return Actor.system(via=via, label=label)


def say(message: str) -> None:
    """A message for the person at the terminal (stderr, so stdout stays machine-readable)."""
    click.echo(message, err=True)


def refuse(message: str, errors: list[Any] | None = None) -> None:
    db.session.rollback()
    say(f"Refused: {message}")
    for error in errors or []:
        say(f"  {error}")
    sys.exit(1)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database and load the reference data (LA codes, bank holidays,
    attendance codes)."""
    from flask_migrate import upgrade

    from ap_register.domain.reference_data import load_into

    upgrade()
    added = load_into(db.session)
    db.session.commit()
    say(
        "Database is at the latest migration. Reference data added: "
        + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in added.items())
    )


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="The user's role")
@click.option("--org", "org_ref", required=True, help="An LA code (e.g. 855), a setting's URN or ref, or LA/REF")
@click.option("--name", default=None, help="The person's name (default: the part of the email before @)")
@with_appcontext
def create_user_command(email: str, role: str, org_ref: str, name: str | None) -> None:
    """Add a user. The password is asked for, never echoed."""
    from ap_register.accounts.users import create_user, resolve_organisation

    try:
        organisation = resolve_organisation(db.session, org_ref)
    except DomainError as error:
        refuse(error.message)
        return
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    try:
        user = create_user(
            db.session,
            cli_actor(),
            email=email,
            name=name or email.split("@")[0],
            role=Role(role),
            organisation=organisation,
            password=password,
        )
    except DomainError as error:
        refuse(error.message, [e.message for e in error.errors])
        return
    db.session.commit()
    say(f"Created {user.email} ({role}) in {user.organisation_name}")


@click.command("create-token")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="The role the token acts in")
@click.option("--org", "org_ref", required=True, help="An LA code (e.g. 855), a setting's URN or ref, or LA/REF")
@click.option("--days", default=90, show_default=True, type=int, help="Days until the token expires (1 to 366)")
@with_appcontext
def create_token_command(name: str, role: str, org_ref: str, days: int) -> None:
    """Create an API token (as LA administrators do on the API tokens page). The token is
    printed once, on stdout; only its hash is kept."""
    from ap_register.accounts.api_tokens import create_token
    from ap_register.accounts.users import resolve_organisation

    try:
        organisation = resolve_organisation(db.session, org_ref)
        made = create_token(db.session, cli_actor(), name=name, organisation=organisation, role=Role(role), days=days)
    except DomainError as error:
        refuse(error.message, [e.message for e in error.errors])
        return
    db.session.commit()
    click.echo(made.secret)
    organisation_name, expires = made.token.client.organisation_name, f"{made.token.expires_at:%Y-%m-%d}"
    say(f"Token {made.token.prefix}... for {name} ({role}, {organisation_name}), expires {expires}")


def _la(code: str | None) -> Any:
    """The LA named by --la, or None; a code not in the reference data is refused."""
    if code is None:
        return None
    from sqlalchemy import select

    from ap_register.models import LocalAuthority

    la = db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == code))
    if la is None:
        raise click.BadParameter(f"{code} is not a DfE LA code (run init-db to load them)", param_hint="--la")
    return la


@click.command("import")
@click.argument("kind", type=click.Choice(list(IMPORT_KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--la", "la_code", help="Only rows of this LA (its DfE code); setting refs are looked up in it")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="How to report")
@click.option(
    "--dry-run", is_flag=True, help="Check every line against the register and say what would change; write nothing"
)
@with_appcontext
def import_command(kind: str, file: str, la_code: str | None, fmt: str, dry_run: bool) -> None:
    """Load a CSV file, all or nothing. Every refused line is reported and nothing is written.
    An LA named by --la with no adoption date adopts the register on the day of its first
    import: placements that started before it come from its old records."""
    from ap_register.domain.imports import ImportRefused, check_file, run_import

    la = _la(la_code)
    code = la.code if la is not None else None
    db.session.rollback()  # the first pass holds no transaction (on SQLite, no write lock)
    size = os.path.getsize(file)
    with open(file, "rb") as handle, click.progressbar(length=size, label=f"Importing {kind}", file=sys.stderr) as bar:
        try:
            check_file(kind, handle, code)
            report = run_import(
                db.session,
                cli_actor("import"),
                kind,
                handle,
                la=_la(code),
                progress=bar.update,
                checked=True,
                dry_run=dry_run,
            )
        except ImportRefused as refused:
            db.session.commit()  # only the audit of children of other LAs the file named is left
            shown = refused.report.errors
            if fmt == "json":
                click.echo(json.dumps(refused.report.as_json(), indent=2))
            verdict = "would be refused" if dry_run else "was refused"
            say(f"\nThe file {verdict}: nothing was imported. {refused.report.problems_text().capitalize()}:")
            for error in shown[:50]:
                say(f"  {error}")
            if refused.report.problems > 50:
                more = refused.report.problems - min(50, len(shown))
                hint = " (use --format json for the first 1,000)" if len(shown) > 50 else ""
                say(f"  ... and {more:,} more{hint}")
            if refused.report.stopped_at is not None:
                say(f"  Checking stopped at line {refused.report.stopped_at:,}.")
            sys.exit(1)
    db.session.commit()
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), indent=2))
    if report.adopted_on is not None:
        adopted = f"{report.adopted_on:%-d %B %Y}"
        say(f"\n{'Would set' if dry_run else 'Set'} {la.name}'s adoption date to {adopted} (its first import)")
    say(f"\n{'Checked, nothing written: would import' if dry_run else 'Imported'} {report.summary()}")


@click.command("export")
@click.argument("kind", type=click.Choice(["settings", "pupils", "placements", "movements"]))
@click.option("--la", "la_code", help="Only records of this LA (its DfE code)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default stdout)")
@with_appcontext
def export_command(kind: str, la_code: str | None, fmt: str, out: str | None) -> None:
    """Write settings, pupils, placements or movements in the import columns."""
    from ap_register.domain import exports

    la = _la(la_code)
    actor = cli_actor("export")
    with reports_session() as reading:
        total = exports.count(reading, actor, kind, la)
        target: Any = open(out, "wb") if out else nullcontext(sys.stdout.buffer)
        with target as handle, click.progressbar(length=total, label=f"Exporting {kind}", file=sys.stderr) as bar:
            written = exports.write(kind, fmt, exports.rows(reading, actor, kind, la), handle, progress=bar.update)
            handle.flush()
    exports.record_export(db.session, actor, kind, fmt, written, {"la": la_code, "out": out})
    db.session.commit()
    say(f"\nExported {written} {kind}" + (f" to {out}" if out else ""))


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load a realistic demo area (idempotent) and print the demo sign-ins."""
    from flask import current_app

    from ap_register.devdata.demo import load_demo

    if not current_app.config["ALLOW_DEMO"]:
        refuse("the demo area is never loaded in production (AP_REGISTER_ENV=production)")
    say("Loading the demo area: this takes a minute the first time...")
    from flask import current_app

    from ap_register.casework.documents import storage_for
    from ap_register.devdata.demo import LetterPrinting

    printing = LetterPrinting(storage_for(current_app.config), current_app.config["LETTER_FONT_DIR"])
    result = load_demo(db.session, printing=printing)
    db.session.commit()
    if result.created:
        say(f"Today's checks raised {result.counts['alerts']} alerts.")
    if result.created:
        say(
            f"Demo area loaded: {result.la.name} ({result.la.code}), "
            + ", ".join(f"{n} {name}" for name, n in result.counts.items())
        )
    else:
        say(f"The demo area ({result.la.name}) is already loaded.")
    say("Demo sign-ins (every account has the same password):")
    role_width = max(len(role) for role, _, _ in result.sign_ins)
    email_width = max(len(email) for _, email, _ in result.sign_ins)
    for role, email, password in result.sign_ins:
        say(f"  {role.ljust(role_width)}  {email.ljust(email_width)}  {password}")


def _required_la(code: str) -> Any:
    la = _la(code)
    assert la is not None
    return la


def _write_json(document: dict[str, Any], out: str | None) -> None:
    """A report as JSON, to a file or stdout."""
    text = json.dumps(document, indent=2)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        click.echo(text)


def _write_table(fmt: str, columns: list[str], rows: list[dict[str, Any]], out: str | None, title: str) -> None:
    """A report as CSV or XLSX, to a file or stdout."""
    from ap_register.domain import exports

    target: Any = open(out, "wb") if out else nullcontext(sys.stdout.buffer)
    with target as handle:
        if fmt == "xlsx":
            exports.write_xlsx(columns, rows, handle, title)
        else:
            for chunk in exports.csv_chunks(columns, rows):
                handle.write(chunk.encode("utf-8"))
        handle.flush()


@click.command("coverage")
@click.option("--la", "la_code", required=True, help="The LA's DfE code")
@click.option("--week", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="The Monday starting the week")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default stdout)")
@with_appcontext
def coverage_command(la_code: str, week: Any, fmt: str, out: str | None) -> None:
    """Full-time coverage of the LA's pupils in the week starting that Monday."""
    from ap_register.accounts import audit
    from ap_register.coverage.rules import CSV_COLUMNS, table_rows, week_coverage

    la = _required_la(la_code)
    if week.date().weekday() != 0:
        raise click.BadParameter(f"{week.date().isoformat()} is not a Monday", param_hint="--week")
    actor = cli_actor("coverage")
    try:
        with reports_session() as reading:
            coverage = week_coverage(reading, actor, la, week.date())
            # Read whole while its session is open.
            document, rows = coverage.as_json(), table_rows(coverage)
    except DomainError as error:
        refuse(error.message)
        return
    audit.record(
        db.session,
        actor,
        "report",
        "coverage",
        la.code,
        detail={"week": week.date().isoformat(), "pupils": len(coverage.pupils), "format": fmt},
    )
    db.session.commit()
    if fmt == "json":
        text = json.dumps(document, indent=2)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            click.echo(text)
    else:
        _write_table(fmt, CSV_COLUMNS, rows, out, "coverage")
    flagged = sum(1 for p in coverage.pupils if p.flags)
    say(
        f"{counted(len(coverage.pupils), 'pupil')} in scope, {flagged} flagged; "
        f"{counted(coverage.required_sessions, 'session')} required"
    )


@click.command("alerts")
@click.option("--la", "la_code", required=True, help="The LA's DfE code")
@click.option("--on", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day (default today)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default stdout)")
@with_appcontext
def alerts_command(la_code: str, on: Any, fmt: str, out: str | None) -> None:
    """The alerts open on a day (default today), with due dates counted in school days."""

    from ap_register.accounts import audit
    from ap_register.coverage.alerts import open_on

    la = _required_la(la_code)
    day = on.date() if on else clock.today()
    found = [f.as_json() for f in open_on(db.session, la, day)]
    audit.record(
        db.session,
        cli_actor("alerts"),
        "report",
        "alerts",
        la.code,
        detail={"on": day.isoformat(), "alerts": len(found)},
    )
    db.session.commit()
    if fmt == "json":
        text = json.dumps({"la": la.code, "on": day.isoformat(), "alerts": found}, indent=2)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            click.echo(text)
    else:
        _write_table(fmt, ["kind", "upn", "setting_ref", "due", "message"], found, out, "alerts")
    say(f"{len(found)} alerts open on {day.isoformat()}")


@click.command("scores")
@click.option("--la", "la_code", required=True, help="The LA's DfE code")
@click.option("--year", "year_text", help="The academic year, as 2025/26 (default: the last one that ended)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default stdout)")
@with_appcontext
def scores_command(la_code: str, year_text: str | None, fmt: str, out: str | None) -> None:
    """Five-outcome scores of each provider: value, n, 95% interval, band against the benchmark."""

    from ap_register.accounts import audit
    from ap_register.outcomes.rules import SCORE_COLUMNS, scores, table_rows

    la = _required_la(la_code)
    chosen = AcademicYear.last_ended(clock.today()) if year_text is None else AcademicYear.parse(year_text)
    year = chosen.start if chosen else None
    if year is None:
        raise click.UsageError(f"{year_text!r} is not an academic year such as 2025/26")
    with reports_session() as reading:
        found = scores(reading, la, year)
        document, rows = found.as_json(), table_rows(found)  # read whole while its session is open
    audit.record(db.session, cli_actor("scores"), "report", "scores", la.code, detail={"year": year})
    db.session.commit()
    if fmt == "json":
        text = json.dumps(document, indent=2)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            click.echo(text)
    else:
        _write_table(fmt, SCORE_COLUMNS, rows, out, "scores")
    say(f"{len(found.providers)} providers scored for {document['year']}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(file: str) -> None:
    """A consistent copy of the whole database (gzip-compressed JSON lines)."""
    from sqlalchemy import Engine

    from ap_register.accounts import audit
    from ap_register.domain.backup import backup

    bind = db.engine
    with open(file, "wb") as handle:
        if isinstance(bind, Engine):
            with bind.connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection = connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    counts = backup(connection, handle)
        else:  # already one connection (as in the tests)
            counts = backup(bind, handle)
    audit.record(db.session, cli_actor("backup"), "backup", "database", None, detail={"rows": sum(counts.values())})
    db.session.commit()
    say(f"Backed up {sum(counts.values())} rows of {sum(1 for n in counts.values() if n)} tables to {file}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(file: str) -> None:
    """Load a backup into an empty database (the schema is created first): all or nothing."""
    from flask_migrate import upgrade

    from ap_register.domain.backup import restore

    upgrade()
    try:
        with open(file, "rb") as handle, db.engine.begin() as connection:
            counts = restore(connection, handle)
    except DomainError as error:
        refuse(error.message)
        return
    say(f"Restored {sum(counts.values())} rows of {sum(1 for n in counts.values() if n)} tables from {file}")


@click.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role_command(role: str) -> None:
    """PostgreSQL: give the app's own role what it needs and no more (run as the tables' owner,
    after init-db): read and write the register, only read and add to the ledger and audit trail."""
    from ap_register.domain.db_roles import grant_app_role

    try:
        with db.engine.begin() as connection:
            statements = grant_app_role(connection, role)
    except DomainError as error:
        refuse(error.message)
        return
    say(f"Granted {role} the app's rights: {len(statements)} statements")


@click.command("returns")
@click.argument("kind", type=click.Choice(["ap-census", "school-census", "children-not-in-school"]))
@click.option("--la", "la_code", required=True, help="The LA's DfE code")
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day (children not in school; for a census, a day in its academic year). Default today",
)
@click.option("--year", "year_text", help="The academic year, such as 2025/26 (default: this one)")
@click.option("--term", type=click.Choice(["autumn", "spring", "summer"]), default="spring", show_default=True)
@click.option("--gaps", is_flag=True, help="The validation report instead of the lines (CSV or XLSX)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "xlsx", "xml"]),
    default="json",
    help="xml: the AP census as the DfE's collection system loads it",
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default stdout)")
@with_appcontext
def returns_command(
    kind: str, la_code: str, on: Any, year_text: str | None, term: str, gaps: bool, fmt: str, out: str | None
) -> None:
    """A census return's lines, one per placement, and its validation report (the gaps); or the
    children-not-in-school entries on a day, one per child."""

    from ap_register.returns import rules as returns

    if fmt == "xml" and (kind != "ap-census" or gaps):
        raise click.UsageError("--format xml is the AP census's file: use it with ap-census, without --gaps")
    la = _required_la(la_code)
    day = on.date() if on else clock.today()
    if kind == "children-not-in-school":
        _children_not_in_school(la, day, fmt, out)
        return
    chosen = AcademicYear.containing(day) if year_text is None else AcademicYear.parse(year_text)
    year = chosen.start if chosen else None
    if year is None:
        raise click.UsageError(f"{year_text!r} is not an academic year such as 2025/26")
    with reports_session() as reading:
        found = returns.build(db.session, cli_actor("returns"), la, kind, year, term, reading=reading)
        db.session.commit()
        # Written while its session is open: the return's lines read the placements as they go.
        if fmt == "json":
            document = {
                "la": la.code,
                "return": kind,
                "year": f"{year}/{(year + 1) % 100:02d}",
                "term": term if kind == "school-census" else None,
                "census_day": found.census_day.isoformat(),
                "lines": found.rows,
                "gaps": [gap.as_json() for gap in found.gaps],
            }
            _write_json(document, out)
        elif fmt == "xml":
            target: Any = open(out, "wb") if out else nullcontext(sys.stdout.buffer)
            with target as handle:
                handle.write(found.xml or b"")
                handle.flush()
        elif gaps:
            _write_table(fmt, returns.GAP_COLUMNS, [gap.as_json() for gap in found.gaps], out, "gaps")
        else:
            _write_table(fmt, returns.COLUMNS[kind], found.rows, out, kind)
    gap_count = f"{len(found.gaps)} gap{'' if len(found.gaps) == 1 else 's'}"
    if fmt == "xml" and found.gaps:
        say(f"The file fails {len(found.gaps)} of its checks: see them with --gaps --format csv")
    say(f"{found.title}: {len(found.rows)} lines, {gap_count}; census day {found.census_day:%-d %B %Y}")


def _children_not_in_school(la: Any, day: Any, fmt: str, out: str | None) -> None:
    """`returns children-not-in-school`: JSON holds one entry per child; CSV and XLSX one line per
    child and provider."""
    from ap_register.returns import cnis

    children = cnis.register_on(db.session, cli_actor("returns"), la, day)
    document = {
        "la": la.code,
        "on": day.isoformat(),
        "in_force_from": cnis.IN_FORCE_FROM.isoformat() if cnis.IN_FORCE_FROM else None,
        "not_held": list(cnis.NOT_HELD),
        "entries": [child.as_json() for child in children],
    }
    db.session.commit()
    if fmt == "json":
        _write_json(document, out)
    else:
        _write_table(fmt, cnis.COLUMNS, cnis.rows(children), out, "children-not-in-school")
    counts = cnis.summary(children)
    say(
        f"Children not in school on {day:%-d %B %Y}: {counts['children']} "
        f"({counts['no_school']} on no school's roll, {counts['partly_elsewhere']} partly educated elsewhere)"
    )


@click.command("run-job")
@click.argument("name", type=click.Choice(["daily-alerts", "scores", "attendance-digest", "retention", "send-emails"]))
@click.option("--on", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day to run it for (default today)")
@click.option("--scheduled", is_flag=True, help="Run it as the scheduler does: once per day across processes")
@with_appcontext
def run_job_command(name: str, on: Any, scheduled: bool) -> None:
    """Run one scheduled job now."""

    from flask import current_app

    from ap_register import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    day = on.date() if on else clock.today()
    if name == "send-emails":
        say(f"{jobs.send_emails(app)} emails sent" if app.config.get("MAIL_SERVER") else "No MAIL_SERVER: nothing sent")
        return
    if scheduled:
        ran = jobs.run_scheduled(app, name, day)
        say(f"{name} for {day.isoformat()}: " + ("ran" if ran else "already run by another process"))
        return
    summary = jobs.run_job(app, name, day)
    click.echo(json.dumps({"job": name, "on": day.isoformat(), "summary": summary}, indent=2))


@click.command("scheduler")
@click.option("--at", "at", default="06:00", help="The time of day (UK) the daily jobs run, HH:MM")
def scheduler_command(at: str) -> None:
    """Run the scheduled jobs in this process until stopped (one runner per database per day,
    however many are started)."""
    from flask import current_app

    from ap_register import jobs

    try:
        hour, minute = (int(part) for part in at.split(":"))
    except ValueError:
        raise click.BadParameter("use HH:MM", param_hint="--at") from None
    say(f"Scheduler started: daily jobs at {hour:02d}:{minute:02d} UK time. Ctrl+C stops it.")
    jobs.start_scheduler(current_app._get_current_object(), hour, minute)  # type: ignore[attr-defined]


@click.command("generate")
@click.option("--scale", type=click.Choice(["la", "national"]), required=True, help="1 LA, or 150 LAs (300,000 pupils)")
@click.option("--seed", default=1, show_default=True, help="The same seed gives the same register")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@with_appcontext
def generate_command(scale: str, seed: int, fmt: str) -> None:
    """Synthetic data for benchmarks, into an empty register (after init-db); never in production."""
    import json
    import time

    from flask import current_app

    from ap_register.devdata import synthetic

    if not current_app.config["ALLOW_DEMO"]:
        refuse("synthetic data is never generated in production (AP_REGISTER_ENV=production)")
    chosen = synthetic.SCALES[scale]
    started = time.perf_counter()
    # Two passes over the pupils: building their rows, then writing their attendance marks.
    with click.progressbar(length=2 * synthetic.total_pupils(chosen), label="Generating", file=sys.stderr) as bar:
        try:
            with db.engine.begin() as connection:
                counts = synthetic.generate(connection, chosen, clock.today(), seed=seed, progress=bar.update)
        except ValueError as error:
            refuse(str(error))
    seconds = time.perf_counter() - started
    if fmt == "json":
        click.echo(json.dumps({"scale": scale, "seconds": round(seconds, 1), "rows": counts}))
    say(f"Generated in {seconds:.0f} s: " + ", ".join(f"{n:,} {table}" for table, n in counts.items()))


def register_commands(app: Flask) -> None:
    for command in (
        init_db,
        backup_command,
        restore_command,
        grant_app_role_command,
        create_token_command,
        returns_command,
        demo_command,
        create_user_command,
        import_command,
        export_command,
        coverage_command,
        alerts_command,
        scores_command,
        run_job_command,
        scheduler_command,
        generate_command,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from ap_register import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="ap_register: the AP register's command line.")
