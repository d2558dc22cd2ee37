"""Scoring many LAs on more than one core.

Each batch of LAs (`rules.BATCH`) is scored from its own rows alone, so batches are independent:
`scored_rows` hands them to a pool of processes, one a core, each with its own connection to the
same database, and gives back each LA's rows (`rules.score_rows`) as its batch is done. The
caller keeps them (`rules.keep_rows`) in its own transaction: the scoring processes only read.

They read what has been committed: the caller's own uncommitted writes are not seen, so the
nightly job (which scores what the day's work committed) may use it; a caller in the middle of a
transaction that changed the register scores with one worker, in its own session. On SQLite,
which takes one writer at a time, scoring stays in the caller's session too.

Processes are started fresh ("spawn"), never forked from a process that holds connections and
threads (the scheduler's); each takes about a second to start, so one pool serves every year. A
scoring process holds one batch at a time (as the job did in one process); the caller holds the
rows of batches done until it has kept them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.models import LocalAuthority
from ap_register.outcomes import rules

Rows = list[dict[str, object]]
log = logging.getLogger(__name__)

# The scoring process's own connection, made once when the process starts.
_engine: Engine | None = None


def default_workers() -> int:
    """One scoring process a core this process may use, at most four (a batch's memory each)."""
    return max(1, min(len(os.sched_getaffinity(0)), 4))


def _start(database_url: str) -> None:
    global _engine
    _engine = create_engine(database_url, pool_size=1, max_overflow=0)


def _score_batch(la_ids: Sequence[int], year: int, on: date) -> list[tuple[int, int, Rows]]:
    """In a scoring process: one batch of LAs for one year, as plain rows."""
    assert _engine is not None, "the scoring process starts with its connection"
    with Session(_engine) as session, clock.fixed(on):
        las = session.scalars(select(LocalAuthority).where(LocalAuthority.id.in_(la_ids))).all()
        ordered = sorted(las, key=lambda la: la_ids.index(la.id))
        found = rules.scores_for(session, ordered, year, on)
        return [(scores.la.id, year, rules.score_rows(scores)) for scores in found]


def _shared_url(session: Session) -> str | None:
    """The database's address, when other processes can read it beside this one: PostgreSQL.
    (The register begins every SQLite transaction as its one writer, BEGIN IMMEDIATE: readers in
    other processes would wait on the job's own transaction.)"""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "postgresql":
        return None
    return url.render_as_string(hide_password=False)


def scored_rows(
    session: Session, las: Sequence[LocalAuthority], years: Sequence[int], on: date, workers: int = 1
) -> Iterator[tuple[int, int, Rows]]:
    """Each LA's scores for each of the years as rows to keep, (la id, year, rows), a batch at a
    time: in `workers` processes at once (one pool for every year), or in this session when one is
    asked, the database is SQLite, or the LAs make one batch a year (25 or fewer: a process takes
    longer to start than they take to score)."""
    url = _shared_url(session)
    batches = [
        ([la.id for la in las[first : first + rules.BATCH]], year)
        for year in years
        for first in range(0, len(las), rules.BATCH)
    ]
    if workers <= 1 or url is None or len(las) <= rules.BATCH:  # one batch a year: not worth a process
        log.info("Scoring %d LAs in %d batches in this process", len(las), len(batches))
        for year in years:
            for found in rules.scores_in_batches(session, las, year, on):
                yield found.la.id, year, rules.score_rows(found)
        return
    processes = min(workers, len(batches))
    log.info("Scoring %d LAs in %d batches in %d processes", len(las), len(batches), processes)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_start, initargs=(url,)) as pool:
        pending = [pool.submit(_score_batch, ids, year, on) for ids, year in batches]
        try:
            for done in as_completed(pending):
                yield from done.result()
                pending.remove(done)  # its rows are the caller's now
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # a failed batch fails the run at once
            raise
