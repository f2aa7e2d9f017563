"""Grading throughput: `course grade` against stock nbgrader and against the
floor, on one synthetic class, in one run on this machine.

Run from the repository root (``make bench``; ``make bench BENCH_ARGS="…"``)::

    python -m benchmarks.grading [--lessons 1 2 3] [--students-per-lesson 40]
                                 [--jobs 1 2] [--grade-arg=--unsafe-no-sandbox]
                                 [--variant= --variant=--unsafe-no-sandbox]

Runs, each in its own throwaway copy of the course holding the same
submissions (see :func:`benchmarks.common.synthetic_class`):

1. baseline: stock ``nbgrader autograde LESSON --force``, one process per
   lesson over all its students, with the stock kernel and the course's
   ``nbgrader_config.py``, after ``nbgrader generate_assignment`` registered
   the lessons (that step is not timed);
2. ``course --root COPY grade LESSONS --jobs N`` for each ``--jobs`` value
   (and each ``--variant``), timed as a whole: it also registers the
   lessons, writes feedback, ``grades.csv`` and the report;
3. the floor: the notebooks autograde executed (the baseline's autograded
   notebooks, outputs cleared), executed with nbclient alone in a process
   pool of ``os.cpu_count()`` workers; wall time.

Prints a table (submissions, wall seconds, submissions per minute,
throughput relative to the baseline, time relative to the floor), checks
that every grading run recorded the same score for every (student, lesson,
cell) in its gradebook, that the gradebooks pass SQLite's integrity check
and that the reference student scored full marks and the blank one zero.
Exits 1 if any of that fails. Side effects: a scratch folder under the
system's temporary folder (``--workdir``), removed at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course import notebooks as nbs
from course.coursedir import Course

from .common import (
    BIN,
    REPO,
    Score,
    copy_course,
    gradebook_scores,
    integrity_check,
    run_env,
    synthetic_class,
    write_class,
)

DEFAULT_LESSONS = ["01", "02", "03"]
DEFAULT_PER_LESSON = 40
MIN_SUBMISSIONS, MIN_LESSONS = 120, 3
TARGET_SPEEDUP, TARGET_FLOOR = 2.0, 1.0  # issue 11: >= 2x stock nbgrader, no slower than the floor


@dataclass
class Run:
    """One measured run."""

    name: str
    submissions: int
    seconds: float
    scores: Score | None = None
    problems: list[str] = field(default_factory=list)
    #: the 1-minute load average when the run ended (the machine may be shared)
    load: float = field(default_factory=lambda: os.getloadavg()[0])

    @property
    def per_minute(self) -> float:
        return 60 * self.submissions / self.seconds if self.seconds else 0.0


def _run(cmd: list[str], cwd: Path, log: Path) -> tuple[float, int]:
    """Run ``cmd`` with output to ``log``; return (wall seconds, exit code)."""
    with open(log, "ab") as out:
        out.write(f"$ {shlex.join(cmd)}\n".encode())
        out.flush()
        start = time.perf_counter()
        code = subprocess.run(
            cmd, cwd=cwd, env=run_env(), stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode
        return time.perf_counter() - start, code


def _prepare(root: Path, work: dict) -> Course:
    course = copy_course(root)
    write_class(course, work)
    return course


def _checked(run: Run, course: Course) -> Run:
    """Read the run's scores and check its gradebook."""
    if not course.gradebook.is_file():
        run.problems.append(f"{run.name}: no gradebook was written")
        return run
    verdict = integrity_check(course.gradebook)
    if verdict != "ok":
        run.problems.append(f"{run.name}: gradebook integrity check: {verdict}")
    run.scores = gradebook_scores(course.gradebook)
    return run


def baseline(root: Path, work: dict, lessons: list[str]) -> tuple[Run, Course]:
    """Stock nbgrader: ``generate_assignment`` (untimed), then one
    ``autograde LESSON --force`` process per lesson (timed)."""
    course = _prepare(root, work)
    log = root / "bench.log"
    problems = []
    for lesson in lessons:
        _, code = _run([str(BIN / "nbgrader"), "generate_assignment", lesson, "--force"], root, log)
        if code:
            problems.append(f"baseline: generate_assignment {lesson} exited {code} (see {log})")
    seconds = 0.0
    for lesson in lessons:
        took, code = _run([str(BIN / "nbgrader"), "autograde", lesson, "--force"], root, log)
        seconds += took
        if code:
            problems.append(f"baseline: autograde {lesson} exited {code} (see {log})")
    run = Run("nbgrader autograde (stock)", len(work), seconds, problems=problems)
    return _checked(run, course), course


def course_grade(root: Path, work: dict, lessons: list[str], jobs: int, extra: list[str]) -> Run:
    """``course grade --jobs N`` (plus ``extra`` arguments), timed as a whole."""
    course = _prepare(root, work)
    log = root / "bench.log"
    cmd = [str(BIN / "course"), "--root", str(root), "grade", *lessons, "--jobs", str(jobs), *extra]
    seconds, code = _run(cmd, root, log)
    name = " ".join(["course grade", f"--jobs {jobs}", *extra])
    run = Run(name, len(work), seconds)
    if code:
        run.problems.append(f"{name}: exited {code} (see {log})")
    return _checked(run, course)


def _execute(path: str, timeout: int) -> tuple[float, int]:
    """Execute one notebook in its own folder with nbclient, as nbgrader's
    Execute does (errors allowed, interrupt on timeout, in-memory history).
    Returns (seconds, number of cells that ended in an error)."""
    import nbformat
    from nbclient import NotebookClient

    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    errors = sum(
        1
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    )
    return time.perf_counter() - start, errors


def _worker_init(log: str) -> None:
    """Floor worker start-up. Side effects: PATH as for the other runs; this
    process's stderr (and so its kernels') goes to ``log``."""
    os.environ["PATH"] = run_env()["PATH"]
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)


def floor(root: Path, graded: Course, work: dict, timeout: int) -> tuple[Run, float]:
    """nbclient alone on the notebooks autograde executed, ``os.cpu_count()``
    workers. Returns the run and the mean seconds per notebook."""
    paths = []
    for student, lesson in work:
        src = graded.autograded / student / lesson / f"{lesson}.ipynb"
        if not src.is_file():
            continue
        nb = nbs.read(src)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        dest = root / student / lesson / f"{lesson}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbs.write(nb, dest)
        paths.append(str(dest))
    import multiprocessing

    workers = os.cpu_count() or 1
    start = time.perf_counter()
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(str(root / "bench.log"),),
    ) as pool:
        results = list(pool.map(_execute, paths, [timeout] * len(paths)))
    seconds = time.perf_counter() - start
    run = Run(f"floor: nbclient, {workers} worker(s)", len(paths), seconds)
    if len(paths) != len(work):
        run.problems.append(
            f"floor: only {len(paths)} of {len(work)} autograded notebooks to execute"
        )
    mean = sum(s for s, _ in results) / len(results) if results else 0.0
    return run, mean


def compare(runs: list[Run], work: dict, points: dict[tuple[str, str], float]) -> list[str]:
    """Where the grading runs disagree with the first, or the first did not
    grade the class as designed: every submission scored, the reference
    (``student-001``) full marks in every cell ``points`` lists, the blank
    (``student-002``) zero."""
    graded = [r for r in runs if r.scores is not None]
    if not graded:
        return ["no grading run produced scores"]
    first = graded[0]
    scores = first.scores or {}
    problems = []
    submissions = {(s, lesson) for s, lesson, _ in scores}
    if submissions != set(work):
        problems.append(f"{first.name}: scores for {len(submissions)} of {len(work)} submissions")
    for (student, lesson, cell), score in sorted(scores.items()):
        top = points.get((lesson, cell))
        if student == "student-001" and score != top:
            problems.append(f"{first.name}: the reference scored {score}/{top} on {lesson} {cell}")
        if student == "student-002" and score != 0:
            problems.append(f"{first.name}: the blank one scored {score}/{top} on {lesson} {cell}")
    for run in graded[1:]:
        other = run.scores or {}
        differ = sorted(
            k
            for k in scores.keys() | other.keys()
            if scores.get(k, "absent") != other.get(k, "absent")
        )
        for key in differ[:10]:
            problems.append(
                f"{run.name} differs from {first.name} on {key}: "
                f"{other.get(key, 'absent')} != {scores.get(key, 'absent')}"
            )
        if len(differ) > 10:
            problems.append(f"{run.name}: … {len(differ) - 10} more differences")
    return problems


def full_marks(course: Course, lessons: list[str]) -> dict[tuple[str, str], float]:
    """Points of every graded cell: (lesson, cell) -> points."""
    points = {}
    for lesson in lessons:
        for cell in nbs.read(course.source_notebook(lesson)).cells:
            if nbs.is_graded_test(cell):
                points[(lesson, nbs.grade_id(cell))] = float(cell.metadata.nbgrader["points"])
    return points


def table(runs: list[Run], base: Run | None, bottom: Run | None) -> str:
    header = [
        "run",
        "submissions",
        "wall s",
        "s/subm.",
        "subm./min",
        "vs baseline",
        "vs floor",
        "load after",
    ]
    rows = [header]
    for r in runs:
        speed = f"{r.per_minute / base.per_minute:.2f}x" if base and base.per_minute else "-"
        slower = f"{r.seconds / bottom.seconds:.2f}x" if bottom and bottom.seconds else "-"
        rows.append(
            [
                r.name,
                str(r.submissions),
                f"{r.seconds:.1f}",
                f"{r.seconds / r.submissions:.2f}" if r.submissions else "-",
                f"{r.per_minute:.1f}",
                speed,
                slower,
                f"{r.load:.1f}",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.grading", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--lessons",
        nargs="+",
        default=DEFAULT_LESSONS,
        metavar="LESSON",
        help=f"lesson ids or numbers (default: {' '.join(DEFAULT_LESSONS)})",
    )
    p.add_argument(
        "--students-per-lesson",
        type=int,
        default=DEFAULT_PER_LESSON,
        metavar="N",
        help=f"submissions per lesson (default: {DEFAULT_PER_LESSON})",
    )
    p.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        default=[1, 2],
        metavar="N",
        help="one `course grade --jobs N` run per value (default: 1 2)",
    )
    p.add_argument(
        "--grade-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for every `course grade` run, e.g. --grade-arg=--unsafe-no-sandbox",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="ARGS",
        help="repeatable: one more set of `course grade` runs with these extra arguments "
        "(e.g. --variant= --variant=--unsafe-no-sandbox measures the sandbox's cost); "
        "the targets are checked on the first",
    )
    p.add_argument(
        "--workdir", type=Path, help="where the scratch folder goes (default: the system's)"
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, gradebooks)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    repo = Course(REPO)
    lessons = repo.resolve_lessons(args.lessons)
    work = synthetic_class(repo, lessons, args.students_per_lesson)
    cores = os.cpu_count() or 1
    timeout = int(repo.nbgrader_config().Execute.get("timeout", 30))
    scratch = Path(tempfile.mkdtemp(prefix="course-bench-", dir=args.workdir))
    print(
        f"grading benchmark: {len(work)} submissions ({len(lessons)} lessons x "
        f"{args.students_per_lesson} students: {', '.join(lessons)}), {cores} core(s), "
        f"load average {os.getloadavg()[0]:.2f} at the start; scratch: {scratch}",
        flush=True,
    )
    if len(work) < MIN_SUBMISSIONS or len(lessons) < MIN_LESSONS:
        print(
            f"(a smoke run: the benchmark proper has >= {MIN_SUBMISSIONS} submissions "
            f"over >= {MIN_LESSONS} lessons)",
            flush=True,
        )
    try:
        runs: list[Run] = []
        print("baseline: nbgrader autograde …", flush=True)
        base, graded = baseline(scratch / "baseline", work, lessons)
        runs.append(base)
        by_jobs: dict[int, Run] = {}
        variants = args.variant or [""]
        for v, variant in enumerate(variants):
            extra = [*args.grade_arg, *shlex.split(variant)]
            for jobs in args.jobs:
                print(f"course grade --jobs {jobs} {shlex.join(extra)} …", flush=True)
                run = course_grade(scratch / f"jobs{jobs}-{v}", work, lessons, jobs, extra)
                runs.append(run)
                by_jobs.setdefault(jobs, run)  # the targets are checked on the first variant
        print("floor: nbclient …", flush=True)
        bottom, per_notebook = floor(scratch / "floor", graded, work, timeout)
        runs.append(bottom)

        print()
        print(table(runs, base, bottom))
        print(
            f"\ncores: {cores}; load average at the end {os.getloadavg()[0]:.2f}; "
            f"floor: {per_notebook:.2f} s per notebook executed serially"
        )
        problems = [p for r in runs for p in r.problems]
        problems += compare(runs, work, full_marks(repo, lessons))
        cells = len(base.scores or {})
        if problems:
            print(f"\nscores: NOT identical or not as designed ({len(problems)} problem(s)):")
            for p in problems:
                print(f"  {p}")
        else:
            names = ", ".join(r.name for r in runs if r.scores is not None)
            print(
                f"scores: identical in every run ({cells} cell scores of {len(work)} submissions: "
                f"{names}); gradebooks pass the integrity check; reference full, blank zero"
            )
        two = by_jobs.get(2)
        if two is not None:
            speed = two.per_minute / base.per_minute if base.per_minute else 0.0
            slower = two.seconds / bottom.seconds if bottom.seconds else float("inf")
            print(
                f"target: --jobs 2 at least {TARGET_SPEEDUP}x the baseline's throughput: "
                f"{speed:.2f}x, {'met' if speed >= TARGET_SPEEDUP else 'NOT met'}"
            )
            print(
                f"target: --jobs 2 within {TARGET_FLOOR}x of the floor's time: "
                f"{slower:.2f}x, {'met' if slower <= TARGET_FLOOR else 'NOT met'}"
            )
        return 1 if problems else 0
    finally:
        if args.keep:
            print(f"kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
