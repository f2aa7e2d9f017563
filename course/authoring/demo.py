"""`course demo`: synthesise a demo class and grade it.

The class (:func:`course.authoring.synth.demo_class`): ``demo-reference`` hands in the
reference solutions, ``demo-blank`` the untouched release notebook, and one
``demo-NN-<mutant>`` student per mutant in ``mutants/``. After
grading, :func:`verify` checks each student scored as designed.
"""

from __future__ import annotations

import shutil
import sys

from ..coursedir import Course
from ..grading.outcome import Outcome, Status
from ..grading.run import grade
from .synth import demo_class, load_mutants, write_submission

__all__ = ["demo", "verify"]


def verify(course: Course, outcomes: list[Outcome], version: str) -> list[str]:
    """Where a demo student did not score as designed on Python ``version``
    (empty: all did). A mutant wrong only on some versions must score full
    marks on the others."""
    fails = {
        m.student: set(m.fails) if m.is_wrong_on(version) else set()
        for lesson in {o.lesson for o in outcomes}
        for m in load_mutants(course, lesson)
    }
    problems = []
    for o in outcomes:
        if o.status is not Status.GRADED:
            problems.append(f"{o.student} ({o.lesson}): {o.status}: {o.reason}")
            continue
        for cell, result in sorted(o.cells.items()):
            score, top = result.score, result.points
            if o.student == "demo-reference":
                want_full = True
            elif o.student == "demo-blank":
                want_full = False
            elif o.student in fails:
                want_full = cell not in fails[o.student]
            else:
                continue
            if want_full and score != top:
                problems.append(
                    f"{o.student} ({o.lesson}): {cell} scored {score}/{top:g}, expected full: "
                    f"{result.message}"
                )
            if not want_full and score == top:
                problems.append(f"{o.student} ({o.lesson}): {cell} scored full, expected less")
    return problems


def demo(
    course: Course,
    lessons: list[str] | None = None,
    *,
    timeout: float | None = None,
    jobs: int | None = None,
    sandbox: bool = True,
    python: str | None = None,
):
    """Write the demo class into ``submitted/`` and grade it.

    Side effects: replaces ``submitted/demo-*`` (other students' folders are
    left alone), then everything :func:`course.grading.run.grade` writes.
    Returns ``(outcomes, problems)``.
    """
    chosen = course.resolve_lessons(lessons)
    students = demo_class(course, chosen)
    if course.submitted.is_dir():
        for old in course.submitted.glob("demo-*"):
            shutil.rmtree(old)
    for student, work in students.items():
        for lesson, nb in work.items():
            write_submission(course, student, lesson, nb)
    outcomes = grade(
        course,
        chosen,
        students=list(students),
        timeout=timeout,
        jobs=jobs,
        sandbox=sandbox,
        python=python,
    )
    if python is None:
        from ..pythons import host

        version = host().version if sandbox else f"{sys.version_info[0]}.{sys.version_info[1]}"
    else:
        version = python
    return outcomes, verify(course, outcomes, version)
