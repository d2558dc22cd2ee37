"""A consistent copy of the whole database, and its exact return into an empty one.

The backup is gzip-compressed JSON lines: a header (format, schema revision, row counts), then
every row of every table, tables in foreign-key order and rows in primary-key order, read in one
transaction (on PostgreSQL at REPEATABLE READ, so the copy is one moment). Restore refuses a
database that holds any row, or a backup from another schema revision; it writes everything in
one transaction, so it either completes or leaves the database as it was.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import JSON, Connection, Date, DateTime, Integer, LargeBinary, Numeric, Table, Time, func, select, text

from ap_register.domain.errors import DomainError
from ap_register.models import Base

FORMAT = "ap_register-backup"
VERSION = 1


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return getattr(value, "value", value)


def _revision(connection: Connection) -> str | None:
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - no alembic_version table: not a migrated database
        return None


def backup(connection: Connection, out: IO[bytes]) -> dict[str, int]:
    """Write every row to `out`; returns the row count of each table. Give a connection in one
    transaction (REPEATABLE READ on PostgreSQL) for a copy of one moment."""
    tables = _tables()
    counts = {t.name: connection.execute(select(func.count()).select_from(t)).scalar() or 0 for t in tables}
    with gzip.GzipFile(fileobj=out, mode="wb") as packed:
        header = {"format": FORMAT, "version": VERSION, "revision": _revision(connection), "tables": counts}
        packed.write((json.dumps(header) + "\n").encode())
        for table in tables:
            order = list(table.primary_key.columns) or list(table.columns)
            result = connection.execute(select(table).order_by(*order).execution_options(yield_per=2000))
            for row in result.mappings():
                line = {"t": table.name, "r": {k: _plain(v) for k, v in row.items()}}
                packed.write((json.dumps(line, separators=(",", ":")) + "\n").encode())
    return counts


def _reader(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as packed:
            for raw in packed:
                yield json.loads(raw)
    except (OSError, EOFError, json.JSONDecodeError) as error:
        raise DomainError(f"The file is not a complete ap_register backup ({error})") from None


def _value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Time):
        return time.fromisoformat(value)
    if isinstance(kind, Numeric) and not isinstance(kind, Integer):
        return Decimal(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, JSON):
        return value
    impl = getattr(kind, "impl", None)
    if isinstance(impl, DateTime):
        return datetime.fromisoformat(value)
    return value


def restore(connection: Connection, stream: IO[bytes]) -> dict[str, int]:
    """Load a backup into this (migrated, empty) database, in the caller's transaction."""
    rows = _reader(stream)
    header = next(rows, None)
    if not header or header.get("format") != FORMAT:
        raise DomainError("The file is not an ap_register backup")
    if header.get("version") != VERSION:
        raise DomainError(f"Backup format {header.get('version')} is not one this version can read")
    here = _revision(connection)
    if header.get("revision") != here:
        raise DomainError(
            f"The backup is of schema {header.get('revision')}, the database is at {here}: "
            "restore with the version of ap_register that made it"
        )
    tables = {t.name: t for t in _tables()}
    held = [name for name, t in tables.items() if connection.execute(select(func.count()).select_from(t)).scalar()]
    if held:
        raise DomainError(f"Restore needs an empty database; this one has rows in {', '.join(sorted(held))}")
    counts: dict[str, int] = dict.fromkeys(tables, 0)
    batch: list[dict[str, Any]] = []
    current: Table | None = None

    def flush() -> None:
        if current is not None and batch:
            connection.execute(current.insert(), batch)
            batch.clear()

    for line in rows:
        table = tables.get(line.get("t", ""))
        if table is None:
            raise DomainError(f"The backup has a table this version does not know: {line.get('t')}")
        if table is not current:
            flush()
            current = table
        batch.append({name: _value(table.c[name], value) for name, value in line["r"].items()})
        counts[table.name] += 1
        if len(batch) >= 1000:
            flush()
    flush()
    expected = header.get("tables", {})
    if {k: v for k, v in counts.items() if v} != {k: v for k, v in expected.items() if v}:
        raise DomainError("The backup is incomplete: its row counts do not match its header")
    if connection.dialect.name == "postgresql":
        # Identity columns carry on after the restored ids.
        for table in tables.values():
            key = list(table.primary_key.columns)
            if len(key) == 1 and isinstance(key[0].type, Integer) and counts[table.name]:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
                        f"(SELECT max({key[0].name}) FROM {table.name}))"
                    )
                )
    return counts
