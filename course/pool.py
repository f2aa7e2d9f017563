"""Grading submissions in parallel with long-lived worker processes.

Each worker is a spawned process that imports nbgrader once and then grades
one submission after another (a process per submission would pay nbgrader's
import and set-up every time). Each worker has its own folder for kernel
sockets. Submissions are handed out one at a time, each (lesson, student)
pair once, so no pair is ever graded twice at once. The workers share the
gradebook, whose connections wait for SQLite's lock
(:attr:`course.paths.Course.db_url`).
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from .grade import MANUAL, Outcome, grade_one
from .paths import Course
from .startup import prepare_process

__all__ = ["grade_in_parallel"]

_sockets: Path | None = None


def _init_worker(sockets_root: str) -> None:
    """Worker start-up. Side effects: prepares the process (PATH, imports),
    makes this worker's own socket folder, imports nbgrader's converters."""
    global _sockets
    prepare_process()
    _sockets = Path(tempfile.mkdtemp(prefix="worker-", dir=sockets_root))
    import nbgrader.converters  # noqa: F401  (pay the import once, not per submission)


def _grade(course: Course, lesson: str, student: str, timeout: int | None) -> Outcome:
    return grade_one(course, lesson, student, timeout=timeout, sockets=_sockets)


def grade_in_parallel(
    course: Course,
    todo: list[tuple[str, str]],
    *,
    jobs: int,
    timeout: int | None,
    sockets_root: Path,
) -> Iterator[Outcome]:
    """Grade ``todo`` with ``jobs`` workers, yielding outcomes as they finish.

    A worker that fails or dies leaves its submission with a
    ``needs manual grading`` outcome saying so; the rest carry on.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(str(sockets_root),),
    ) as pool:
        pending: dict[Future, tuple[str, str]] = {}
        queue = list(todo)
        # Keep at most `jobs` submissions in flight, so a dead worker costs
        # only the submissions it held.
        while queue or pending:
            while queue and len(pending) < jobs:
                lesson, student = queue.pop(0)
                pending[pool.submit(_grade, course, lesson, student, timeout)] = (lesson, student)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                lesson, student = pending.pop(future)
                try:
                    yield future.result()
                except Exception as exc:
                    reason = f"the grader itself failed: {type(exc).__name__}: {exc}"
                    yield Outcome(student, lesson, status=MANUAL, reasons=[reason])
