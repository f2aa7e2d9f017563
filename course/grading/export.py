"""The CSV files a grading run leaves: ``grades.csv`` and the triage list.

Both are written with the ``csv`` module, every field quoted, so a comma or
a quote in a student id cannot shift a column; a text field that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
``'`` so that a spreadsheet shows it as text instead of running it as a
formula. Numbers are written as numbers.

``grades.csv`` has nbgrader's export columns plus ``status``: ``graded``,
``needs manual grading`` (its score is empty until it is graded by hand)
or ``missing`` (nothing handed in; scored 0), so a real 0 is told apart.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from ..coursedir import Course
from .outcome import Outcome, Status

__all__ = ["neutralise", "write_grades", "write_outcomes", "write_rows"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")

GRADES_COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "status",
]


def neutralise(value: object) -> object:
    """``value`` made safe for a spreadsheet cell (module docstring)."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV file, every field quoted and neutralised.
    Side effects: (over)writes ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(header)
        for row in rows:
            writer.writerow([neutralise(v) for v in row])


def _num(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def _when(value: datetime | None) -> str:
    return "" if value is None else str(value)


def write_grades(course: Course, outcomes: list[Outcome], gradebook: dict, students: dict) -> Path:
    """``grades.csv``: one row per student and lesson in ``outcomes`` (the
    whole class, from :func:`course.grading.report.collect`). ``gradebook``
    and ``students`` are :func:`course.grading.gradebook.read_class`'s."""
    rows = []
    for o in sorted(outcomes, key=lambda o: (o.lesson, o.student)):
        if o.status is Status.INVALID:
            continue
        book = gradebook.get((o.lesson, o.student), {})
        person = students.get(o.student, {})
        penalty = book.get("penalty", 0.0) or 0.0
        raw = o.score
        rows.append(
            [
                o.lesson,
                _when(book.get("duedate")),
                _when(book.get("timestamp")),
                o.student,
                person.get("last_name", ""),
                person.get("first_name", ""),
                person.get("email", ""),
                _num(raw),
                _num(penalty),
                _num(None if raw is None else max(0.0, raw - penalty)),
                _num(o.max_score),
                str(o.status),
            ]
        )
    path = course.root / "grades.csv"
    write_rows(path, GRADES_COLUMNS, rows)
    return path


def write_outcomes(course: Course, outcomes: list[Outcome]) -> Path:
    """The triage list ``reports/outcomes.csv``: every submission (and every
    folder that is not one) with its status, score and reasons."""
    rows = [
        [o.student, o.lesson, str(o.status), _num(o.score), _num(o.max_score), o.reason]
        for o in sorted(outcomes, key=lambda o: (o.lesson, o.student))
    ]
    path = course.reports / "outcomes.csv"
    write_rows(path, ["student", "lesson", "status", "score", "max_score", "reason"], rows)
    return path
