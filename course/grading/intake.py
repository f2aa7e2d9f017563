"""Which folders under ``submitted/`` are submissions, and which are not.

nbgrader's layout is ``submitted/<student id>/<lesson>/<lesson>.ipynb``.
Every folder name is checked before anything is graded: a student id must
match :data:`STUDENT_ID` (so it is safe in a path, a CSV cell, a terminal
and a web page), a lesson folder must be a lesson of the course. Anything
else becomes an :class:`~course.grading.outcome.Outcome` with status
``not graded`` and the reason (``"not a lesson; did you mean …?"``), so it
shows in the triage list instead of being skipped without a word.
"""

from __future__ import annotations

import difflib
import re

from ..coursedir import Course, CourseError
from .outcome import Outcome, Status

__all__ = ["STUDENT_ID", "scan", "scan_all", "valid_student_id"]

#: What a student id may look like.
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def valid_student_id(name: str) -> bool:
    """Is ``name`` an acceptable student id (see :data:`STUDENT_ID`)?"""
    return STUDENT_ID.fullmatch(name) is not None


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close and name[:2].isdigit():
        close = [k for k in known if k[:2] == name[:2]]
    return f"; did you mean {close[0]}?" if close else f"; the lessons are {', '.join(known)}"


def scan_all(course: Course) -> tuple[list[tuple[str, str]], list[Outcome]]:
    """``(lesson, student)`` for every valid submission folder of any lesson,
    and an outcome for every folder that is not one. No side effects; an
    absent ``submitted/`` gives two empty lists."""
    known = course.lessons()
    found: list[tuple[str, str]] = []
    invalid: list[Outcome] = []

    def refuse(student: str, lesson: str, reason: str) -> None:
        invalid.append(Outcome(student, lesson, status=Status.INVALID, reasons=[reason]))

    if not course.submitted.is_dir():
        return found, invalid
    for folder in sorted(course.submitted.iterdir()):
        name = folder.name
        if folder.is_symlink() or not folder.is_dir():
            refuse(name, "", "not a student's folder (a file or a symbolic link); not read")
            continue
        if not valid_student_id(name):
            refuse(
                name,
                "",
                "not a valid student id (1 to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit); not graded",
            )
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name in known and entry.is_dir() and not entry.is_symlink():
                found.append((entry.name, name))
            elif entry.name == "timestamp.txt":
                continue
            elif entry.is_dir() or entry.is_symlink():
                refuse(name, entry.name, "not a lesson" + _did_you_mean(entry.name, known))
            else:
                refuse(name, entry.name, "a file where a lesson folder was expected")
    return found, invalid


def scan(
    course: Course, lessons: list[str], students: list[str] | None = None
) -> tuple[list[tuple[str, str]], list[Outcome]]:
    """``(lesson, student)`` for every submission of ``lessons`` (of
    ``students`` only, when given), in lesson order, and an outcome for
    every folder (of those students) that is not a valid submission, of any
    lesson, so a misspelt lesson is reported whichever lesson is graded.

    Raises :class:`CourseError` when ``submitted/`` does not exist, or when
    nothing at all is there for the lessons and students asked for.
    """
    if not course.submitted.is_dir():
        raise CourseError(f"nothing to grade: {course.submitted} does not exist")
    found, invalid = scan_all(course)
    wanted = (lambda s: True) if students is None else (lambda s: s in students)
    todo = [(lesson, s) for lesson, s in found if lesson in lessons and wanted(s)]
    todo.sort(key=lambda pair: (lessons.index(pair[0]), pair[1]))
    invalid = [o for o in invalid if wanted(o.student)]
    if not todo and not invalid:
        who = "" if students is None else f" of {', '.join(students)}"
        raise CourseError(
            f"nothing to grade: no submissions{who} in {course.submitted} for {', '.join(lessons)}"
        )
    return todo, invalid
