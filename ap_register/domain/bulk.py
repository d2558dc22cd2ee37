"""Rows in bulk. Into a table: PostgreSQL's COPY, or executemany in chunks on SQLite, on the
caller's connection, so inside its transaction (a savepoint around an import still makes it all or
nothing). Into a query: many ids as one parameter (`among`), many computed rows as one JSON
parameter to join to (`rows_table`), so reports read by thousands of pupils in one statement."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, String, any_, bindparam, event, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import QueryableAttribute, Session


@dataclass
class Writer:
    """Bulk rows into a table: COPY on PostgreSQL, executemany in chunks on SQLite."""

    connection: Connection

    @property
    def postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Write the rows; how many. `rows` may be a generator, but making a row must not read
        the database: on PostgreSQL the connection is busy with the COPY until the last row, and
        a query (an expired ORM object loading itself) would wait for it for ever. The driver's
        errors are raised as SQLAlchemy's, as a statement's are (a lost connection is an
        OperationalError, marked dead for the pool, and the app's 503 says nothing was saved)."""
        return self._guarded(table, lambda: self._write(table, columns, rows))

    def start_columns(self, table: str, columns: dict[str, Any], shared: dict[str, Any]) -> OpenWrite:
        """Rows given a column at a time (arrays of one length, each value text or a number) and
        the values every row shares, their write begun: on PostgreSQL one COPY of CSV that pandas writes from the
        columns, sent by a thread of the driver's (`QueuedLibpqWriter`) while the server takes
        it, so that the caller may go on with work that needs no database until `finish`
        (a query meanwhile is refused: the connection is the COPY's); on SQLite executemany,
        done at once."""
        count = len(next(iter(columns.values())))
        names = [*columns, *shared]
        if not count:
            return OpenWrite(self, table, 0)
        if not self.postgres:
            values = [column.tolist() if hasattr(column, "tolist") else list(column) for column in columns.values()]
            values += [[_sqlite_value(value)] * count for value in shared.values()]
            return OpenWrite(
                self, table, self._guarded(table, lambda: self._write(table, names, zip(*values, strict=True)))
            )
        import pandas as pd
        from psycopg.copy import QueuedLibpqWriter

        frame = pd.DataFrame(columns)
        for name, value in shared.items():
            frame[name] = "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value))
        block = frame.to_csv(header=False, index=False)
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        statement = f"COPY {table} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"

        def begin() -> int:
            opened = cursor.copy(statement, writer=QueuedLibpqWriter(cursor))
            opened.__enter__().write(block)
            write.copying = opened
            return count

        write = OpenWrite(self, table, 0)
        write.written = self._guarded(table, begin)
        event.listen(self.connection, "before_cursor_execute", write.refuse)
        return write

    def _guarded(self, table: str, write: Callable[[], int]) -> int:
        dialect = self.connection.dialect
        try:
            return write()
        except dialect.loaded_dbapi.Error as error:
            raw = self.connection.connection.dbapi_connection
            lost = dialect.is_disconnect(error, raw, None)
            if lost:
                self.connection.invalidate(error)
            raise DBAPIError.instance(
                f"COPY {table}", None, error, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
            ) from error

    def _write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        if self.postgres:
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        # SQLite keeps timestamps as SQLAlchemy writes them: UTC, without the zone, always with
        # the microseconds (the driver's own adapter leaves them out when they are 0, and such
        # a text would sort before the same instant written by SQLAlchemy).
        rows = (tuple(_sqlite_value(v) for v in row) for row in rows)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        raw = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 20_000:
                raw.executemany(sql, chunk)
                count += len(chunk)
                chunk.clear()
        if chunk:
            raw.executemany(sql, chunk)
            count += len(chunk)
        return count

    def take_ids(self, table: str, count: int) -> list[int]:
        """Ids for `count` new rows of a table written with them: taken from the table's own
        sequence on PostgreSQL, as an INSERT takes them, so that nobody writing at the same time
        is given the same; on SQLite the next after the highest (a write holds the database's one
        write lock until it ends)."""
        if count <= 0:
            return []
        if self.postgres:
            taken = self.connection.execute(
                text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
                {"n": count},
            )
            return [int(value) for (value,) in taken]
        first = self.next_id(table)
        return list(range(first, first + count))

    def next_id(self, table: str) -> int:
        return int(self.connection.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar_one())

    def reset_sequence(self, table: str) -> None:
        if self.postgres:
            self.connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            )


@dataclass
class OpenWrite:
    """A bulk write under way (`Writer.start_columns`): `finish` waits for the database to
    take it (or `abort` gives it up) and gives back the connection."""

    writer: Writer
    table: str
    written: int
    copying: Any = None

    def refuse(self, *args: Any) -> None:
        raise RuntimeError(f"A query while the COPY into {self.table} is under way (the connection is busy)")

    def _close(self, error: BaseException | None) -> None:
        copying, self.copying = self.copying, None
        event.remove(self.writer.connection, "before_cursor_execute", self.refuse)
        if error is None:
            copying.__exit__(None, None, None)
        else:
            copying.__exit__(type(error), error, error.__traceback__)

    def finish(self) -> int:
        if self.copying is not None:
            self.writer._guarded(self.table, lambda: self._close(None) or self.written)
        return self.written

    def abort(self, error: BaseException) -> None:
        if self.copying is not None:
            try:
                self._close(error)
            except Exception:  # the COPY is given up; the caller's error is the one to raise
                pass


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def among(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], ids: Sequence[int] | Sequence[str]
) -> ColumnElement[bool]:
    """`column IN ids` (ids, or keys such as UPNs), for the hundreds or thousands a report or an
    import reads by: on PostgreSQL one array parameter (`= ANY(...)`), so the statement stays
    short and one plan serves every count (a list of 500 parameters is a statement of its own,
    whose plan, once the driver prepares it, may be the one made while the table was empty: a
    scan of the whole table); on SQLite one JSON parameter read by json_each (SQLite still probes
    the column's index; a list would stop at its 32,766 parameters: an LA's pupils, not a
    nation's)."""
    if session.get_bind().dialect.name == "postgresql":
        element = String() if ids and isinstance(ids[0], str) else Integer()
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(element)))
    values = func.json_each(bindparam(None, json.dumps(list(ids)))).table_valued("value")
    return column.in_(select(values.c.value))


def rows_table(session: Session, name: str, columns: Sequence[tuple[str, str]]) -> str:
    """SQL for a FROM clause of `rows` sent as one JSON parameter, `:name`, with (column, SQL type)
    `columns`: PostgreSQL's json_to_recordset or SQLite's json_each. For joining thousands of
    computed rows (date windows, say) to a table in one statement, with no temporary table. Dates
    go as ISO text, which both compare as dates. Bind `name` to `json_rows(rows)`."""
    if session.get_bind().dialect.name == "postgresql":
        typed = ", ".join(f"{column} {kind}" for column, kind in columns)
        return f"json_to_recordset(CAST(:{name} AS json)) AS {name}({typed})"
    picked = ", ".join(f"json_extract(value, '$.{column}') AS {column}" for column, _ in columns)
    return f"(SELECT {picked} FROM json_each(:{name})) AS {name}"


def json_rows(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> str:
    names = [column for column, _ in columns]
    return json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=str)


def roomy(session: Session, work_mem: str = "64MB") -> None:
    """On PostgreSQL, let the rest of this transaction sort and hash in `work_mem` of memory (SET
    LOCAL: it ends with the transaction): a report that groups a nation's attendance marks by
    pupil would otherwise spill its groups to disk at the default 4 MB, and take nearly twice as
    long. SQLite has no such setting."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{work_mem}'"))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a report builds hundreds of thousands of small objects
    (rows, tuples, per-pupil results), none of them in a cycle: otherwise it walks every live
    object again and again as they are made, a quarter of scoring a nation's time. Reference
    counting still frees everything; the collector resumes (if it was running) afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
