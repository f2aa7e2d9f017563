"""Folders under submitted/ (course.grading.intake), CSV cells
(course.grading.export) and terminal text (course.grading.console)."""

from __future__ import annotations

import csv

import pytest

from course.grading.console import safe
from course.grading.export import neutralise, write_rows
from course.grading.intake import scan, valid_student_id
from course.grading.outcome import Status

from .nbfactory import tiny_course


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("ann", True),
        ("a.b-c_9", True),
        ("x" * 64, True),
        ("x" * 65, False),
        (" ann", False),
        ("-ann", False),
        ("eve,9", False),
        ("=1+1", False),
        ("bell\x07", False),
        ("", False),
        ("ann\n", False),
    ],
)
def test_student_ids(name, ok):
    """Is each folder name accepted as a student id exactly when it is safe everywhere it goes?"""
    assert valid_student_id(name) is ok


def test_scan_reports_what_is_not_a_submission(tmp_path):
    """Does scan list valid submissions and give a reason (with a suggestion) for everything else?"""
    course = tiny_course(tmp_path)
    for folder in ("ann/00_tiny", "bob/00_tiyn", "eve,9/00_tiny"):
        (course.submitted / folder).mkdir(parents=True)
    (course.submitted / "stray.txt").write_text("x")
    todo, invalid = scan(course, ["00_tiny"])
    assert todo == [("00_tiny", "ann")]
    reasons = {(o.student, o.lesson): o.reason for o in invalid}
    assert all(o.status is Status.INVALID for o in invalid)
    assert reasons[("bob", "00_tiyn")] == "not a lesson; did you mean 00_tiny?"
    assert "not a valid student id" in reasons[("eve,9", "")]
    assert ("stray.txt", "") in reasons


def test_csv_cells_are_quoted_and_formulas_neutralised(tmp_path):
    """Does a CSV row read back with one field per column, numbers as numbers and no cell a spreadsheet would run?"""
    path = tmp_path / "x.csv"
    write_rows(path, ["id", "score"], [["eve,9", 3.5], ["=HYPERLINK(1)", 0], ["-2", 1], ["@x", 2]])
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[1] == ["eve,9", "3.5"]
    assert [r[0] for r in rows[2:]] == ["'=HYPERLINK(1)", "'-2", "'@x"]
    assert neutralise(-2) == -2


def test_terminal_text_is_escaped():
    """Are escape sequences, bells, carriage returns and bidirectional overrides shown escaped?"""
    assert safe("a\x1b[31mb\x07c\rd\u202ee") == "a\\x1b[31mb\\x07c\\rd\\u202ee"
    assert safe("plain é ✓") == "plain é ✓"
