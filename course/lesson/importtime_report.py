"""Lesson 10's plumbing: read a ``python -X importtime`` report.

``python -X importtime`` writes one line per imported module to standard
error::

    import time: self [us] | cumulative | imported package
    import time:       263 |        263 |     _json
    import time:       902 |       1165 |   json.decoder

:func:`parse` turns such a report into :class:`Row` tuples (times in
microseconds, and the nesting depth that the indentation shows);
:func:`measure` runs ``python -X importtime -c STATEMENT`` in a fresh
interpreter and parses its report; :func:`direct_imports` finds the rows a
module imported itself; :func:`table` prints rows sorted by cumulative time.
The lesson teaches what the report means; this module only keeps the string
handling out of its teaching cells. Standard library only; no work at import
time; no side effects except where stated.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import NamedTuple

__all__ = ["PREFIX", "Row", "direct_imports", "measure", "parse", "table"]

#: What every line of the report starts with.
PREFIX = "import time:"


class Row(NamedTuple):
    """One module's line of the report: its own time (``self_us``), the time
    including the modules it imported (``cumulative_us``), both in
    microseconds, its nesting depth (0 for an import the program itself
    did) and its name."""

    self_us: int
    cumulative_us: int
    depth: int
    name: str


def parse(report: str) -> list[Row]:
    """The rows of an ``-X importtime`` report, in the order Python printed
    them (a module's line comes after the lines of the modules it imported).

    Lines that are not rows are skipped: the header, anything else the
    program wrote to standard error, and the ``cached`` lines that
    ``-X importtime=2`` (Python 3.14+) adds for modules found already
    imported. Each indentation step of the name column is two spaces.
    """
    rows = []
    for line in report.splitlines():
        if not line.startswith(PREFIX):
            continue
        parts = line[len(PREFIX) :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit() or not parts[1].strip().isdigit():
            continue
        self_us, cumulative_us, name = parts
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append(Row(int(self_us), int(cumulative_us), depth, name.strip()))
    return rows


def measure(
    statement: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> list[Row]:
    """Run ``python -X importtime -c statement`` in a fresh interpreter (as
    :func:`course.lesson.run_python` does: ``cwd`` or the current folder, a
    minimal environment plus ``env``, a timeout) and :func:`parse` its
    report. Raises RuntimeError, with the child's last line of error, when
    the statement fails. No side effects in this process."""
    from . import run_python

    result = run_python(["-X", "importtime", "-c", statement], cwd=cwd, env=env, timeout=timeout)
    if result.returncode != 0:
        other = [ln for ln in result.stderr.splitlines() if not ln.startswith(PREFIX)]
        raise RuntimeError(f"{statement!r} failed: {(other or ['no message'])[-1]}")
    return parse(result.stderr)


def direct_imports(rows: list[Row], name: str) -> list[Row]:
    """The rows of the modules that module ``name`` imported itself: the rows
    one level deeper printed before ``name``'s own row, back to the previous
    row at its level or above. Raises ValueError when ``name`` has no row."""
    at = next((i for i, row in enumerate(rows) if row.name == name), None)
    if at is None:
        raise ValueError(f"{name!r} is not in the report")
    depth = rows[at].depth
    found = []
    for row in reversed(rows[:at]):
        if row.depth <= depth:
            break
        if row.depth == depth + 1:
            found.append(row)
    return found[::-1]


def table(rows: Iterable[Row]) -> str:
    """``rows`` as a text table sorted by cumulative time, largest first,
    with times in seconds cut (not rounded) to tenths, so that the small
    differences between runs do not show."""
    lines = [f"{'cumulative':>10} {'self':>6}  module   (seconds, cut to tenths)"]
    for row in sorted(rows, key=lambda row: row.cumulative_us, reverse=True):
        lines.append(
            f"{row.cumulative_us // 100_000 / 10:>10} {row.self_us // 100_000 / 10:>6}  {row.name}"
        )
    return "\n".join(lines)
