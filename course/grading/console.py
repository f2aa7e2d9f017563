"""Everything `course grade` prints: progress, the results table, the summary.

Every string that may come from a student (ids, folder names, reasons that
quote their work) goes through :func:`safe` first: control characters,
escape sequences, carriage returns and bidirectional overrides are shown
as escapes (``\\x1b``, ``\\r``, ``\\u202e``), never sent to the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .outcome import Outcome, Status

__all__ = ["format_table", "progress", "safe", "summary", "table"]

_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def safe(text: str) -> str:
    """``text`` with every character that could steer a terminal escaped."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{round(value, 2):g}"


def table(rows: Sequence[Sequence[str]], numeric: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Lines of a plain-text table, columns padded to their widest cell;
    columns in ``numeric`` right-aligned; the last column left unpadded."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            v.rjust(w) if i in numeric else (v if i == len(row) - 1 else v.ljust(w))
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def progress(stream: TextIO, done: int, total: int, outcome: Outcome) -> None:
    """Progress: on a terminal, one bar for the whole class redrawn in place,
    with a line kept for each submission that is not plainly graded; in a
    log (not a terminal), one line per submission."""
    line = safe(
        f"[{done:>{len(str(total))}}/{total}] {outcome.lesson} {outcome.student}: "
        f"{outcome.status} {_num(outcome.score)}/{_num(outcome.max_score)} ({outcome.seconds:.1f}s)"
    )
    if not stream.isatty():
        print(line, file=stream, flush=True)
        return
    if outcome.status is not Status.GRADED or outcome.reason:
        print(f"\r\x1b[K{line}: {safe(outcome.reason)}", file=stream)
    width = 30
    filled = width * done // total
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done == total else ""
    print(f"\r\x1b[Kgrading [{bar}] {done}/{total}", end=end, file=stream, flush=True)


def format_table(outcomes: list[Outcome]) -> str:
    """A per-student, per-cell table, one block per lesson; folders that
    are not submissions in a block of their own."""
    blocks = []
    for lesson in sorted({o.lesson for o in outcomes if o.status is not Status.INVALID}):
        rows = [o for o in outcomes if o.lesson == lesson and o.status is not Status.INVALID]
        cells = sorted({c for o in rows for c in o.cells})
        lines = [["student", *cells, "total", "outcome"]]
        for o in rows:
            line = [safe(o.student)]
            for c in cells:
                cell = o.cells.get(c)
                line.append("-" if cell is None else f"{_num(cell.score)}/{_num(cell.points)}")
            status = str(o.status) + (f": {safe(o.reason)}" if o.reason else "")
            lines.append([*line, f"{_num(o.score)}/{_num(o.max_score)}", status])
        blocks.append("\n".join([f"== {lesson} ==", *table(lines)]))
    invalid = [o for o in outcomes if o.status is Status.INVALID]
    if invalid:
        lines = [["folder", "reason"]]
        for o in invalid:
            where = "/".join(p for p in (o.student, o.lesson) if p)
            lines.append([safe(f"submitted/{where}"), safe(o.reason)])
        blocks.append("\n".join(["== not graded ==", *table(lines)]))
    return "\n\n".join(blocks)


def summary(outcomes: list[Outcome], reports: Path | None = None) -> str:
    """A one-screen summary, one line per lesson: submissions, graded /
    manual / missing, mean score, the number in triage, the hardest cell and
    its pass rate; then where the report is."""
    from .report import lesson_stats

    folder = Path("reports") if reports is None else reports
    rows = [["lesson", "n", "graded/manual/missing", "mean", "triage", "hardest cell (pass rate)"]]
    for lesson in sorted({o.lesson for o in outcomes if o.status is not Status.INVALID}):
        s = lesson_stats(lesson, outcomes)
        hardest = s.hardest
        rows.append(
            [
                lesson,
                str(s.n),
                f"{s.count(Status.GRADED)}/{s.count(Status.MANUAL)}/{s.count(Status.MISSING)}",
                "-" if s.mean is None else f"{_num(s.mean)}/{_num(s.max_score)}",
                str(len(s.triage)),
                "-" if hardest is None else f"{hardest.name} ({hardest.percent})",
            ]
        )
    lines = table(rows, numeric={1, 2, 3, 4})
    invalid = sum(o.status is Status.INVALID for o in outcomes)
    lines.append("")
    if invalid:
        lines.append(f"{invalid} folder(s) in submitted/ are not submissions: see the table above")
    lines.append(
        f"{sum(o.status is not Status.INVALID for o in outcomes)} submission(s); report: "
        f"{folder / 'index.html'}, one page per lesson ({folder / '<lesson>.html'})"
    )
    return "\n".join(lines)
