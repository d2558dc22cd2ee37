"""PostgreSQL: the role the web app and the scheduler connect as, with only the rights they need.

Migrations run as the owner of the tables; the app's role may read and write the register, but
on the movement ledger and the audit trail it may only read and add rows. So even someone who
takes over the app's database connection cannot rewrite or remove the history: the grants refuse
it before the append-only triggers are reached, and the role cannot drop those triggers because it
does not own the tables.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ap_register.domain.errors import DomainError
from ap_register.models import Base

APPEND_ONLY = ("movement", "audit_event")


def _quoted(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name[0].isalpha() or len(name) > 63:
        raise DomainError(f"{name!r} is not a plain role name (letters, digits and _, starting with a letter)")
    return f'"{name}"'


def grant_app_role(connection: Connection, role: str) -> list[str]:
    """Grant `role` (which must exist) what the app needs, and no more. Returns the statements run."""
    if connection.dialect.name != "postgresql":
        raise DomainError("Database roles are for PostgreSQL; SQLite has none")
    who = _quoted(role)
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    if not exists:
        raise DomainError(f"There is no role {role}: create it first (CREATE ROLE {role} LOGIN PASSWORD '...')")
    statements = [f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}", f"GRANT USAGE ON SCHEMA public TO {who}"]
    for table in Base.metadata.sorted_tables:
        rights = "SELECT, INSERT" if table.name in APPEND_ONLY else "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f'GRANT {rights} ON "{table.name}" TO {who}')
    statements.append(f"GRANT SELECT ON alembic_version TO {who}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}")
    for statement in statements:
        connection.execute(text(statement))
    return statements
