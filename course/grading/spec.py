"""What a lesson asks for, read from the instructor's notebooks.

A :class:`LessonSpec` holds, from the *source* notebook, the set-up cell and
each graded test cell with its hidden checks (:class:`Check`), and, from
the *release* notebook (what students were given), each answer cell's
``%%writefile`` target (:class:`AnswerSpec`) and every locked cell. Both are
trusted: they come from the course, never from a submission. Exercises are
the markdown headings ``### Exercise N.M — title`` that answers and checks
follow.

:func:`lesson_spec` reads the two notebooks once per version of the files.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from nbformat import NotebookNode

from .. import notebooks as nbs
from ..coursedir import Course, CourseError

__all__ = [
    "STUB",
    "AnswerSpec",
    "Check",
    "Exercise",
    "GivenFile",
    "LessonSpec",
    "lesson_spec",
    "parse_writefile",
    "writefile_body",
]

#: What nbgrader leaves in an answer cell (``ClearSolutions.code_stub``).
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

_EXERCISE = re.compile(
    r"^#{2,4}\s*(Exercise\s+\d+(?:\.\d+)*)\b\s*[\u2014\u2013-]?\s*(.*)$", re.MULTILINE
)


@dataclass(frozen=True)
class AnswerSpec:
    """One answer cell: the file its ``%%writefile`` line writes."""

    grade_id: str
    path: str
    append: bool
    exercise: str


@dataclass(frozen=True)
class GivenFile:
    """A locked ``%%writefile`` cell: a file the lesson gives the student
    (``text`` from the instructor's notebook), written before the answers'
    files that follow it in the notebook."""

    grade_id: str
    path: str
    append: bool
    text: str


@dataclass(frozen=True)
class Check:
    """One graded test cell, hidden checks included."""

    grade_id: str
    source: str
    points: float
    title: str  # what its first line says it checks
    exercise: str
    hidden: tuple[int, int] | None  # 1-based first and last line of the hidden section
    secrets: tuple[str, ...] = ()  # hidden lines that stand nowhere in what students see

    def in_hidden(self, line: int | None) -> bool:
        return (
            self.hidden is not None
            and line is not None
            and self.hidden[0] <= line <= self.hidden[1]
        )

    def visible_line(self, line: int | None) -> str | None:
        """The text of ``line`` when it is a visible line of the cell."""
        lines = self.source.splitlines()
        if line is None or self.in_hidden(line) or not 1 <= line <= len(lines):
            return None
        return lines[line - 1].strip()

    def hidden_lines(self) -> list[str]:
        if self.hidden is None:
            return []
        return self.source.splitlines()[self.hidden[0] - 1 : self.hidden[1]]


@dataclass(frozen=True)
class Exercise:
    """An exercise heading and the answers and checks under it."""

    key: str  # "Exercise 1.2"
    title: str  # the whole heading text, e.g. "Exercise 1.2 — counter.py and tally.py: ..."
    answers: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class LessonSpec:
    """Everything grading needs to know about one lesson (module docstring)."""

    lesson: str
    title: str
    setup: str
    answers: tuple[AnswerSpec, ...]
    files: tuple[AnswerSpec | GivenFile, ...]  # every file to write, in notebook order
    checks: tuple[Check, ...]
    exercises: tuple[Exercise, ...]
    locked: dict[str, str] = field(default_factory=dict)  # grade id -> release text
    release: NotebookNode | None = None  # the release notebook itself

    def check(self, grade_id: str) -> Check:
        return next(c for c in self.checks if c.grade_id == grade_id)

    def exercise_of(self, grade_id: str) -> Exercise | None:
        for ex in self.exercises:
            if grade_id in ex.answers or grade_id in ex.checks:
                return ex
        return None


def writefile_body(rest: str) -> str:
    """What ``%%writefile`` writes for a cell whose text after the magic's
    line is ``rest``: IPython ends every cell with a newline, so a body
    without one gets one."""
    return rest if rest.endswith("\n") else rest + "\n"


def parse_writefile(first_line: str) -> tuple[str, bool] | None:
    """``(path, append)`` of a ``%%writefile [-a] PATH`` line, or None when
    the line is not one."""
    if not first_line.startswith("%%writefile"):
        return None
    try:
        words = shlex.split(first_line[len("%%writefile") :])
    except ValueError:
        return None
    append = False
    rest = []
    for word in words:
        if word in ("-a", "--append"):
            append = True
        else:
            rest.append(word)
    if len(rest) != 1:
        return None
    return rest[0], append


def _hidden_range(text: str) -> tuple[int, int] | None:
    stripped = [ln.strip() for ln in text.splitlines()]
    if nbs.HIDDEN_BEGIN not in stripped:
        return None
    begin = stripped.index(nbs.HIDDEN_BEGIN) + 1
    end = stripped.index(nbs.HIDDEN_END) + 1 if nbs.HIDDEN_END in stripped else len(stripped)
    return begin, end


def _check_title(text: str) -> str:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first.strip().strip("\"'#").strip()


def _title(nb: NotebookNode, lesson: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in nbs.cell_text(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return lesson


def _read(course: Course, lesson: str, source: Path, release: Path) -> LessonSpec:
    src = nbs.read(source)
    rel = nbs.read(release)
    setup = next((nbs.cell_text(c) for c in src.cells if nbs.grade_id(c) == "setup"), None)
    if setup is None:
        raise CourseError(f"{source}: no set-up cell (grade id 'setup')")
    exercises: list[dict] = []
    current = ""
    checks: list[Check] = []
    order: dict[str, str] = {}  # grade id -> exercise key, from the source
    given: dict[str, GivenFile] = {}
    sequence: list[str] = []  # grade ids of %%writefile cells, in notebook order
    for cell in src.cells:
        if cell.cell_type == "markdown":
            for key, rest in _EXERCISE.findall(nbs.cell_text(cell)):
                current = key
                title = f"{key} — {rest.strip()}" if rest.strip() else key
                exercises.append({"key": key, "title": title, "answers": [], "checks": []})
            continue
        gid = nbs.grade_id(cell)
        if gid is None:
            continue
        text = nbs.cell_text(cell)
        first = text.split("\n", 1)[0]
        if nbs.is_solution(cell):
            order[gid] = current
            sequence.append(gid)
            if exercises:
                exercises[-1]["answers"].append(gid)
        elif cell.cell_type == "code" and parse_writefile(first) is not None:
            path, append = parse_writefile(first)  # type: ignore[misc]
            rest = text.split("\n", 1)[1] if "\n" in text else ""
            given[gid] = GivenFile(gid, path, append, writefile_body(rest))
            sequence.append(gid)
        elif nbs.is_graded_test(cell):
            text = nbs.cell_text(cell)
            points = float(cell.metadata.get("nbgrader", {}).get("points", 0) or 0)
            checks.append(
                Check(gid, text, points, _check_title(text), current, _hidden_range(text))
            )
            if exercises:
                exercises[-1]["checks"].append(gid)
    answers = []
    locked = {}
    for cell in rel.cells:
        gid = nbs.grade_id(cell)
        if gid is None:
            continue
        if nbs.is_solution(cell):
            first = nbs.cell_text(cell).splitlines()[0] if nbs.cell_text(cell) else ""
            target = parse_writefile(first)
            if target is None or cell.cell_type != "code":
                raise CourseError(f"{release}: answer cell {gid} does not start with %%writefile")
            answers.append(AnswerSpec(gid, target[0], target[1], order.get(gid, "")))
        else:
            locked[gid] = nbs.cell_text(cell)
    public = {ln.strip() for cell in rel.cells for ln in nbs.cell_text(cell).splitlines()}
    checks = [
        replace(
            c,
            secrets=tuple(
                sorted(
                    {ln.strip() for ln in c.hidden_lines()} - public - {""},
                    key=len,
                    reverse=True,
                )
            ),
        )
        for c in checks
    ]
    by_id: dict[str, AnswerSpec | GivenFile] = {a.grade_id: a for a in answers}
    by_id.update(given)
    return LessonSpec(
        lesson=lesson,
        title=_title(rel, lesson),
        setup=setup,
        answers=tuple(answers),
        files=tuple(by_id[g] for g in sequence if g in by_id),
        checks=tuple(checks),
        exercises=tuple(
            Exercise(e["key"], e["title"], tuple(e["answers"]), tuple(e["checks"]))
            for e in exercises
        ),
        locked=locked,
        release=rel,
    )


@functools.lru_cache(maxsize=32)
def _cached(course: Course, lesson: str, stamps: tuple[int, int]) -> LessonSpec:
    return _read(course, lesson, course.source_notebook(lesson), course.release_notebook(lesson))


def lesson_spec(course: Course, lesson: str) -> LessonSpec:
    """The lesson's spec, read once per version of its two notebooks.
    Raises :class:`CourseError` when the release notebook is missing or an
    answer cell has no ``%%writefile`` line."""
    source, release = course.source_notebook(lesson), course.release_notebook(lesson)
    if not release.is_file():
        raise CourseError(f"{release} is missing: run `course build`")
    return _cached(course, lesson, (source.stat().st_mtime_ns, release.stat().st_mtime_ns))
