"""Grading submissions in long-lived worker processes, one per grading slot.

Each worker is a spawned process that imports nbgrader once and then grades
one submission after another (a process per submission would pay nbgrader's
import and set-up every time). Worker ``n`` owns slot ``n``: the sandbox's
kernelspec, socket folder, uid and cgroups for that slot, or, without the
sandbox, a private socket folder of its own. Submissions are handed out one
at a time, each (lesson, student) pair once, so no pair is ever graded twice
at once. The workers share the gradebook, whose connections wait for
SQLite's lock (:attr:`course.coursedir.Course.db_url`). Each worker's address
space is bounded (:data:`GRADER_MEMORY`), so an output flood or a huge
notebook costs that submission, not the machine.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from traitlets.config import Config

from ..coursedir import Course
from ..kernels import ipc_config
from ..startup import prepare_process
from .run import MANUAL, Outcome, grade_one
from .sandbox import Sandbox

__all__ = ["GRADER_MEMORY", "grade_in_parallel"]

#: Address-space limit of each grading worker (its kernels get their own).
GRADER_MEMORY = 8 * 2**30

_kernels: Config | None = None
_reap: Callable[[], list[str]] | None = None


def _init_worker(slots: Any, sandbox: Sandbox | None, sockets_root: str) -> None:
    """Worker start-up. Side effects: bounds this process's address space,
    prepares the process (PATH, imports), takes a slot, imports nbgrader's
    converters."""
    global _kernels, _reap
    resource.setrlimit(resource.RLIMIT_AS, (GRADER_MEMORY, GRADER_MEMORY))
    prepare_process()
    slot = slots.get()
    if sandbox is not None:
        _kernels = sandbox.config(slot)
        _reap = lambda: sandbox.reap(slot)  # noqa: E731
    else:
        _kernels = ipc_config(Path(tempfile.mkdtemp(prefix=f"slot{slot}-", dir=sockets_root)))
    import nbgrader.converters  # noqa: F401  (pay the import once, not per submission)

    from .gradebook import tune

    tune()


def _grade(course: Course, lesson: str, student: str, timeout: int | None) -> Outcome:
    return grade_one(course, lesson, student, timeout=timeout, kernels=_kernels, reap=_reap)


def grade_in_parallel(
    course: Course,
    todo: list[tuple[str, str]],
    *,
    jobs: int,
    timeout: int | None,
    sandbox: Sandbox | None,
) -> Iterator[Outcome]:
    """Grade ``todo`` with ``jobs`` workers, yielding outcomes as they finish.

    A submission whose grading fails in the worker, or that kills its
    worker, gets a ``needs manual grading`` outcome saying so; the rest
    carry on (a broken pool is replaced).
    """
    context = multiprocessing.get_context("spawn")
    queue = list(todo)
    suspects: set[tuple[str, str]] = set()  # in flight when a worker died once
    with tempfile.TemporaryDirectory(prefix="course-kernels-") as sockets_root:
        Path(sockets_root).chmod(0o700)
        while queue:
            slots = context.Queue()
            for slot in range(jobs):
                slots.put(slot)
            with ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=context,
                initializer=_init_worker,
                initargs=(slots, sandbox, sockets_root),
            ) as pool:
                pending: dict[Future, tuple[str, str]] = {}
                broken = False
                # Keep at most `jobs` submissions in flight, so a dead worker
                # costs only the submissions it held.
                while (queue or pending) and not broken:
                    while queue and len(pending) < jobs:
                        pair = queue.pop(0)
                        pending[pool.submit(_grade, course, *pair, timeout)] = pair
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
                                yield Outcome(student, lesson, status=MANUAL, reasons=[reason])
                            else:
                                suspects.add(pair)
                                queue.insert(0, pair)
                        except Exception as exc:
                            reason = f"the grader itself failed: {type(exc).__name__}: {exc}"
                            yield Outcome(student, lesson, status=MANUAL, reasons=[reason])
                for pair in pending.values():
                    suspects.add(pair)
                    queue.insert(0, pair)
