"""Where the time of grading one submission goes, beyond running the notebook.

Run from the repository root::

    python -m benchmarks.profile_grade [--lesson 01] [--submissions 10]

On a throwaway copy of the course holding ``--submissions`` synthetic
submissions of one lesson (plus one for warming up), it first runs
``course --root COPY grade LESSON`` on the warm-up submission (which records
the lesson in the gradebook, as a real run would have), then, in this one
process, :func:`course.grading.run.grade_one` on each submission twice, its
kernel on IPC sockets without the sandbox (the sandbox's own cost shows in
``benchmarks.grading`` with and without ``--unsafe-no-sandbox``):

1. with wall-clock timers around the steps (nbgrader's converters and each
   of their preprocessors, the kernel's start, ready, cells and shutdown,
   every ``Gradebook()`` opened, every SQLite commit, notebook
   validation...), which cost next to nothing, for the breakdown;
2. under cProfile, for the functions that cost most (cProfile's own
   overhead inflates pure-Python work such as SQLAlchemy's).

``--try NAME`` switches on a candidate saving (see :data:`TRIES`) in this
process, to measure it against a run without. Prints both passes. Side effects: a scratch folder under the system's temporary
folder, removed at the end unless ``--keep`` (which also keeps the cProfile
statistics, ``profile.pstats``).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import inspect
import io
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from course.coursedir import Course
from course.startup import prepare_process

from .common import BIN, REPO, copy_course, run_env, synthetic_class, write_class


class Timers:
    """Wall-clock timers wrapped around functions and methods by name.

    A call nested in a call with the same label is not counted twice.
    Side effects: :meth:`wrap` replaces the attribute on its owner (a class
    or module) for the rest of the process.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.order: list[str] = []
        self._depth: Counter[str] = Counter()

    def wrap(self, owner: object, attr: str, label: str) -> None:
        original = getattr(owner, attr)
        if label not in self.order:
            self.order.append(label)
        timers = self

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args, **kwargs):
                timers._depth[label] += 1
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    timers._stop(label, start)

            setattr(owner, attr, timed_async)
        else:

            @functools.wraps(original)
            def timed(*args, **kwargs):
                timers._depth[label] += 1
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    timers._stop(label, start)

            setattr(owner, attr, timed)

    def _stop(self, label: str, start: float) -> None:
        self._depth[label] -= 1
        if self._depth[label] == 0:
            self.seconds[label] += time.perf_counter() - start
            self.calls[label] += 1

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def instrument(timers: Timers) -> None:
    """Wrap the steps of grading one submission (see the module docstring).
    Labels are indented by nesting."""
    import bs4
    import nbconvert
    import nbformat
    import nbformat.validator
    import sqlalchemy.orm
    from nbclient import NotebookClient
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader import preprocessors as pp
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde

    from course import grade as grading
    from course.grading.feedback import Feedback, HideHiddenTests

    w = timers.wrap
    w(grading, "_precheck", "pre-check (JSON, nbformat read)")
    w(Course, "nbgrader_config", "nbgrader_config.py loaded")
    w(Autograde, "__init__", "Autograde() built")
    w(Autograde, "start", "Autograde.start (nbgrader autograde)")
    w(Autograde, "init_assignment", "  init_assignment (student, submission rows, copies)")
    for cls in (pp.ClearOutput, pp.DeduplicateIds, pp.OverwriteKernelspec, pp.OverwriteCells):
        w(cls, "preprocess", f"  sanitize: {cls.__name__}")
    w(pp.CheckCellMetadata, "preprocess", "  CheckCellMetadata (x2)")
    w(pp.Execute, "preprocess", "  Execute (the notebook runs)")
    try:  # the course's own Execute subclass, where it has one
        from course.grading.execute import CappedExecute
    except ImportError:
        pass
    else:
        w(CappedExecute, "preprocess", "  Execute (the notebook runs)")
    # nbclient's sync names are run_sync() of the original coroutines, so
    # both are wrapped (the depth count keeps a call from counting twice).
    for name, label in [
        ("start_new_kernel", "    kernel process started"),
        ("start_new_kernel_client", "    kernel client + wait until ready"),
        ("execute_cell", "    cells executing"),
        ("_cleanup_kernel", "    kernel shut down"),
    ]:
        w(NotebookClient, name, label)
        w(NotebookClient, f"async_{name}".replace("async__", "_async_"), label)
    for cls in (pp.IgnorePattern, ClearMetadataPreprocessor, pp.LimitOutput):
        w(cls, "preprocess", f"  {cls.__name__}")
    w(pp.SaveAutoGrades, "preprocess", "  SaveAutoGrades (scores into the gradebook)")
    w(pp.AssignLatePenalties, "preprocess", "  AssignLatePenalties")
    w(Autograde, "write_single_notebook", "  autograded notebook written")
    w(grading, "_read_scores", "scores read back (_read_scores)")
    w(grading, "tampering", "tampering check")
    w(grading, "_timeouts", "timeouts counted")
    w(Feedback, "__init__", "Feedback() built")
    w(Feedback, "start", "Feedback.start (feedback HTML)")
    w(pp.GetGrades, "preprocess", "  GetGrades (gradebook read)")
    w(HideHiddenTests, "preprocess", "  HideHiddenTests")
    w(CSSHTMLHeaderPreprocessor, "preprocess", "  CSSHTMLHeaderPreprocessor")
    w(nbconvert.HTMLExporter, "from_notebook_node", "  HTML export (incl. the three above)")
    w(TemplateExporter, "from_notebook_node", "    preprocessors + Jinja template")
    w(bs4.BeautifulSoup, "__init__", "    BeautifulSoup parse of the page (html.parser)")
    w(bs4.element.Tag, "select", "    BeautifulSoup select (alt text, tabindex)")
    w(bs4.element.Tag, "decode", "    BeautifulSoup back to text")
    # Across every step:
    w(Gradebook, "__init__", "[any] Gradebook() opened (engine, inspect, create_all)")
    w(sqlalchemy.orm.Session, "commit", "[any] SQLite commits")
    w(nbformat, "read", "[any] nbformat.read")
    w(nbformat, "write", "[any] nbformat.write")
    w(nbformat, "validate", "[any] nbformat validation")
    w(nbformat.validator, "validate", "[any] nbformat validation")


def _config_hook(change) -> None:
    """Make ``Course.nbgrader_config`` pass its result through ``change``.
    Side effects: replaces that method for the rest of the process."""
    original = Course.nbgrader_config

    def nbgrader_config(self, **overrides):
        config = original(self, **overrides)
        change(config)
        return config

    Course.nbgrader_config = nbgrader_config  # type: ignore[method-assign]


def _try_wal() -> None:
    """Every SQLite connection in WAL mode with synchronous=NORMAL (no fsync
    per commit; readers do not block the writer)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(Engine, "connect", pragmas)


def _try_engine_cache() -> None:
    """One SQLAlchemy engine per gradebook URL per process, and the tables
    checked (``create_all``) once, instead of at every ``Gradebook()``."""
    import nbgrader.api as api

    engines: dict[str, object] = {}
    real_engine, real_create_all = api.create_engine, api.Base.metadata.create_all
    checked: set[str] = set()

    def create_engine(url, **kwargs):
        if url not in engines:
            engines[url] = real_engine(url, **kwargs)
        return engines[url]

    def create_all(bind=None, **kwargs):
        key = str(bind.url) if bind is not None else ""
        if key not in checked:
            checked.add(key)
            real_create_all(bind=bind, **kwargs)

    api.create_engine = create_engine
    api.Base.metadata.create_all = create_all  # type: ignore[method-assign]


def _try_immediate_shutdown() -> None:
    """The kernel is killed after the last cell instead of asked to shut down."""

    def change(config) -> None:
        config.NotebookClient.shutdown_kernel = "immediate"

    _config_hook(change)


def _try_no_late_penalties() -> None:
    """nbgrader's AssignLatePenalties left out (the course sets no due dates)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import AssignLatePenalties

    default = Autograde().autograde_preprocessors

    def change(config) -> None:
        config.Autograde.autograde_preprocessors = [
            pp for pp in default if pp is not AssignLatePenalties
        ]

    _config_hook(change)


def _try_no_soup() -> None:
    """nbconvert's HTML exporter without its BeautifulSoup pass over the whole
    page (which adds alt text to images without one and tabindex attributes)."""
    import nbconvert.exporters.html as html_exporter

    class Page:
        def __init__(self, markup: str, features: str | None = None) -> None:
            self.markup = markup

        def select(self, _selector: str) -> list:
            return []

        def __str__(self) -> str:
            return self.markup

    html_exporter.BeautifulSoup = Page  # type: ignore[misc]


#: What ``--try`` can switch on: candidate savings, measured, not adopted.
TRIES = {
    "wal": _try_wal,
    "engine-cache": _try_engine_cache,
    "immediate-shutdown": _try_immediate_shutdown,
    "no-late-penalties": _try_no_late_penalties,
    "no-soup": _try_no_soup,
}


def _cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process, and by its finished children
    (the kernels, and what they waited for)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


def _grade_all(course: Course, lesson: str, students: list[str], sockets: Path) -> list[float]:
    """grade_one on each student, its kernel on IPC sockets in ``sockets``
    (no sandbox); wall seconds of each."""
    from course.grading.run import grade_one
    from course.kernels import ipc_config

    # grade_one took `sockets=` before the sandbox, and `kernels=` (a Config) since.
    params = inspect.signature(grade_one).parameters
    kwargs: dict[str, object] = (
        {"kernels": ipc_config(sockets)} if "kernels" in params else {"sockets": sockets}
    )
    took = []
    for student in students:
        start = time.perf_counter()
        outcome = grade_one(course, lesson, student, **kwargs)
        took.append(time.perf_counter() - start)
        print(
            f"  {student}: {outcome.status} {outcome.score}/{outcome.max_score:g} "
            f"({took[-1]:.2f} s)",
            flush=True,
        )
    return took


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_grade", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--lesson", default="01", help="lesson id or number (default: 01)")
    p.add_argument("--submissions", type=int, default=10, help="how many (default: 10)")
    p.add_argument(
        "--grade-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for the first `course grade` run",
    )
    p.add_argument(
        "--try",
        dest="tries",
        action="append",
        default=[],
        choices=[*TRIES, "all"],
        help="switch on a candidate saving in this process (repeatable; see TRIES)",
    )
    p.add_argument("--no-profile", action="store_true", help="timers only (skip pass 2)")
    p.add_argument("--top", type=int, default=30, help="cProfile lines to print (default: 30)")
    p.add_argument("--workdir", type=Path, help="where the scratch folder goes")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder and the pstats")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    prepare_process()
    repo = Course(REPO)
    (lesson,) = repo.resolve_lessons([args.lesson])
    scratch = Path(tempfile.mkdtemp(prefix="course-profile-", dir=args.workdir))
    try:
        course = copy_course(scratch / "course")
        work = synthetic_class(repo, [lesson], args.submissions + 1)
        write_class(course, work)
        students = sorted(s for s, _ in work)
        warm, measured = students[-1], students[:-1]
        cmd = [str(BIN / "course"), "--root", str(course.root), "grade", lesson]
        cmd += ["--student", warm, "--jobs", "1", *args.grade_arg]
        print(f"$ {' '.join(cmd)}", flush=True)
        done = subprocess.run(cmd, env=run_env(), capture_output=True, text=True, check=False)
        if done.returncode:
            print(done.stdout + done.stderr, file=sys.stderr)
            return 1

        start = time.perf_counter()
        import nbgrader.converters  # noqa: F401

        from course import feedback, grade  # noqa: F401

        print(
            f"imports (nbgrader converters, course.grading.run): {time.perf_counter() - start:.2f} s"
        )
        for name in TRIES if "all" in args.tries else args.tries:
            print(f"trying: {name}: {TRIES[name].__doc__}")
            TRIES[name]()
        timers = Timers()
        instrument(timers)
        sockets = scratch / "sockets"
        sockets.mkdir(mode=0o700)
        print(f"warm-up ({warm}):", flush=True)
        _grade_all(course, lesson, [warm], sockets)

        print(f"\npass 1, timers only: {len(measured)} submissions of {lesson}", flush=True)
        timers.reset()
        cpu_before = _cpu()
        took = _grade_all(course, lesson, measured, sockets)
        cpu_after = _cpu()
        n = len(took)
        total = sum(took)
        print(
            f"\ngrade_one: mean {statistics.fmean(took):.2f} s, median "
            f"{statistics.median(took):.2f} s, min {min(took):.2f}, max {max(took):.2f} "
            f"({n} submissions)"
        )
        print(
            f"CPU per submission (does not depend on the machine's load): this grader "
            f"{(cpu_after[0] - cpu_before[0]) / n:.2f} s, its kernels "
            f"{(cpu_after[1] - cpu_before[1]) / n:.2f} s"
        )
        executing = timers.seconds.get("  Execute (the notebook runs)", 0.0)
        print(
            f"of which the notebook running (Execute): {executing / n:.2f} s; "
            f"everything else: {(total - executing) / n:.2f} s per submission\n"
        )
        width = max(len(label) for label in timers.order)
        print(f"{'step':<{width}}  {'calls/subm.':>11}  {'s/subm.':>8}  {'share':>6}")
        for label in timers.order:
            if timers.calls[label]:
                secs = timers.seconds[label]
                print(
                    f"{label:<{width}}  {timers.calls[label] / n:>11.1f}  {secs / n:>8.3f}  "
                    f"{secs / total:>6.1%}"
                )

        if args.no_profile:
            return 0
        print(f"\npass 2, under cProfile: the same {n} submissions again", flush=True)
        profile = cProfile.Profile()
        profile.enable()
        try:
            _grade_all(course, lesson, measured, sockets)
        finally:
            profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
        if args.keep:
            stats.dump_stats(scratch / "profile.pstats")
        return 0
    finally:
        if args.keep:
            print(f"kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
