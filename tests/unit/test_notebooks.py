"""Unit tests of course.notebooks."""

from __future__ import annotations

import nbformat

from course import notebooks as nbs

from .nbfactory import tiny_notebook


def test_cell_kinds_are_recognised():
    """Are solution, test and ordinary cells told apart?"""
    nb = tiny_notebook()
    kinds = [(nbs.grade_id(c), nbs.is_solution(c), nbs.is_graded_test(c)) for c in nb.cells]
    assert kinds == [
        (None, False, False),
        ("setup", False, False),
        (None, False, False),
        ("ex0_1_tiny", True, False),
        ("ex0_1_tiny_test", False, True),
    ]


def test_marker_sections_are_extracted():
    """Are solution and hidden-test lines read from between their markers?"""
    nb = tiny_notebook()
    assert nbs.solution_lines(nb.cells[3]) == ["def answer():", "    return 42 * 1000 + 7"]
    assert nbs.hidden_test_lines(nb.cells[4]) == [
        "assert tiny.answer() == 42007, 'the exact answer'"
    ]


def test_lines_outside_markers_keep_the_visible_part():
    """Are only the lines outside solution and hidden sections returned?"""
    nb = tiny_notebook()
    assert nbs.lines_outside_markers(nb.cells[3]) == ["%%writefile tiny.py"]
    assert nbs.lines_outside_markers(nb.cells[4]) == [
        '"""Check that answer() is right."""',
        "import tiny",
        'assert tiny.answer() > 0, "answer() should be positive"',
    ]


def test_solution_as_student_writes_it_drops_only_markers():
    """Does the reference submission keep the %%writefile line and the body?"""
    text = nbs.solution_as_student_writes_it(tiny_notebook().cells[3])
    assert text == "%%writefile tiny.py\ndef answer():\n    return 42 * 1000 + 7"


def test_normalise_renumbers_counts_and_strips_editor_metadata_and_widgets():
    """Does normalising number code cells in order and remove editor metadata, widget state and the Python version?"""
    nb = tiny_notebook()
    nb.metadata["widgets"] = {"state": {}}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    cell = nb.cells[1]
    cell.execution_count = 7
    cell.metadata["collapsed"] = True
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    cell.outputs = [
        nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=7)
    ]
    out = nbs.normalise(nb)
    assert "widgets" not in out.metadata
    assert "version" not in out.metadata["language_info"]
    assert [c.execution_count for c in out.cells if c.cell_type == "code"] == [1, 2, 3]
    assert out.cells[1].outputs[0].execution_count == 1
    assert set(out.cells[1].metadata) == {"nbgrader"}
    assert nb.cells[1].execution_count == 7, "the input notebook must not be changed"


def test_write_is_deterministic(tmp_path):
    """Does writing the same notebook twice give the same bytes?"""
    nb = tiny_notebook()
    nbs.write(nb, tmp_path / "a.ipynb")
    nbs.write(nbs.read(tmp_path / "a.ipynb"), tmp_path / "b.ipynb")
    assert (tmp_path / "a.ipynb").read_bytes() == (tmp_path / "b.ipynb").read_bytes()


def test_normalise_joins_split_stream_outputs():
    """Are consecutive outputs of one stream joined, and different streams kept apart?"""
    nb = tiny_notebook()
    new = nbformat.v4.new_output
    nb.cells[1].outputs = [
        new("stream", name="stdout", text="a"),
        new("stream", name="stdout", text="b\n"),
        new("stream", name="stderr", text="c\n"),
        new("stream", name="stdout", text="d\n"),
    ]
    outs = nbs.normalise(nb).cells[1].outputs
    assert [(o.name, o.text) for o in outs] == [
        ("stdout", "ab\n"),
        ("stderr", "c\n"),
        ("stdout", "d\n"),
    ]
