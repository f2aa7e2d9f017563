"""Unit tests of course.grading.feedback (hidden tests removed from feedback)."""

from __future__ import annotations

import nbformat

from course.grading.feedback import hide_hidden_tests

from .nbfactory import tiny_notebook


def _error(line: int, message: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "error",
        ename="AssertionError",
        evalue=message,
        traceback=[
            "\x1b[0;31mAssertionError\x1b[0m Traceback (most recent call last)",
            f"Cell \x1b[0;32mIn[5], line {line}\x1b[0m\n\x1b[0;32m----> {line}\x1b[0m assert ...",
            f"\x1b[0;31mAssertionError\x1b[0m: {message}",
        ],
    )


def test_hidden_section_is_replaced_by_one_comment():
    """Is the hidden test code gone, and the visible code kept?"""
    cell = tiny_notebook().cells[4]
    hide_hidden_tests(cell)
    assert "42007" not in cell.source
    assert "BEGIN HIDDEN" not in cell.source
    assert "assert tiny.answer() > 0" in cell.source
    assert "hidden checks ran here" in cell.source


def test_failure_in_hidden_part_says_so_without_the_code():
    """Does a hidden failure report its message but not its line?"""
    cell = tiny_notebook().cells[4]
    cell.outputs = [_error(5, "the exact answer")]
    hide_hidden_tests(cell)
    (tb,) = cell.outputs[0].traceback
    assert tb == "A hidden check failed. AssertionError: the exact answer"


def test_failure_in_visible_part_quotes_the_visible_line():
    """Does a visible failure show which visible line failed?"""
    cell = tiny_notebook().cells[4]
    cell.outputs = [_error(3, "")]
    hide_hidden_tests(cell)
    (tb,) = cell.outputs[0].traceback
    assert tb.startswith("This check failed (line 3: assert tiny.answer() > 0)")
