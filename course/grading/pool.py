"""Grading submissions in long-lived worker processes, one per grading slot.

Each worker is a spawned process that imports nbgrader once and then grades
one submission after another (a process per submission would pay nbgrader's
import and set-up every time). Worker ``n`` owns slot ``n`` of the box (the
sandbox's uid and cgroups for that slot). Submissions are handed out one at
a time, each (lesson, student) pair once, so no pair is ever graded twice
at once. The workers share the gradebook, whose connections wait for
SQLite's lock (:attr:`course.coursedir.Course.db_url`). Each worker's
address space is bounded (:data:`GRADER_MEMORY`), so a pathological
submission costs that submission, not the machine.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..coursedir import Course
from ..startup import prepare_process
from .outcome import Outcome, Status
from .sandbox import Box
from .submission import grade_one

__all__ = ["GRADER_MEMORY", "grade_in_parallel"]

#: Address-space limit of each grading worker (its checks get their own).
GRADER_MEMORY = 8 * 2**30

_box: Box | None = None
_slot = 0


def _init_worker(slots: Any, box: Box) -> None:
    """Worker start-up. Side effects: bounds this process's address space,
    prepares the process (PATH, imports), takes a slot, imports nbgrader's
    gradebook API and tunes it."""
    global _box, _slot
    resource.setrlimit(resource.RLIMIT_AS, (GRADER_MEMORY, GRADER_MEMORY))
    prepare_process()
    _slot = slots.get()
    _box = box
    import nbgrader.api  # noqa: F401  (pay the import once, not per submission)

    from .._compat import tune_gradebook

    tune_gradebook()


def _grade(course: Course, lesson: str, student: str, timeout: float, budget: float) -> Outcome:
    assert _box is not None, "the worker was not initialised"
    return grade_one(course, lesson, student, box=_box, slot=_slot, timeout=timeout, budget=budget)


def grade_in_parallel(
    course: Course,
    todo: list[tuple[str, str]],
    *,
    jobs: int,
    timeout: float,
    budget: float,
    box: Box,
) -> Iterator[Outcome]:
    """Grade ``todo`` with ``jobs`` workers, yielding outcomes as they finish.

    A submission whose grading fails in the worker, or that kills its
    worker, gets a ``needs manual grading`` outcome saying so; the rest
    carry on (a broken pool is replaced).
    """
    context = multiprocessing.get_context("spawn")
    queue = list(todo)
    suspects: set[tuple[str, str]] = set()  # in flight when a worker died once
    while queue:
        slots = context.Queue()
        for slot in range(jobs):
            slots.put(slot)
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(slots, box)
        ) as pool:
            pending: dict[Future, tuple[str, str]] = {}
            broken = False
            # Keep at most `jobs` submissions in flight, so a dead worker
            # costs only the submissions it held.
            while (queue or pending) and not broken:
                while queue and len(pending) < jobs:
                    pair = queue.pop(0)
                    pending[pool.submit(_grade, course, *pair, timeout, budget)] = pair
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    lesson, student = pair = pending.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        # Which submission killed the worker is unknown: each
                        # one in flight gets one more try in a new pool.
                        broken = True
                        if pair in suspects:
                            reason = "the grading worker died twice on this submission"
                            yield Outcome(student, lesson, status=Status.MANUAL, reasons=[reason])
                        else:
                            suspects.add(pair)
                            queue.insert(0, pair)
                    except Exception as exc:
                        reason = f"the grader itself failed: {type(exc).__name__}: {exc}"
                        yield Outcome(student, lesson, status=Status.MANUAL, reasons=[reason])
            for pair in pending.values():
                suspects.add(pair)
                queue.insert(0, pair)
