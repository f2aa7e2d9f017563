"""What the formgrader shows of a graded submission, and the outcome record.

nbgrader's formgrader renders ``autograded/<student>/<lesson>/<lesson>.ipynb``
with nbconvert, which does not sanitise (design.md trap 15): anything active
in that notebook runs in the instructor's browser session. So the notebook
written here is built from data, never copied from the submission: the
release notebook's own cells (the course's text), each answer cell holding
the student's answer as *code text* (shown, never run, never rendered as
HTML), and each graded test cell the course's visible code with one plain
output saying what its check gave. No output of any student cell, no
student-added cell, no hidden test code.

Next to it, ``outcome.json`` records the outcome (status, reasons, flags,
unanswered exercises, each cell's message) so that the reports can be
rebuilt for the whole class after any run (:mod:`course.grading.report`).
"""

from __future__ import annotations

import copy
import html
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell, new_notebook, new_output

from .. import notebooks as nbs
from ..coursedir import Course
from .answers import Answer
from .outcome import Outcome, Status
from .spec import LessonSpec

__all__ = ["OUTCOME_FILE", "read_outcome", "write_autograded"]

#: The outcome record's name, beside the autograded notebook.
OUTCOME_FILE = "outcome.json"


def _folder(course: Course, lesson: str, student: str) -> Path:
    return course.autograded / student / lesson


def _test_output(outcome: Outcome, grade_id: str) -> list:
    cell = outcome.cells.get(grade_id)
    if cell is None or cell.score is None:
        return [
            new_output(
                "stream", name="stdout", text="Not graded automatically: needs manual grading.\n"
            )
        ]
    if cell.full:
        return [
            new_output("stream", name="stdout", text=f"Passed: {cell.score:g} / {cell.points:g}.\n")
        ]
    return [
        new_output(
            "error",
            ename="CheckFailed",
            evalue=cell.message,
            traceback=[f"{cell.score:g} / {cell.points:g}: {cell.message}"],
        )
    ]


def write_autograded(
    course: Course, spec: LessonSpec, outcome: Outcome, answers: list[Answer] | None
) -> Path:
    """Write the autograded notebook and ``outcome.json`` (module docstring).
    ``answers`` is None when the submission could not be read.

    Side effects: replaces ``autograded/<student>/<lesson>/`` with those
    two files. Returns the notebook's path.
    """
    import shutil

    folder = _folder(course, spec.lesson, outcome.student)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    assert spec.release is not None
    given = {a.grade_id: a for a in answers or []}
    cells = []
    if answers is None or outcome.status is Status.MANUAL:
        reasons = "\n".join(f"- {html.escape(r)}" for r in outcome.reasons) or "- (no reason given)"
        cells.append(
            new_markdown_cell(
                "**Grading note (written by `course grade`):** this submission needs manual "
                f"grading.\n\n{reasons}\n\nThe submitted file is in "
                f"`submitted/{html.escape(outcome.student)}/{spec.lesson}/`."
            )
        )
    for cell in spec.release.cells:
        new = copy.deepcopy(cell)
        gid = nbs.grade_id(cell)
        if new.cell_type == "code":
            new.outputs = []
            new.execution_count = None
        if gid in given:
            answer = given[gid]
            flag = " -a" if answer.append else ""
            new.source = f"%%writefile{flag} {answer.path}\n{answer.text}"
        elif new.cell_type == "code" and nbs.is_graded_test(cell):
            new.outputs = _test_output(outcome, gid or "")
        cells.append(new)
    nb = new_notebook(cells=cells, metadata=copy.deepcopy(spec.release.metadata))
    path = folder / f"{spec.lesson}.ipynb"
    nbformat.write(nb, str(path))
    (folder / OUTCOME_FILE).write_text(
        json.dumps(outcome.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path


def read_outcome(course: Course, lesson: str, student: str) -> Outcome | None:
    """The outcome recorded for a submission, or None (never graded, or the
    record is unreadable)."""
    path = _folder(course, lesson, student) / OUTCOME_FILE
    try:
        return Outcome.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
