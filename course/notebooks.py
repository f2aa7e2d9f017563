"""Reading, writing, inspecting and normalising the course's notebooks.

Pure functions over ``nbformat`` notebooks, plus :func:`read` and
:func:`write`, which are the only functions here that touch the disk.
Notebooks are written the way nbformat writes them (sorted keys, one-space
indent, a final newline), so writing the same notebook twice gives the
same bytes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "HIDDEN_BEGIN",
    "HIDDEN_END",
    "SOLUTION_BEGIN",
    "SOLUTION_END",
    "cell_text",
    "grade_id",
    "hidden_test_lines",
    "is_graded_test",
    "is_solution",
    "iter_nbgrader_cells",
    "lines_outside_markers",
    "normalise",
    "read",
    "solution_as_student_writes_it",
    "solution_lines",
    "strip_widget_state",
    "write",
]

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"

# Cell metadata worth keeping in a stored notebook; the rest is editor noise.
_KEEP_CELL_METADATA = {"tags", "nbgrader", "deletable", "editable"}
_LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


def read(path: str | Path) -> NotebookNode:
    """Read a notebook (nbformat 4). Raises on invalid JSON or schema."""
    return nbformat.read(str(path), as_version=4)


def write(nb: NotebookNode, path: str | Path) -> None:
    """Write ``nb`` to ``path`` as nbformat does (deterministic bytes)."""
    nbformat.write(nb, str(path))


def cell_text(cell: NotebookNode) -> str:
    """The cell's source as one string (nbformat may store a list)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader grade id, or None for an ordinary cell."""
    return _nbgrader(cell).get("grade_id")


def is_solution(cell: NotebookNode) -> bool:
    """Is this an nbgrader solution cell (where the student writes)?"""
    return bool(_nbgrader(cell).get("solution"))


def is_graded_test(cell: NotebookNode) -> bool:
    """Is this an autograded test cell (graded, code, not a solution)?"""
    meta = _nbgrader(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def iter_nbgrader_cells(nb: NotebookNode) -> Iterator[NotebookNode]:
    """Yield the cells that carry nbgrader metadata, in order."""
    for cell in nb.cells:
        if grade_id(cell) is not None:
            yield cell


def _lines_between(text: str, begin: str, end: str) -> list[str]:
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == begin:
            inside = True
        elif stripped == end:
            inside = False
        elif inside:
            out.append(line)
    return out


def lines_outside_markers(cell: NotebookNode) -> list[str]:
    """Lines outside every solution and hidden-test section (markers excluded)."""
    out: list[str] = []
    inside = False
    for line in cell_text(cell).splitlines():
        stripped = line.strip()
        if stripped in (SOLUTION_BEGIN, HIDDEN_BEGIN):
            inside = True
        elif stripped in (SOLUTION_END, HIDDEN_END):
            inside = False
        elif not inside:
            out.append(line)
    return out


def solution_lines(cell: NotebookNode) -> list[str]:
    """Lines between the solution markers of a cell."""
    return _lines_between(cell_text(cell), SOLUTION_BEGIN, SOLUTION_END)


def hidden_test_lines(cell: NotebookNode) -> list[str]:
    """Lines between the hidden-test markers of a cell."""
    return _lines_between(cell_text(cell), HIDDEN_BEGIN, HIDDEN_END)


def solution_as_student_writes_it(cell: NotebookNode) -> str:
    """The source cell's text with the solution marker lines removed."""
    keep = [
        line
        for line in cell_text(cell).splitlines()
        if line.strip() not in (SOLUTION_BEGIN, SOLUTION_END)
    ]
    return "\n".join(keep)


def strip_widget_state(nb: NotebookNode) -> bool:
    """Remove saved widget state from ``nb`` in place (design.md trap 9).

    Returns True when something was removed.
    """
    return nb.metadata.pop("widgets", None) is not None


def _merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same stream: the kernel may
    split one print into several messages, differently on each run."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def normalise(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` fit to be stored: execution counts renumbered 1..N
    in cell order, no editor or timing metadata, no widget state, no
    interpreter version, and split stream outputs joined."""
    nb = copy.deepcopy(nb)
    strip_widget_state(nb)
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": nb.metadata.get(
                "kernelspec",
                {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            ),
            "language_info": dict(_LANGUAGE_INFO),
        }
    )
    count = 0
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in _KEEP_CELL_METADATA}
        )
        if cell.cell_type == "code":
            # nbval's strict mode needs a count on every cell with outputs;
            # numbering the code cells in order keeps the counts deterministic.
            count += 1
            cell.execution_count = count
            cell.outputs = _merge_streams(cell.get("outputs", []))
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = count
                output.pop("transient", None)
    return nb
