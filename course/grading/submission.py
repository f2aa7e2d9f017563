"""Grading one submission: an ordered list of small steps.

:func:`grade_one` runs :data:`STEPS` in order on a :class:`Work` record.
A step that finds the submission cannot be graded automatically sets the
outcome (``missing`` or ``needs manual grading``, with the reason) and the
remaining *grading* steps are skipped; the *recording* steps always run, so
every submission ends with a gradebook entry (unless missing), a
formgrader view, an outcome record and a feedback page. Nothing here runs
student code except through a box (:mod:`course.grading.sandbox`), one
check at a time.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..coursedir import Course
from . import gradebook
from .answers import Answer, Unreadable, read_submission, tampering
from .autograded import write_autograded
from .execute import run_check
from .feedback import write_feedback
from .outcome import CellScore, Outcome, Status
from .sandbox import Box
from .spec import LessonSpec, lesson_spec
from .tripwires import tripwires

__all__ = ["STEPS", "Work", "grade_one"]


@dataclass
class Work:
    """One submission on its way through :data:`STEPS`."""

    course: Course
    spec: LessonSpec
    outcome: Outcome
    box: Box
    slot: int
    timeout: float
    budget: float
    answers: list[Answer] | None = None
    timestamp: datetime | None = None
    stopped: bool = False  # the grading steps are over (set with the outcome)
    started: float = field(default_factory=time.monotonic)

    @property
    def folder(self) -> Path:
        return self.course.submitted / self.outcome.student / self.spec.lesson

    @property
    def notebook(self) -> Path:
        return self.folder / f"{self.spec.lesson}.ipynb"

    def stop(self, status: Status, reason: str) -> None:
        self.outcome.status = status
        self.outcome.reasons.append(reason)
        self.stopped = True


def refuse_links(work: Work) -> None:
    """A submission holding a symbolic link is not read at all (reading
    through it could reach ``source/`` or another student's work)."""
    for root, dirs, files in os.walk(work.folder, followlinks=False):
        for name in dirs + files:
            if os.path.islink(os.path.join(root, name)):
                work.stop(
                    Status.MANUAL,
                    f"the submission contains symbolic links ({name}); not read",
                )
                return


def find_notebook(work: Work) -> None:
    """The lesson's notebook must be there, and be a regular file."""
    try:
        mode = os.lstat(work.notebook).st_mode
    except FileNotFoundError:
        others = sorted(p.name for p in work.folder.glob("*.ipynb"))
        if others:
            work.stop(
                Status.MANUAL,
                f"no notebook named {work.notebook.name}; found {', '.join(others)}",
            )
        else:
            work.stop(Status.MISSING, "no notebook was submitted (scored 0)")
        return
    if not stat.S_ISREG(mode):
        work.stop(Status.MANUAL, f"{work.notebook.name} is not a regular file; not read")


def read_timestamp(work: Work) -> None:
    """nbgrader's ``collect`` leaves the submission time in ``timestamp.txt``."""
    from nbgrader.utils import parse_utc

    path = work.folder / "timestamp.txt"
    if not path.is_file() or path.stat().st_size > 1000:
        return
    try:
        work.timestamp = parse_utc(path.read_text(encoding="utf-8").strip())
    except (ValueError, OverflowError, UnicodeDecodeError):
        work.outcome.reasons.append("timestamp.txt could not be read; no submission time recorded")


def read_answers(work: Work) -> None:
    """Take the answers out of the notebook (as data; nothing runs)."""
    try:
        submission = read_submission(work.notebook, work.spec)
    except Unreadable as exc:
        work.stop(Status.MANUAL, str(exc))
        return
    work.answers = submission.answers
    work.outcome.reasons += submission.notes
    work.outcome.reasons += tampering(work.spec, submission)
    work.outcome.unanswered = [a.grade_id for a in submission.answers if not a.answered]


def flag_tripwires(work: Work) -> None:
    """Answers that reach for the kernel or the grader are flagged for review."""
    for answer in work.answers or []:
        if answer.path.endswith(".py"):
            for why in tripwires(answer.text):
                work.outcome.flags.append(f"review {answer.grade_id}: {why}")


def run_checks(work: Work) -> None:
    """Each graded test cell in a fresh process, within the notebook's budget.
    A check whose exercise was not answered at all is not run."""
    spec, outcome = work.spec, work.outcome
    assert work.answers is not None
    unanswered = set(outcome.unanswered)
    timeouts, notes = 0, []
    for check in spec.checks:
        exercise = spec.exercise_of(check.grade_id)
        if exercise and exercise.answers and set(exercise.answers) <= unanswered:
            outcome.cells[check.grade_id] = CellScore(
                0.0, check.points, f"{exercise.key} is not answered yet."
            )
            continue
        if time.monotonic() - work.started > work.budget:
            outcome.cells[check.grade_id] = CellScore(
                0.0,
                check.points,
                f"Not run: this notebook's time budget ({work.budget:g} s) was used up.",
            )
            notes.append(f"time budget of {work.budget:g} s used up")
            continue
        result = run_check(work.box, work.slot, spec, work.answers, check, work.timeout)
        notes += [n for n in result.notes if n not in notes]
        if result.setup_failed:
            work.stop(
                Status.MANUAL,
                f"the course's set-up failed while checking {check.grade_id}: {result.message}",
            )
            outcome.cells = {c.grade_id: CellScore(None, c.points) for c in spec.checks}
            return
        if "timed out" in result.message:
            timeouts += 1
        if result.tampered:
            outcome.flags.append(f"review {check.grade_id}: {result.message}")
        outcome.cells[check.grade_id] = CellScore(
            check.points if result.passed else 0.0, check.points, result.message, result.hidden
        )
    if timeouts:
        outcome.reasons.append(f"{timeouts} check(s) timed out")
    outcome.reasons += [n for n in dict.fromkeys(notes)]


def unscored(work: Work) -> None:
    """Cells of a submission that was not graded: None (manual) or 0 (missing)."""
    if not work.stopped:
        return
    score = 0.0 if work.outcome.status is Status.MISSING else None
    for check in work.spec.checks:
        work.outcome.cells.setdefault(check.grade_id, CellScore(score, check.points))


def record_grades(work: Work) -> None:
    gradebook.record(work.course, work.spec, work.outcome, work.timestamp)


def record_views(work: Work) -> None:
    """The formgrader's view and the outcome record; feedback unless missing."""
    work.outcome.seconds = time.monotonic() - work.started
    write_autograded(work.course, work.spec, work.outcome, work.answers)
    if work.outcome.status is not Status.MISSING:
        write_feedback(work.course, work.spec, work.outcome, work.answers)


Step = Callable[[Work], None]

#: The grading steps, in order (each may stop the rest of them), then the
#: recording steps, which always run.
# NB: refuse_links comes first: nothing may be read through a link.
# NB: read_answers before flag_tripwires and run_checks, which use its answers.
GRADING: tuple[Step, ...] = (
    refuse_links,
    find_notebook,
    read_timestamp,
    read_answers,
    flag_tripwires,
    run_checks,
)
RECORDING: tuple[Step, ...] = (unscored, record_grades, record_views)
STEPS = GRADING + RECORDING


def grade_one(
    course: Course,
    lesson: str,
    student: str,
    *,
    box: Box,
    slot: int,
    timeout: float,
    budget: float,
) -> Outcome:
    """Grade one submission (see the module docstring). Side effects: each
    step's (gradebook, ``autograded/``, ``feedback/``, processes in the
    box). Never raises for anything the submission contains."""
    work = Work(
        course, lesson_spec(course, lesson), Outcome(student, lesson), box, slot, timeout, budget
    )
    for step in GRADING:
        if work.stopped:
            break
        step(work)
    for step in RECORDING:
        step(work)
    return work.outcome
