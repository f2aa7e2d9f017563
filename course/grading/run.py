"""`course grade`: autograde every submission, write feedback and grades.

The pipeline, in order:

1. back up ``gradebook.db`` (SQLite's online backup) to ``gradebook.db.bak``;
2. record the lessons in the gradebook (nbgrader's GenerateAssignment into a
   throwaway folder: ``release/`` is not touched);
3. for each submission ``submitted/<student>/<lesson>/``, in worker
   processes (:mod:`course.grading.pool`): pre-check the submission, run nbgrader's
   Autograde with the kernel in a sandbox (:mod:`course.grading.sandbox`; per-cell
   timeout, outputs capped in bytes by :class:`course.grading.execute.CappedExecute`;
   a failure is recorded and the run goes on), read the scores back from
   the gradebook, then nbgrader's GenerateFeedback with the hidden tests
   removed (:class:`course.grading.feedback.Feedback`);
4. export ``grades.csv`` (nbgrader's CSV format), the triage list
   ``reports/outcomes.csv`` and the instructor's report
   (:mod:`course.grading.report`: ``reports/index.html`` and a page per lesson);
5. check the gradebook with SQLite's ``PRAGMA integrity_check``.

Every submission ends with an :class:`Outcome`: ``graded``,
``needs manual grading`` (with the reason) or ``missing``.
"""

from __future__ import annotations

import csv
import fcntl
import functools
import json
import os
import sqlite3
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from .. import notebooks as nbs
from ..authoring.build import generate, run_nbgrader
from ..coursedir import Course, CourseError

__all__ = [
    "Outcome",
    "backup_gradebook",
    "check_gradebook",
    "find_submissions",
    "format_table",
    "grade",
    "tampering",
]

GRADED = "graded"
MANUAL = "needs manual grading"
MISSING = "missing"


@dataclass
class Outcome:
    """What grading one submission came to."""

    student: str
    lesson: str
    status: str = GRADED
    reasons: list[str] = field(default_factory=list)
    cells: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def score(self) -> float | None:
        scores = [s for s, _ in self.cells.values()]
        return None if any(s is None for s in scores) else sum(scores)  # type: ignore[arg-type]

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.cells.values())

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def backup_gradebook(course: Course) -> Path | None:
    """Copy the gradebook with SQLite's online backup API.

    Side effects: writes ``gradebook.db.bak`` next to it. Returns its path,
    or None when there is no gradebook yet.
    """
    if not course.grading.gradebook.is_file():
        return None
    target = course.grading.gradebook.with_name(course.grading.gradebook.name + ".bak")
    src = sqlite3.connect(f"file:{course.grading.gradebook}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def find_submissions(
    course: Course, lessons: list[str], students: list[str] | None = None
) -> list[tuple[str, str]]:
    """``(lesson, student)`` for every ``submitted/<student>/<lesson>/``."""
    if not course.submitted.is_dir():
        raise CourseError(f"nothing to grade: {course.submitted} does not exist")
    found = []
    for lesson in lessons:
        for folder in sorted(course.submitted.iterdir()):
            if students is not None and folder.name not in students:
                continue
            if (folder / lesson).is_dir():
                found.append((lesson, folder.name))
    if not found:
        raise CourseError(f"nothing to grade: no submissions in {course.submitted} for {lessons}")
    return found


def _links(folder: Path) -> str | None:
    """Why a submission folder must not be touched at all, or None: nbgrader
    would copy what a symbolic link points to (``source/``, say) into
    ``autograded/``."""
    links = [p for p in folder.rglob("*") if p.is_symlink()] if folder.is_dir() else []
    if links:
        return f"the submission contains symbolic links ({links[0].name}); not run"
    return None


def _precheck(path: Path, answers: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
    """Why a submitted notebook cannot be graded as it is, or None.
    ``answers`` are the grade ids of the answer cells it must still hold."""
    if not path.is_file():
        return None
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"the notebook is not valid JSON ({exc})"
    try:
        nb = nbs.read(path)
    except Exception as exc:  # nbformat raises several kinds
        return f"the notebook is not a valid notebook ({type(exc).__name__})"
    lost = sorted(answers - {nbs.grade_id(c) for c in nbs.iter_nbgrader_cells(nb)})
    if lost:
        return (
            f"the nbgrader metadata of answer cell(s) {', '.join(lost)} was removed, "
            "so nbgrader cannot tell which cell holds which answer"
        )
    return None


# Known failures, told in the instructor's words (the raw detail follows).
_FAILURES = {
    "DeadKernelError": "the kernel died while running the notebook (os._exit, a crash or out of memory)",
    "CellTimeoutError: A cell timed out": "a cell went on running after its timeout and ignored the interrupt; the kernel was stopped",
    "No notebooks found": "no notebook was submitted",
}


def _explain(error: str) -> str:
    for marker, meaning in _FAILURES.items():
        if marker in error:
            return f"{meaning} [{error}]"
    return error


@functools.lru_cache(maxsize=64)
def _given(release: Path, mtime_ns: int) -> dict[str, tuple[str, bool]]:
    """grade id -> (text, is an answer cell) for the nbgrader cells of the
    release notebook at ``release`` (read once per version of the file)."""
    return {
        nbs.grade_id(c): (nbs.cell_text(c), nbs.is_solution(c))
        for c in nbs.iter_nbgrader_cells(nbs.read(release))
    }


def _release_cells(course: Course, lesson: str) -> dict[str, tuple[str, bool]]:
    path = course.release_notebook(lesson)
    return _given(path, path.stat().st_mtime_ns)


def tampering(course: Course, lesson: str, path: Path) -> list[str]:
    """What a student changed that they were not meant to: locked cells
    (set-up and tests) edited or deleted, compared with the release notebook
    they were given. nbgrader restores such cells before grading; this says
    that it happened."""
    given = {g: text for g, (text, answer) in _release_cells(course, lesson).items() if not answer}
    handed_in = {nbs.grade_id(c): nbs.cell_text(c) for c in nbs.iter_nbgrader_cells(nbs.read(path))}
    notes = []
    deleted = sorted(set(given) - set(handed_in))
    edited = sorted(g for g in given if g in handed_in and handed_in[g] != given[g])
    if deleted:
        notes.append(f"deleted locked cell(s) {', '.join(deleted)} put back before grading")
    if edited:
        notes.append(f"edited locked cell(s) {', '.join(edited)} restored before grading")
    return notes


def _timeouts(course: Course, lesson: str, student: str) -> int:
    path = course.autograded / student / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        return 0
    return sum(
        1
        for cell in nbs.read(path).cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error" and out.get("ename") == "CellTimeoutError"
    )


def _read_scores(course: Course, lesson: str, student: str) -> dict[str, tuple]:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        try:
            nb = gb.find_submission_notebook(lesson, lesson, student)
        except MissingEntry:
            return {}
        return {
            g.name: (
                g.score if g.auto_score is not None or g.manual_score is not None else None,
                g.max_score,
                g.needs_manual_grade,
            )
            for g in nb.grades
        }


def _coursedir(config, lesson: str, student: str) -> CourseDirectory:
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = lesson
    coursedir.student_id = student
    return coursedir


def grade_one(
    course: Course,
    lesson: str,
    student: str,
    *,
    timeout: int | None = None,
    kernels: Config | None = None,
    reap: Callable[[], list[str]] | None = None,
) -> Outcome:
    """Autograde one submission and write its feedback.

    ``kernels`` is configuration for the kernel (the sandbox slot's, or IPC
    sockets); ``reap`` is called after the notebook ran and returns notes on
    what the sandbox's limits stopped.

    Side effects: nbgrader writes ``autograded/<student>/<lesson>/``,
    ``feedback/<student>/<lesson>/`` and the gradebook. Never raises for
    anything the submission contains.
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from .execute import CappedExecute
    from .feedback import Feedback

    start = time.perf_counter()
    outcome = Outcome(student, lesson)
    notebook = course.submitted / student / lesson / f"{lesson}.ipynb"
    # The kernel is killed after the last cell rather than asked to shut down
    # (0.4-1.4 s saved per submission); nothing of it is kept anyway.
    overrides: dict[str, object] = {"NotebookClient__shutdown_kernel": "immediate"}
    if timeout:
        overrides["Execute__timeout"] = timeout
    config = course.nbgrader_config(**overrides)
    if kernels is not None:
        config.merge(kernels)
    refused = _links(notebook.parent)
    answers = {g for g, (_, answer) in _release_cells(course, lesson).items() if answer}
    problem = refused or _precheck(notebook, answers)
    failed = None
    limits: list[str] = []
    if refused is None:
        app = Autograde(coursedir=_coursedir(config, lesson, student), config=config)
        app.force = True
        app.autograde_preprocessors = [
            CappedExecute if pp is Execute else pp for pp in app.autograde_preprocessors
        ]
        try:
            with warnings.catch_warnings():
                # nbgrader 0.9.6 with SQLAlchemy 2.0.5x warns on each new student's
                # first submission; harmless (the rows are created), and noise.
                warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")
                run_nbgrader(app)
        except CourseError as exc:
            failed = str(exc)
        except MemoryError:
            failed = "the grader ran out of memory on this submission"
        finally:
            limits = reap() if reap else []
    scores = _read_scores(course, lesson, student)
    outcome.cells = {name: (s, m) for name, (s, m, _) in scores.items()}
    if not notebook.is_file():
        outcome.status = MISSING
        outcome.reasons.append("no notebook was submitted (scored 0)")
    elif problem or failed:
        outcome.status = MANUAL
        outcome.reasons.append(problem or _explain(failed or ""))
        outcome.reasons += limits
        outcome.cells = {name: (None, m) for name, (_, m) in outcome.cells.items()}
    else:
        outcome.reasons += limits
        outcome.reasons += tampering(course, lesson, notebook)
        timeouts = _timeouts(course, lesson, student)
        if timeouts:
            outcome.reasons.append(f"{timeouts} cell(s) timed out")
        flagged = [name for name, (_, _, manual) in scores.items() if manual]
        if flagged:
            outcome.status = MANUAL
            outcome.reasons.append(f"nbgrader flagged {', '.join(flagged)}")
        feedback = Feedback(coursedir=_coursedir(config, lesson, student), config=config)
        feedback.force = True
        try:
            run_nbgrader(feedback)
        except CourseError as exc:
            outcome.reasons.append(f"no feedback: {exc}")
    outcome.seconds = time.perf_counter() - start
    return outcome


def _export(course: Course, outcomes: list[Outcome]) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    plugin.to = str(course.root / "grades.csv")
    with Gradebook(course.db_url) as gb:
        plugin.export(gb)
    course.reports.mkdir(exist_ok=True)
    with open(course.reports / "outcomes.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "lesson", "status", "score", "max_score", "reason"])
        for o in outcomes:
            score = "" if o.score is None else f"{o.score:g}"
            writer.writerow([o.student, o.lesson, o.status, score, f"{o.max_score:g}", o.reason])


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


def grade(
    course: Course,
    lessons: list[str] | None = None,
    *,
    students: list[str] | None = None,
    timeout: int | None = None,
    jobs: int | None = None,
    sandbox: bool = True,
    progress: TextIO | None = sys.stderr,
) -> list[Outcome]:
    """Grade every submission of ``lessons`` (all by default) with ``jobs``
    worker processes (default: the number of cores), each kernel in a
    sandbox unless ``sandbox`` is False (then student code runs with the
    grader's rights: for trusted notebooks only). See the module docstring
    for the steps and their side effects. Outcomes come back in submission
    order whatever order they finished in. Raises :class:`CourseError`
    (before touching anything) when the sandbox cannot be set up, and after
    the run when the gradebook fails SQLite's integrity check."""
    from .pool import grade_in_parallel
    from .sandbox import Sandbox

    chosen = course.resolve_lessons(lessons)
    todo = find_submissions(course, chosen, students)
    jobs = min(jobs or os.cpu_count() or 1, len(todo))
    with ExitStack() as stack:
        box = stack.enter_context(Sandbox(jobs)) if sandbox else None
        if box is not None:
            box.trial()
        stack.enter_context(_only_run(course))
        backup_gradebook(course)
        finished: dict[tuple[str, str], Outcome] = {}
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="course-grade-"))
        generate(
            course, sorted({lesson for lesson, _ in todo}), Path(tmp) / "release", course.db_url
        )
        for outcome in grade_in_parallel(course, todo, jobs=jobs, timeout=timeout, sandbox=box):
            finished[(outcome.lesson, outcome.student)] = outcome
            if progress:
                _report(progress, len(finished), len(todo), outcome)
        outcomes = [finished[pair] for pair in todo]
        _export(course, outcomes)
        from .report import write_reports

        write_reports(course, outcomes)
        _single_file(course)
        integrity = check_gradebook(course)
        if integrity != "ok":
            raise CourseError(f"{course.grading.gradebook} failed its integrity check: {integrity}")
    return outcomes


def _single_file(course: Course) -> None:
    """Leave the gradebook one self-contained file: the workers use SQLite's
    WAL mode (:mod:`course.grading.gradebook`); switching back to the default
    journal folds the ``-wal`` file in and removes it, so copying
    ``gradebook.db`` alone copies every grade."""
    db = sqlite3.connect(course.grading.gradebook)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def check_gradebook(course: Course) -> str:
    """SQLite's ``PRAGMA integrity_check`` of the gradebook ("ok" when sound)."""
    db = sqlite3.connect(f"file:{course.grading.gradebook}?mode=ro", uri=True)
    try:
        return "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
    finally:
        db.close()


def _report(stream: TextIO, done: int, total: int, outcome: Outcome) -> None:
    """Progress: on a terminal, one bar for the whole class redrawn in place,
    with a line kept for each submission that is not plainly graded; in a
    log (not a terminal), one line per submission."""
    score = "-" if outcome.score is None else f"{outcome.score:g}"
    line = (
        f"[{done:>{len(str(total))}}/{total}] {outcome.lesson} {outcome.student}: "
        f"{outcome.status} {score}/{outcome.max_score:g} ({outcome.seconds:.1f}s)"
    )
    if not stream.isatty():
        print(line, file=stream, flush=True)
        return
    if outcome.status != GRADED or outcome.reasons:
        print(f"\r\x1b[K{line}: {outcome.reason}", file=stream)
    width = 30
    filled = width * done // total
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done == total else ""
    print(f"\r\x1b[Kgrading [{bar}] {done}/{total}", end=end, file=stream, flush=True)


def format_table(outcomes: list[Outcome]) -> str:
    """A per-student, per-exercise table, one block per lesson."""
    blocks = []
    for lesson in sorted({o.lesson for o in outcomes}):
        rows = [o for o in outcomes if o.lesson == lesson]
        cells = sorted({c for o in rows for c in o.cells})
        header = ["student", *cells, "total", "outcome"]
        table = [header]
        for o in rows:
            line = [o.student]
            for c in cells:
                s, m = o.cells.get(c, (None, 0))
                line.append(f"{'-' if s is None else f'{s:g}'}/{m:g}")
            total = "-" if o.score is None else f"{o.score:g}"
            status = o.status + (f": {o.reason}" if o.reason else "")
            table.append([*line, f"{total}/{o.max_score:g}", status])
        widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
        text = [f"== {lesson} =="]
        for r in table:
            text.append(
                "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) + "  " + r[-1]
            )
        blocks.append("\n".join(text))
    return "\n\n".join(blocks)
