"""What the benchmarks share: throwaway course copies, a synthetic class,
and reading scores back out of a gradebook.

Only :func:`copy_course` and :func:`write_class` write to the disk.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from course.authoring import synth
from course.authoring.synth import write_submission
from course.coursedir import Course
from course.grading.gradebook import integrity

__all__ = [
    "BIN",
    "REPO",
    "Score",
    "copy_course",
    "gradebook_scores",
    "integrity_check",
    "run_env",
    "synthetic_class",
    "write_class",
]

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

#: (student, lesson, grade cell) -> score (None: no score recorded).
Score = dict[tuple[str, str, str], float | None]


def copy_course(dest: Path) -> Course:
    """Copy this repository's course into ``dest`` (:func:`course.authoring.synth.copy_course`).

    Side effects: creates ``dest`` and writes the copy there.
    """
    return synth.copy_course(Course(REPO), dest)


def synthetic_class(
    course: Course, lessons: list[str], per_lesson: int
) -> dict[tuple[str, str], object]:
    """:func:`course.authoring.synth.cycling_class`."""
    return synth.cycling_class(course, lessons, per_lesson)


def write_class(course: Course, work: dict[tuple[str, str], object]) -> None:
    """Write every notebook of ``work`` into ``course``'s ``submitted/``.

    Side effects: creates ``submitted/<student>/<lesson>/<lesson>.ipynb``.
    """
    for (student, lesson), nb in work.items():
        write_submission(course, student, lesson, nb)


def gradebook_scores(gradebook: Path) -> Score:
    """Every grade in an nbgrader gradebook, read with plain SQL (the score
    as nbgrader computes it: the manual score if any, else the automatic
    one, plus extra credit)."""
    query = """
        SELECT sa.student_id, a.name, bc.name, g.auto_score, g.manual_score, g.extra_credit
        FROM grade g
        JOIN submitted_notebook sn ON g.notebook_id = sn.id
        JOIN submitted_assignment sa ON sn.assignment_id = sa.id
        JOIN assignment a ON sa.assignment_id = a.id
        JOIN base_cell bc ON g.cell_id = bc.id
    """
    db = sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True)
    try:
        rows = db.execute(query).fetchall()
    finally:
        db.close()
    scores: Score = {}
    for student, lesson, cell, auto, manual, extra in rows:
        base = manual if manual is not None else auto
        scores[(student, lesson, cell)] = None if base is None else base + (extra or 0.0)
    return scores


def integrity_check(gradebook: Path) -> str:
    """SQLite's ``PRAGMA integrity_check`` of the gradebook (``"ok"`` when sound)."""
    return integrity(Course(gradebook.parent))


def run_env() -> dict[str, str]:
    """This environment with the virtual environment's ``bin/`` first on PATH
    (nbgrader runs ``alembic`` and starts kernels found there)."""
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
