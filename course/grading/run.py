"""`course grade`: grade every submission, then rebuild the class's records.

The run, in order:

1. check the folders in ``submitted/`` (:mod:`course.grading.intake`);
   folders that are not submissions are reported, not graded;
2. open the box that checks run in: the sandbox (:mod:`course.grading.sandbox`)
   or, with ``sandbox=False``, none; refuse before touching anything when
   the sandbox cannot be set up;
3. take the course's grading lock, back up ``gradebook.db`` (SQLite's online
   backup, to ``gradebook.db.bak``);
4. record the lessons in the gradebook (nbgrader's GenerateAssignment into a
   throwaway folder: ``release/`` is not touched);
5. grade each submission in worker processes (:mod:`course.grading.pool`,
   :mod:`course.grading.submission`): answers only, each check in a fresh
   process in the box, a strict verdict, feedback built from data;
6. rebuild, for the whole class (not only this run's submissions), the
   triage list ``reports/outcomes.csv``, ``grades.csv`` and the report
   (:func:`course.grading.report.collect`);
7. fold the gradebook back into one file and check it with SQLite's
   ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

from ..coursedir import Course, CourseError
from ..nbgrader_apps import generate
from . import gradebook
from .console import progress as show_progress
from .export import write_grades, write_outcomes
from .intake import scan
from .outcome import Outcome

__all__ = ["DEFAULT_BUDGET", "grade", "rebuild_records"]

#: Seconds a notebook's checks may take in all, beyond which the rest are
#: not run (each check also has its own timeout).
DEFAULT_BUDGET = 600.0


@contextmanager
def _only_run(course: Course) -> Iterator[None]:
    """Hold an exclusive lock on ``.grading.lock`` in the course root, so two
    grading runs never work on one gradebook at once.

    Side effects: creates that (empty) file; the lock is released on exit.
    """
    with open(course.root / ".grading.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CourseError(f"another `course grade` is running on {course.root}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _default_timeout(course: Course) -> float:
    value = course.nbgrader_config().Execute.get("timeout", 30)
    return float(value) if isinstance(value, (int, float)) and value > 0 else 30.0


def rebuild_records(course: Course) -> list[Outcome]:
    """Rebuild ``reports/`` (the report and the triage list) and
    ``grades.csv`` for the whole class. Returns the class's outcomes.
    Side effects: writes those files."""
    from .report import collect, write_reports

    outcomes = collect(course)
    scores, students = gradebook.read_class(course)
    write_outcomes(course, outcomes)
    write_grades(course, outcomes, scores, students)
    write_reports(course, outcomes)
    return outcomes


def grade(
    course: Course,
    lessons: list[str] | None = None,
    *,
    students: list[str] | None = None,
    timeout: float | None = None,
    budget: float | None = None,
    jobs: int | None = None,
    sandbox: bool = True,
    python: str | None = None,
    progress: TextIO | None = sys.stderr,
) -> list[Outcome]:
    """Grade every submission of ``lessons`` (all by default) of
    ``students`` (all by default) with ``jobs`` worker processes (default:
    the number of cores), each check in the sandbox with the interpreter of
    version ``python`` (default: the host's) unless ``sandbox`` is False
    (then student code runs with the grader's rights: trusted notebooks
    only). See the module docstring for the steps and their side effects.

    Returns this run's outcomes in submission order (then the folders that
    are not submissions). Raises :class:`CourseError` before touching
    anything when there is nothing to grade or the sandbox cannot be set up,
    and after the run when the gradebook fails SQLite's integrity check.
    """
    from .pool import grade_in_parallel
    from .sandbox import Sandbox, Unsandboxed

    chosen = course.resolve_lessons(lessons)
    todo, invalid = scan(course, chosen, students)
    if python is not None and not sandbox:
        raise CourseError(
            "--python runs checks in the sandbox; it cannot be combined with --unsafe-no-sandbox"
        )
    timeout = timeout or _default_timeout(course)
    budget = budget or DEFAULT_BUDGET
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    with ExitStack() as stack:
        if sandbox:
            from ..pythons import find, host
            from .sandbox import SandboxUnavailable

            try:
                interpreter = find(python) if python else host()
            except CourseError as exc:
                raise SandboxUnavailable(f"cannot sandbox student code: {exc}") from None
            box = stack.enter_context(Sandbox(jobs, interpreter=interpreter))
            box.trial()
        else:
            box = stack.enter_context(Unsandboxed())
        stack.enter_context(_only_run(course))
        gradebook.backup(course)
        finished: dict[tuple[str, str], Outcome] = {}
        if todo:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="course-grade-"))
            generate(
                course, sorted({lesson for lesson, _ in todo}), Path(tmp) / "release", course.db_url
            )
            for outcome in grade_in_parallel(
                course, todo, jobs=jobs, timeout=timeout, budget=budget, box=box
            ):
                finished[(outcome.lesson, outcome.student)] = outcome
                if progress:
                    show_progress(progress, len(finished), len(todo), outcome)
        rebuild_records(course)
        if course.gradebook.is_file():
            gradebook.single_file(course)
            state = gradebook.integrity(course)
            if state != "ok":
                raise CourseError(f"{course.gradebook} failed its integrity check: {state}")
    return [finished[pair] for pair in todo] + invalid
