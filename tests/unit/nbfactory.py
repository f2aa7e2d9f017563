"""Small in-memory notebooks for unit tests."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def nbgrader(gid: str, **kw: object) -> dict:
    meta = {
        "grade": False,
        "grade_id": gid,
        "locked": False,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    meta.update(kw)
    return {"nbgrader": meta}


SETUP = 'from course.lesson import start_lesson\nstart_lesson("00_tiny")'
SOLUTION = "%%writefile tiny.py\n### BEGIN SOLUTION\ndef answer():\n    return 42 * 1000 + 7\n### END SOLUTION"
TEST = (
    '"""Check that answer() is right."""\nimport tiny\nassert tiny.answer() > 0, "answer() should be positive"\n'
    "### BEGIN HIDDEN TESTS\nassert tiny.answer() == 42007, 'the exact answer'\n### END HIDDEN TESTS"
)


def tiny_notebook(
    *,
    setup: str = SETUP,
    solution: str = SOLUTION,
    test: str = TEST,
    markdown: str = "### Exercise 0.1 — tiny",
):
    return new_notebook(
        cells=[
            new_markdown_cell("# 00 · Tiny\n\n**Time:** about 15 minutes.", id="intro"),
            new_code_cell(setup, id="setup", metadata=nbgrader("setup", locked=True)),
            new_markdown_cell(markdown, id="ex"),
            new_code_cell(solution, id="sol", metadata=nbgrader("ex0_1_tiny", solution=True)),
            new_code_cell(
                test,
                id="test",
                metadata=nbgrader("ex0_1_tiny_test", grade=True, locked=True, points=2),
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def printing_notebook(code: str, printed: str):
    """One code cell whose stored output is ``printed`` on stdout (for nbval)."""
    cell = new_code_cell(code, execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text=printed)]
    return new_notebook(cells=[cell])


def tiny_course(root):
    """A course root holding lesson ``00_tiny``: the tiny notebook as the
    source, and a release notebook made from it by hand as nbgrader would
    (solution replaced by the stub, hidden tests removed). No nbgrader run."""
    import copy
    from pathlib import Path

    from course import notebooks as nbs
    from course.coursedir import Course

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n", encoding="utf-8")
    course = Course(root)
    source = nbs.normalise(tiny_notebook())
    path = course.source_notebook("00_tiny")
    path.parent.mkdir(parents=True, exist_ok=True)
    nbs.write(source, path)
    release = copy.deepcopy(source)
    for cell in release.cells:
        text = nbs.cell_text(cell)
        if nbs.is_solution(cell):
            cell.source = text.split("\n", 1)[0] + "\n# YOUR CODE HERE\nraise NotImplementedError()"
        elif nbs.is_graded_test(cell):
            cell.source = "\n".join(nbs.lines_outside_markers(cell))
    path = course.release_notebook("00_tiny")
    path.parent.mkdir(parents=True, exist_ok=True)
    nbs.write(release, path)
    return course
