"""Read a submitted notebook as data and take its answers out of it.

Nothing here runs anything the student wrote. A submission is read as JSON
(bounded in size), its cells are matched to the lesson's answer cells by
nbgrader ``grade_id``, and each answer cell's ``%%writefile`` body becomes an
:class:`Answer`: the file it writes is the one named in the *release*
notebook, whatever the student's line says (a different name is noted).
Everything else in the notebook (added cells, edited demo cells, outputs) is
ignored. A notebook that cannot be read, or whose answer cells cannot be
told apart, raises :class:`Unreadable` with the reason, in the instructor's
words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .spec import STUB, LessonSpec, parse_writefile, writefile_body

__all__ = ["MAX_ANSWER", "MAX_NOTEBOOK", "Answer", "Submission", "Unreadable", "read_submission"]

#: Largest notebook file read (bytes); a larger one goes to manual grading.
MAX_NOTEBOOK = 20 * 2**20
#: Largest answer cell taken (characters).
MAX_ANSWER = 2**20


class Unreadable(Exception):
    """The submission cannot be graded automatically; the message says why."""


@dataclass(frozen=True)
class Answer:
    """One answer: the file to write, as ``%%writefile`` would."""

    grade_id: str
    path: str
    text: str
    append: bool
    answered: bool  # False: the cell is as the student was given it


@dataclass
class Submission:
    """What was read from a submitted notebook."""

    answers: list[Answer]
    notes: list[str] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)  # every cell, as read (for tampering notes)


def _text(source: object) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    raise Unreadable("a cell's source is neither text nor a list of lines")


def _cells(path: Path) -> list[dict]:
    size = path.stat().st_size
    if size > MAX_NOTEBOOK:
        raise Unreadable(
            f"the notebook is larger than {MAX_NOTEBOOK // 2**20} MB ({size:,} bytes): "
            "look at it by hand"
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Unreadable(f"the notebook is not valid UTF-8 text ({exc.reason})") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Unreadable(f"the notebook is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Unreadable("the file is JSON but not a notebook (no list of cells)")
    cells = []
    for cell in data["cells"]:
        if not isinstance(cell, dict):
            raise Unreadable("the notebook holds a cell that is not a JSON object")
        metadata = cell.get("metadata")
        meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        cells.append(
            {
                "cell_type": cell.get("cell_type"),
                "grade_id": grade_id if isinstance(grade_id, str) else None,
                "source": _text(cell.get("source", "")),
            }
        )
    return cells


def _body(spec_path: str, text: str, grade_id: str, notes: list[str]) -> str:
    """The file contents ``%%writefile`` would write from ``text``."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)  # IPython drops leading blank lines before a cell magic
    first = lines[0] if lines else ""
    target = parse_writefile(first.rstrip())
    if target is None:
        notes.append(
            f"answer cell {grade_id} has no %%writefile line; its whole text was graded as "
            f"{spec_path}"
        )
        return writefile_body("\n".join(lines))
    if target[0] != spec_path:
        notes.append(
            f"answer cell {grade_id} writes {target[0]!r}; it was graded as {spec_path}, "
            "the name the exercise asks for"
        )
    return writefile_body("\n".join(lines[1:]))


def read_submission(path: Path, spec: LessonSpec) -> Submission:
    """Read ``path`` and take out the answers of ``spec``'s lesson.

    Raises :class:`Unreadable` when the file is too large, not a notebook,
    or an answer cell is missing or present twice (its nbgrader metadata
    was removed or the cell copied): nobody can tell which text is the
    answer. No side effects.
    """
    cells = _cells(path)
    by_id: dict[str, list[dict]] = {}
    for cell in cells:
        if cell["grade_id"] is not None:
            by_id.setdefault(cell["grade_id"], []).append(cell)
    lost = [a.grade_id for a in spec.answers if not by_id.get(a.grade_id)]
    if lost:
        raise Unreadable(
            f"the nbgrader metadata of answer cell(s) {', '.join(lost)} was removed (or the "
            "cells deleted), so nobody can tell which cell holds which answer"
        )
    twice = [a.grade_id for a in spec.answers if len(by_id[a.grade_id]) > 1]
    if twice:
        raise Unreadable(
            f"answer cell(s) {', '.join(twice)} appear more than once, so nobody can tell "
            "which one is the answer"
        )
    submission = Submission(answers=[], cells=cells)
    for answer in spec.answers:
        cell = by_id[answer.grade_id][0]
        if cell["cell_type"] != "code":
            raise Unreadable(
                f"answer cell {answer.grade_id} was turned into a {cell['cell_type']} cell"
            )
        text = cell["source"]
        if len(text) > MAX_ANSWER:
            raise Unreadable(
                f"answer cell {answer.grade_id} is longer than {MAX_ANSWER:,} characters"
            )
        body = _body(answer.path, text, answer.grade_id, submission.notes)
        answered = body.strip() != STUB
        submission.answers.append(
            Answer(answer.grade_id, answer.path, body, answer.append, answered)
        )
    return submission


def tampering(spec: LessonSpec, submission: Submission) -> list[str]:
    """Locked cells (set-up, tests, demos with ids) the student changed or
    deleted, compared with the release notebook. They are ignored anyway
    (grading uses the course's own cells); this only says it happened."""
    handed_in: dict[str, str] = {}
    for cell in submission.cells:
        if cell["grade_id"] is not None:
            handed_in.setdefault(cell["grade_id"], cell["source"])
    deleted = sorted(set(spec.locked) - set(handed_in))
    edited = sorted(g for g in spec.locked if g in handed_in and handed_in[g] != spec.locked[g])
    notes = []
    if deleted:
        notes.append(
            f"deleted locked cell(s) {', '.join(deleted)} (ignored: the course's own were used)"
        )
    if edited:
        notes.append(
            f"edited locked cell(s) {', '.join(edited)} (ignored: the course's own were used)"
        )
    return notes
