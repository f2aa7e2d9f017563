"""Unit tests of course.authoring.check.lint_notebook: each convention breaks the lint."""

from __future__ import annotations

import pytest

from course import notebooks as nbs
from course.authoring.check import lint_notebook

from .nbfactory import SOLUTION, TEST, tiny_notebook


def _lint(tmp_path, nb) -> list[str]:
    path = tmp_path / "00_tiny.ipynb"
    nbs.write(nb, path)
    return lint_notebook(path)


def test_a_well_formed_notebook_passes(tmp_path):
    """Does the tiny, well-formed notebook lint clean?"""
    assert _lint(tmp_path, nbs.normalise(tiny_notebook())) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda nb: nb.cells[4].metadata.nbgrader.update(grade_id="cell-0a1b2c3d4e"),
            "not readable",
        ),
        (
            lambda nb: setattr(nb.cells[4], "source", TEST.split("### BEGIN")[0]),
            "without hidden tests",
        ),
        (
            lambda nb: setattr(nb.cells[3], "source", SOLUTION.replace("### END SOLUTION", "")),
            "not closed",
        ),
        (
            lambda nb: setattr(
                nb.cells[3], "source", "### BEGIN SOLUTION\n%%writefile tiny.py\n### END SOLUTION"
            ),
            "first line",
        ),
        (
            lambda nb: setattr(nb.cells[2], "source", "### Exercise 0.1 — tiny (2 points)"),
            "points written",
        ),
        (
            lambda nb: setattr(
                nb.cells[1], "source", nb.cells[1].source + "\n# NBVAL_IGNORE_OUTPUT"
            ),
            "use a cell tag",
        ),
        (lambda nb: nb.cells[4].metadata.nbgrader.update(points=0), "without points"),
        (lambda nb: setattr(nb.cells[4], "source", TEST.split("\n", 1)[1]), "say what it checks"),
        (lambda nb: nb.cells[1].metadata.nbgrader.update(locked=False), "must be locked"),
        (
            lambda nb: nb.cells[2].metadata.setdefault("tags", []).append("nbval-ignore"),
            "unknown nbval tag",
        ),
        (
            lambda nb: setattr(
                nb.cells[4], "source", TEST.replace(', "answer() should be positive"', "")
            ),
            "assert without a message",
        ),
        (
            lambda nb: setattr(nb.cells[4], "source", TEST.replace("import tiny\n", "")),
            "uses tiny, defined elsewhere",
        ),
        (
            lambda nb: setattr(
                nb.cells[4], "source", TEST.replace("import tiny", "%load_ext tiny")
            ),
            "plain Python",
        ),
        (
            lambda nb: setattr(nb.cells[2], "source", "Now write tiny.py."),
            "Exercise N.M",
        ),
        (
            lambda nb: setattr(nb.cells[0], "source", "# 00 · Tiny\n\n**Time:** about 45 minutes."),
            "the formula gives 15",
        ),
        (
            lambda nb: nb.cells[2].metadata.setdefault("tags", []).append("going-further"),
            "Going further",
        ),
        (
            lambda nb: nb.cells[3].metadata.setdefault("tags", []).append("going-further"),
            "cannot be in a going-further section",
        ),
    ],
)
def test_each_convention_is_enforced(tmp_path, change, expected):
    """Does breaking one convention produce a problem that names the file and says what is wrong?"""
    nb = nbs.normalise(tiny_notebook())
    change(nb)
    problems = _lint(tmp_path, nb)
    assert problems, "the lint found nothing"
    assert all(p.startswith(str(tmp_path / "00_tiny.ipynb")) for p in problems)
    assert any(expected in p for p in problems), problems
