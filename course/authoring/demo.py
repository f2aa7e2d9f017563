"""`course demo`: synthesise a demo class and grade it.

The class (:func:`course.authoring.synth.demo_class`): ``demo-reference`` hands in the
reference solutions, ``demo-blank`` the untouched release notebook, and one
``demo-NN-<mutant>`` student per mutant in ``mutants/``. After
grading, :func:`verify` checks each student scored as designed.
"""

from __future__ import annotations

import shutil

from ..coursedir import Course
from ..grading.run import GRADED, Outcome, grade
from .synth import demo_class, load_mutants, write_submission

__all__ = ["demo", "verify"]


def verify(course: Course, outcomes: list[Outcome]) -> list[str]:
    """Where a demo student did not score as designed (empty: all did)."""
    fails = {
        m.student: set(m.fails)
        for lesson in {o.lesson for o in outcomes}
        for m in load_mutants(course, lesson)
    }
    problems = []
    for o in outcomes:
        if o.status != GRADED:
            problems.append(f"{o.student} ({o.lesson}): {o.status}: {o.reason}")
            continue
        for cell, (score, top) in sorted(o.cells.items()):
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
                    f"{o.student} ({o.lesson}): {cell} scored {score:g}/{top:g}, expected full"
                )
            if not want_full and score == top:
                problems.append(f"{o.student} ({o.lesson}): {cell} scored full, expected less")
    return problems


def demo(
    course: Course,
    lessons: list[str] | None = None,
    *,
    timeout: int | None = None,
    jobs: int | None = None,
    sandbox: bool = True,
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
        course, chosen, students=list(students), timeout=timeout, jobs=jobs, sandbox=sandbox
    )
    return outcomes, verify(course, outcomes)
