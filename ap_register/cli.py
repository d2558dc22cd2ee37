"""The `ap-register` command (also `flask --app ap_register ...`).

JSON goes to stdout, messages to stderr; exit status 0 on success, 1 on refused input,
2 on usage errors (click's own).
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import Role
from ap_register.extensions import db


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
    from ap_register.domain.users import create_user, resolve_organisation

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


def register_commands(app: Flask) -> None:
    for command in (init_db, create_user_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from ap_register import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="ap_register: the AP register's command line.")


