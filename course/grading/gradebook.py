"""The gradebook, through nbgrader's own API.

Scores are written the way nbgrader's autograder writes them (an
``auto_score`` per graded cell, a manual score given in the formgrader kept
and the cell marked for review), so the formgrader, manual grading and
``nbgrader export`` work on what ``course grade`` records. Also: SQLite's
online backup, integrity check and the WAL fold-back that grading runs need.
"""

from __future__ import annotations

import random
import sqlite3
import time
import warnings
from datetime import datetime
from pathlib import Path

from ..coursedir import Course
from .outcome import CellScore, Outcome, Status
from .spec import LessonSpec

__all__ = [
    "backup",
    "integrity",
    "known_students",
    "read_class",
    "read_scores",
    "record",
    "single_file",
]


#: Attempts at writing one submission's scores when SQLite says "locked".
ATTEMPTS = 5


def record(course: Course, spec: LessonSpec, outcome: Outcome, timestamp: datetime | None) -> None:
    """Write ``outcome``'s scores into the gradebook, trying again (up to
    :data:`ATTEMPTS` times) when SQLite answers "database is locked": in WAL
    mode a transaction that read before another worker wrote cannot turn
    into a writer, and SQLite says so at once instead of waiting. Each
    attempt is a whole new session, so nothing is written twice.

    Side effects: creates the student and the submission when new (with a
    grade row per graded cell and a comment row per answer cell); sets each
    graded cell's ``auto_score`` (None while it needs manual grading) and
    ``needs_manual_grade``; the answer cells' automatic comment says which
    were not answered; the submitted notebook is flagged when a tripwire
    fired. A missing submission is not recorded (the student then has none,
    as in nbgrader).
    """
    from nbgrader.api import InvalidEntry
    from sqlalchemy.exc import OperationalError

    if outcome.status is Status.MISSING:
        return
    for attempt in range(ATTEMPTS):
        try:
            _record(course, spec, outcome, timestamp)
            return
        except (OperationalError, InvalidEntry) as exc:
            if "locked" not in str(exc) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.3)


def _record(course: Course, spec: LessonSpec, outcome: Outcome, timestamp: datetime | None) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb, warnings.catch_warnings():
        # nbgrader 0.9.6 with SQLAlchemy 2.0.5x warns while it creates a new
        # submission's rows (they are created all the same): noise.
        warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")
        gb.update_or_create_student(outcome.student)
        extra = {"timestamp": timestamp} if timestamp is not None else {}
        gb.update_or_create_submission(spec.lesson, outcome.student, **extra)
        for check in spec.checks:
            grade = gb.find_grade(check.grade_id, spec.lesson, spec.lesson, outcome.student)
            cell = outcome.cells.get(check.grade_id)
            grade.auto_score = None if cell is None else cell.score
            grade.needs_manual_grade = grade.auto_score is None or grade.manual_score is not None
        for answer in spec.answers:
            comment = gb.find_comment(answer.grade_id, spec.lesson, spec.lesson, outcome.student)
            comment.auto_comment = (
                "Not answered yet." if answer.grade_id in outcome.unanswered else None
            )
        notebook = gb.find_submission_notebook(spec.lesson, spec.lesson, outcome.student)
        notebook.flagged = bool(outcome.flags)
        gb.db.commit()


def read_scores(course: Course, lesson: str, student: str) -> dict[str, CellScore] | None:
    """The gradebook's scores of one submission (a manual score wins over
    the automatic one, as in nbgrader), or None when it has none."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        try:
            nb = gb.find_submission_notebook(lesson, lesson, student)
        except MissingEntry:
            return None
        return {
            g.name: CellScore(
                g.score if (g.auto_score is not None or g.manual_score is not None) else None,
                g.max_score,
            )
            for g in nb.grades
        }


def known_students(course: Course) -> list[str]:
    """Every student id in the gradebook (empty when there is none)."""
    from nbgrader.api import Gradebook

    if not course.gradebook.is_file():
        return []
    with Gradebook(course.db_url) as gb:
        return sorted(s.id for s in gb.students)


def backup(course: Course) -> Path | None:
    """Copy the gradebook with SQLite's online backup API.

    Side effects: writes ``gradebook.db.bak`` next to it. Returns its path,
    or None when there is no gradebook yet.
    """
    if not course.gradebook.is_file():
        return None
    target = course.gradebook.with_name(course.gradebook.name + ".bak")
    src = sqlite3.connect(f"file:{course.gradebook}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def single_file(course: Course) -> None:
    """Leave the gradebook one self-contained file: grading workers use
    SQLite's WAL mode (:func:`course._compat.tune_gradebook`); switching back
    to the default journal folds the ``-wal`` file in and removes it."""
    db = sqlite3.connect(course.gradebook)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def integrity(course: Course) -> str:
    """SQLite's ``PRAGMA integrity_check`` of the gradebook ("ok" when sound)."""
    db = sqlite3.connect(f"file:{course.gradebook}?mode=ro", uri=True)
    try:
        return "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
    finally:
        db.close()


def read_class(course: Course) -> tuple[dict[tuple[str, str], dict], dict[str, dict]]:
    """Everything the reports need from the gradebook, in one session:
    ``{(lesson, student): {"cells": {grade id: CellScore}, "timestamp": ...,
    "duedate": ..., "penalty": float}}`` for every submission, and
    ``{student: {"first_name", "last_name", "email"}}`` for every student."""
    from nbgrader.api import Gradebook

    submissions: dict[tuple[str, str], dict] = {}
    students: dict[str, dict] = {}
    if not course.gradebook.is_file():
        return submissions, students
    with Gradebook(course.db_url) as gb:
        for s in gb.students:
            students[s.id] = {
                "first_name": s.first_name or "",
                "last_name": s.last_name or "",
                "email": s.email or "",
            }
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                cells: dict[str, CellScore] = {}
                penalty = 0.0
                for nb in sub.notebooks:
                    penalty += nb.late_submission_penalty or 0.0
                    for g in nb.grades:
                        scored = g.auto_score is not None or g.manual_score is not None
                        cells[g.name] = CellScore(g.score if scored else None, g.max_score)
                submissions[(assignment.name, sub.student.id)] = {
                    "cells": cells,
                    "timestamp": sub.timestamp,
                    "duedate": assignment.duedate,
                    "penalty": penalty,
                }
    return submissions, students
