"""ap_register: the register of every move of a child into, through and out of alternative provision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from ap_register.config import INSTANCE_DIR, PACKAGE_DIR, Config


def create_app(config: type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """The app factory. Nothing runs at import time; nothing here starts jobs."""
    app = Flask(
        __name__,
        template_folder=str(PACKAGE_DIR / "templates"),
        static_folder=str(PACKAGE_DIR / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_object(Config)
    if isinstance(config, Mapping):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)

    # Our templates first, then the GOV.UK packages under their own prefixes (docs/architecture.md, Pages).
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("ap_register", "templates"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )

    if app.config.get("DATABASE_REPLICA_URL"):
        from ap_register.config import replica_binds

        primary = app.config["SQLALCHEMY_DATABASE_URI"]
        binds = replica_binds(primary, app.config["DATABASE_REPLICA_URL"])
        app.config["SQLALCHEMY_BINDS"] = {**(app.config.get("SQLALCHEMY_BINDS") or {}), **binds}

    from ap_register import extensions, web

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    web.init_app(app)

    from ap_register.cli import register_commands

    register_commands(app)
    return app
