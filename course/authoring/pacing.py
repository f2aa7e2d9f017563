"""How long a lesson takes: one formula, used for every lesson.

A lesson's *core path* is every cell not tagged ``going-further``. Its time
is reading its prose, running and reading its demo cells, and doing its
exercises::

    minutes = words / WORDS_PER_MINUTE
            + demo code cells * MINUTES_PER_CODE_CELL
            + exercises * MINUTES_PER_EXERCISE

rounded up to a multiple of 5. Words are those of the core markdown cells
(exercise statements included); demo code cells are the core code cells
other than the set-up cell, answer cells and test cells (an exercise's time
covers those). The estimate is at least the generous lower bound reviewers
use from outside (words / 100 + 10 minutes per exercise). The core path of
every lesson must fit :data:`CORE_LIMIT`; ``going-further`` sections are
extra, and their time is reported separately.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from nbformat import NotebookNode

from .. import notebooks as nbs

__all__ = [
    "CORE_LIMIT",
    "GOING_FURTHER",
    "MINUTES_PER_CODE_CELL",
    "MINUTES_PER_EXERCISE",
    "WORDS_PER_MINUTE",
    "Pace",
    "pace",
]

WORDS_PER_MINUTE = 100
MINUTES_PER_CODE_CELL = 0.5
MINUTES_PER_EXERCISE = 10
CORE_LIMIT = 60
#: The cell tag of optional depth ("Going further" sections).
GOING_FURTHER = "going-further"

_EXERCISE = re.compile(r"^#{2,4}\s*Exercise\s+\d", re.MULTILINE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Pace:
    """What the formula counts in one part (core or going further) of a lesson."""

    words: int
    code_cells: int
    exercises: int

    @property
    def exact(self) -> float:
        return (
            self.words / WORDS_PER_MINUTE
            + self.code_cells * MINUTES_PER_CODE_CELL
            + self.exercises * MINUTES_PER_EXERCISE
        )

    @property
    def minutes(self) -> int:
        """The estimate, rounded up to a multiple of 5 minutes."""
        return 5 * math.ceil(self.exact / 5) if self.exact else 0


def _is_going_further(cell: NotebookNode) -> bool:
    return GOING_FURTHER in cell.get("metadata", {}).get("tags", [])


def pace(nb: NotebookNode, *, going_further: bool = False) -> Pace:
    """Count the core path of ``nb`` (or, with ``going_further``, only the
    cells tagged ``going-further``). No side effects."""
    words = code = exercises = 0
    for cell in nb.cells:
        if _is_going_further(cell) != going_further:
            continue
        text = nbs.cell_text(cell)
        if cell.cell_type == "markdown":
            words += len(_COMMENT.sub("", text).split())
            exercises += len(_EXERCISE.findall(text))
        elif cell.cell_type == "code":
            if nbs.grade_id(cell) == "setup" or nbs.is_solution(cell) or nbs.is_graded_test(cell):
                continue
            code += 1
    return Pace(words, code, exercises)
