"""Feedback for students without the hidden test code (design.md trap 4).

nbgrader's feedback is rendered from the autograded notebook, which holds
the hidden tests in full, and a failing test's traceback quotes the line
that failed. :class:`HideHiddenTests` runs before the HTML export: in each
autograded test cell it replaces the hidden section with one comment line
and each error's traceback with one line saying whether a visible or a
hidden check failed, and its message. Scores (pass/fail per cell) are still
shown by nbgrader's template.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

from . import notebooks as nbs

__all__ = ["HideHiddenTests", "hide_hidden_tests"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_LINE = re.compile(r"(?:Cell In\s*\[\d*\]|<ipython-input-[^>]*>),\s*line (\d+)")


def _hidden_range(lines: list[str]) -> tuple[int, int] | None:
    """1-based first and last line numbers of the hidden section."""
    stripped = [ln.strip() for ln in lines]
    if nbs.HIDDEN_BEGIN not in stripped:
        return None
    begin = stripped.index(nbs.HIDDEN_BEGIN) + 1
    end = stripped.index(nbs.HIDDEN_END) + 1 if nbs.HIDDEN_END in stripped else len(lines)
    return begin, end


def _summarise_error(output, lines: list[str], hidden: tuple[int, int] | None) -> list[str]:
    traceback = _ANSI.sub("", "\n".join(output.get("traceback", [])))
    found = _CELL_LINE.search(traceback)
    line_no = int(found.group(1)) if found else None
    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
    if hidden and line_no is not None and hidden[0] <= line_no <= hidden[1]:
        return [f"A hidden check failed. {message}"]
    if line_no is not None and 1 <= line_no <= len(lines):
        return [f"This check failed (line {line_no}: {lines[line_no - 1].strip()}). {message}"]
    return [f"This check failed. {message}"]


def hide_hidden_tests(cell) -> None:
    """Rewrite one autograded test cell in place (see the module docstring)."""
    lines = nbs.cell_text(cell).splitlines()
    hidden = _hidden_range(lines)
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            output["traceback"] = _summarise_error(output, lines, hidden)
    if hidden:
        note = "# (hidden checks ran here; their code is not shown)"
        kept = [*lines[: hidden[0] - 1], note, *lines[hidden[1] :]]
        cell["source"] = "\n".join(kept)


class HideHiddenTests(NbGraderPreprocessor):
    """nbconvert preprocessor: :func:`hide_hidden_tests` on every autograded
    test cell of the notebook."""

    def preprocess_cell(self, cell, resources, index):
        if nbs.is_graded_test(cell):
            hide_hidden_tests(cell)
        return cell, resources
