"""Where the time of grading one submission goes.

Run from the repository root (as root, for the sandbox)::

    python -m benchmarks.profile_grade [--lesson 01] [--submissions 10] [--unsafe-no-sandbox]

On a throwaway copy of the course holding ``--submissions`` synthetic
submissions of one lesson (plus one for warming up), it first runs
``course --root COPY grade LESSON`` on the warm-up submission (which records
the lesson in the gradebook, as a real run would), then grades each
submission in this one process with
:func:`course.grading.submission.grade_one`, in slot 0 of a sandbox, with
wall-clock timers around each step of :data:`course.grading.submission.STEPS`
and, inside each check, around the start of its interpreter (up to the
moment the runner has read its job: the interpreter's and the sandbox's
start-up, what a Jupyter kernel's start cost before) and the rest.

Prints seconds per submission per step, and the share of the time spent
starting interpreters. Side effects: a scratch folder under the system's
temporary folder, removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from course.startup import prepare_process

from .common import BIN, REPO, copy_course, run_env, synthetic_class, write_class


def _timed(name: str, func, totals: dict[str, list[float]]):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            totals[name].append(time.perf_counter() - start)

    return wrapper


def _start_probe(box, totals: dict[str, list[float]]) -> float:
    """Seconds for the box to run an interpreter that does nothing: the
    fixed cost of each check (sandbox set-up and interpreter start-up)."""
    job = {"setup": "pass", "answers": [], "test": "pass"}
    times = []
    for _ in range(5):
        done = box.run(0, job, 30)
        times.append(done.seconds)
    totals["check start-up (probe)"] = times
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_grade", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--lesson", default="01")
    parser.add_argument("--submissions", type=int, default=10)
    parser.add_argument("--unsafe-no-sandbox", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    prepare_process()

    from course import _compat
    from course.grading import submission
    from course.grading.sandbox import Sandbox, Unsandboxed

    work = Path(tempfile.mkdtemp(prefix="profile-grade-"))
    try:
        course = copy_course(work / "course")
        lesson = course.resolve_lessons([args.lesson])[0]
        pupils = synthetic_class(course, [lesson], args.submissions + 1)
        write_class(course, pupils)
        students = sorted({s for s, _ in pupils})
        warm = students[0]
        subprocess.run(
            [str(BIN / "course"), "--root", str(course.root), "grade", lesson, "--student", warm,
             *(["--unsafe-no-sandbox"] if args.unsafe_no_sandbox else [])],
            check=True, capture_output=True, env=run_env(), cwd=REPO,
        )  # fmt: skip
        _compat.tune_gradebook()
        totals: dict[str, list[float]] = defaultdict(list)
        for step in submission.STEPS:
            setattr(submission, step.__name__, _timed(step.__name__, step, totals))
        submission.GRADING = tuple(getattr(submission, s.__name__) for s in submission.GRADING)
        submission.RECORDING = tuple(getattr(submission, s.__name__) for s in submission.RECORDING)
        box = Unsandboxed() if args.unsafe_no_sandbox else Sandbox(1)
        with box:
            start_up = _start_probe(box, totals)
            checks = 0
            wall = time.perf_counter()
            for student in students[1:]:
                outcome = submission.grade_one(
                    course, lesson, student, box=box, slot=0, timeout=30, budget=600
                )
                checks += len(outcome.cells)
            wall = time.perf_counter() - wall
        n = len(students) - 1
        print(
            f"{n} submissions of {lesson}, {checks} checks, {wall:.1f} s ({wall / n:.2f} s per submission)"
        )
        print(f"{'step':<28} {'s/submission':>13} {'share':>7}")
        for name, times in totals.items():
            if name.startswith("check start-up"):
                continue
            print(f"{name:<28} {sum(times) / n:>13.3f} {sum(times) / wall:>7.0%}")
        share = start_up * checks / wall
        print(
            f"check start-up, {start_up:.3f} s x {checks} checks: {start_up * checks / n:.3f} s/submission ({share:.0%} of the time)"
        )
        return 0
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
