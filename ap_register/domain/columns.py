"""Reading an import a column at a time (issue 21): for files of millions of rows, such as a
provider's registers.

A plain CSV is read in chunks by pandas' C parser. Each check of a single value (a UPN's check
letter, a date, a code) is made once for each distinct value of its column, by the importer's
own code, and its result is spread back over the rows with the value. The row-by-row reading
(`imports._records`) stays the reference, and the import falls back to it for any file it would
read differently (`NotPlain`), so that every file gives the same report, line for line, either
way (tests/unit/test_import_columns.py compares the two).
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ap_register.domain.errors import NotPlain

# Cells a row may hold past the header's columns: dropped, as the row-by-row reading drops them.
SPARE_COLUMNS = 16


class _PlainText:
    """The file's text as pandas reads it, refused at the first quote or NUL byte."""

    def __init__(self, text: Any):
        self.text = text

    def read(self, size: int = -1) -> str:
        try:
            block = self.text.read(size)
        except UnicodeDecodeError as error:
            raise NotPlain(str(error)) from None
        if '"' in block or "\x00" in block or "\ufeff" in block:
            raise NotPlain("a quote, a NUL byte or a byte-order mark in the data (pandas drops one there)")
        return str(block)

    def __iter__(self) -> Iterator[str]:
        return iter(lambda: self.read(65536), "")


def chunks(text: Any, header: Sequence[str], first_line: int, rows: int) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """The file's rows after its header, `rows` at a time: each chunk's rows that are not blank
    (every cell a string, '' for a cell the row lacks) and the line each is on."""
    spares = [f" spare {n}" for n in range(SPARE_COLUMNS)]
    names = [*header, *spares]
    if len(set(names)) != len(names):
        raise NotPlain("a column named twice")
    limit = csv.field_size_limit()
    line = first_line
    try:
        with warnings.catch_warnings():  # pandas cuts a first row wider than its names with only a warning
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = iter(
                pd.read_csv(
                    _PlainText(text),
                    header=None,
                    names=names,
                    dtype=object,  # Python strings: pandas' own string type factorizes at half the speed
                    na_filter=False,
                    skip_blank_lines=False,
                    chunksize=rows,
                    engine="c",
                    quoting=csv.QUOTE_NONE,
                    index_col=False,
                )
            )
        while True:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = next(reader, None)
            if frame is None:
                return
            lines = np.arange(line, line + len(frame))
            line += len(frame)
            # Each check once a distinct cell: blank (a blank row is skipped) and not too long.
            blank = np.ones(len(frame), dtype=bool)
            # A row is blank when every cell it has is, past the header too (the csv module's
            # reading skips only such rows; cells past the header are dropped after).
            for name in names:
                if name not in header and not (frame[name].to_numpy() != "").any():
                    continue  # a spare column left empty, as nearly always
                codes, uniques = pd.factorize(frame[name])
                if len(uniques) and max(len(value) for value in uniques) > limit:
                    raise NotPlain("a cell past the csv module's limit")
                blank &= np.array([not value.strip() for value in uniques], dtype=bool)[codes]
            frame = frame[list(header)][~blank].reset_index(drop=True)
            yield frame, lines[~blank]
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as error:
        raise NotPlain(str(error)) from None


Found = list[tuple[str, str]]  # a value's problems, as (column, message), in the order found


def each_value(
    columns: Sequence[np.ndarray | pd.Series], check: Callable[..., tuple[Any, Found]], wanted: np.ndarray | None = None
) -> tuple[np.ndarray, list[Found], np.ndarray]:
    """`check` made once for each distinct combination of the columns' values (among the rows
    `wanted`; the others share one entry, None with no problems): each combination's result and
    problems, and each row's combination (index both with it)."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        combined = combined * (len(uniques) + 1) + codes
    if wanted is not None:
        combined = np.where(wanted, combined, -1)
    keys, first_rows, which = np.unique(combined, return_index=True, return_inverse=True)
    results = np.empty(len(keys), dtype=object)
    found: list[Found] = []
    for n, (key, row) in enumerate(zip(keys.tolist(), first_rows.tolist(), strict=True)):
        if key == -1:
            found.append([])
            continue
        results[n], problems = check(*(_at(column, row) for column in columns))
        found.append(problems)
    return results, found, which.reshape(-1)


def objects(values: Sequence[Any]) -> np.ndarray:
    """A one-dimensional array of Python objects (tuples stay whole)."""
    array = np.empty(len(values), dtype=object)
    for n, value in enumerate(values):
        array[n] = value
    return array


def _at(column: np.ndarray | pd.Series, row: int) -> Any:
    return column.iat[row] if isinstance(column, pd.Series) else column[row]


class Problems:
    """A chunk's problems, to be reported as the row-by-row check names them: by row, then in
    the order of the checks (`step`), then in the order each check found them."""

    def __init__(self, size: int):
        self.entries: list[tuple[int, int, int, str, str]] = []
        self.failed = np.zeros(size, dtype=bool)

    def add_found(self, step: int, which: np.ndarray, found: list[Found]) -> None:
        """Each row's problems by its combination of values (from `each_value`)."""
        bad = np.array([bool(problems) for problems in found], dtype=bool)
        rows = np.flatnonzero(bad[which])
        for row in rows.tolist():
            for sub, (column, message) in enumerate(found[which[row]]):
                self.entries.append((row, step, sub, column, message))
        self.failed[rows] = True

    def add(self, step: int, rows: np.ndarray, column: str, messages: Sequence[str] | str) -> None:
        for n, row in enumerate(rows.tolist()):
            message = messages if isinstance(messages, str) else messages[n]
            self.entries.append((row, step, 0, column, message))
        self.failed[rows] = True

    def ordered(self) -> list[tuple[int, str, str]]:
        return [(row, column, message) for row, _, _, column, message in sorted(self.entries)]


class SeenKeys:
    """The keys a file's accepted rows have had so far, each with the first line that had it: 12
    bytes a row, in a few sorted runs (each at least twice the size of the next, so that a key is
    looked for in a few binary searches and each key is copied a few times in all, as the runs
    merge), not a dictionary's hundred."""

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # (keys sorted, their lines), largest first

    def first_lines(self, keys: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """For each row, the line that had its key first, earlier in the file or the chunk, or 0
        for a row that is the first; the rows that are first are then remembered."""
        earlier = np.zeros(len(keys), dtype=np.int64)
        for held_keys, held_lines in self.runs:
            at = np.minimum(np.searchsorted(held_keys, keys), len(held_keys) - 1)
            held = (held_keys[at] == keys) & (earlier == 0)
            earlier[held] = held_lines[at[held]]
        fresh = np.flatnonzero(earlier == 0)
        codes, _ = pd.factorize(keys[fresh])
        first_of_code = np.full(codes.max() + 1 if len(codes) else 0, -1, dtype=np.int64)
        first_of_code[codes[::-1]] = fresh[::-1]
        first = first_of_code[codes]
        repeated = first != fresh
        earlier[fresh[repeated]] = lines[first[repeated]]
        new = fresh[~repeated]
        if len(new):
            order = np.argsort(keys[new], kind="stable")
            run = (keys[new][order], lines[new][order].astype(np.int32))
            while self.runs and len(self.runs[-1][0]) <= 2 * len(run[0]):
                held_keys, held_lines = self.runs.pop()
                merged_keys = np.concatenate([held_keys, run[0]])
                merged_lines = np.concatenate([held_lines, run[1]])
                order = np.argsort(merged_keys, kind="stable")
                run = (merged_keys[order], merged_lines[order])
            self.runs.append(run)
        return earlier
