"""The student's workspace (course.workspace): copies made once, never
overwritten; an updated lesson gets the student's answers carried over."""

from __future__ import annotations

from course import notebooks as nbs
from course.workspace import sync_workspace

from .nbfactory import tiny_course

ANSWER = "%%writefile tiny.py\ndef answer():\n    return 42007"


def _answer(path) -> str:
    return next(nbs.cell_text(c) for c in nbs.read(path).cells if nbs.is_solution(c))


def test_first_use_copies_each_lesson_and_later_runs_change_nothing(tmp_path):
    """Does the first sync copy each release notebook, and a second one leave the student's edits alone?"""
    course = tiny_course(tmp_path / "course")
    work = tmp_path / "work"
    changes = sync_workspace(course, work)
    mine = work / "00_tiny" / "00_tiny.ipynb"
    assert [c.lesson for c in changes] == ["00_tiny"]
    assert mine.read_bytes() == course.release_notebook("00_tiny").read_bytes()
    nb = nbs.read(mine)
    next(c for c in nb.cells if nbs.is_solution(c)).source = ANSWER
    nbs.write(nb, mine)
    assert sync_workspace(course, work) == []
    assert _answer(mine) == ANSWER


def test_an_updated_lesson_carries_the_answers_over_and_keeps_the_old_copy(tmp_path):
    """When the course's release notebook changes, does the student get the new notebook with their answer in it, and their old notebook kept beside it?"""
    course = tiny_course(tmp_path / "course")
    work = tmp_path / "work"
    sync_workspace(course, work)
    mine = work / "00_tiny" / "00_tiny.ipynb"
    nb = nbs.read(mine)
    next(c for c in nb.cells if nbs.is_solution(c)).source = ANSWER
    nbs.write(nb, mine)
    release = nbs.read(course.release_notebook("00_tiny"))
    release.cells[0].source += "\n\nA sentence the course added."
    nbs.write(release, course.release_notebook("00_tiny"))
    changes = sync_workspace(course, work)
    assert len(changes) == 1 and "carried over" in changes[0].message
    assert "A sentence the course added." in nbs.cell_text(nbs.read(mine).cells[0])
    assert _answer(mine) == ANSWER
    kept = [p for p in (work / "00_tiny").glob("00_tiny.*.ipynb")]
    assert len(kept) == 1 and _answer(kept[0]) == ANSWER
