"""Unit tests of course.lesson.importtime_report, lesson 10's plumbing."""

from __future__ import annotations

import sys

import pytest

from course.lesson import importtime_report as report
from course.lesson.importtime_report import Row

#: A report as Python 3.11-3.15 print it (with a line of another program's
#: error output and a 3.14 `cached` line mixed in).
REPORT = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time: cached    | cached     |   _io
import time:        80 |        200 | io
some warning from the program
import time:        50 |         50 |       _json
import time:       300 |        350 |     json.scanner
import time:       400 |        750 |   json.decoder
import time:       200 |        200 |   json.encoder
import time:       100 |       1050 | json
"""


def test_parse_reads_rows_in_order_with_depths():
    """Does parse() give each module's times and depth, in the printed order, and nothing else?"""
    rows = report.parse(REPORT)
    assert rows[0] == Row(120, 120, 1, "_io")
    assert [(row.name, row.depth) for row in rows] == [
        ("_io", 1),
        ("io", 0),
        ("_json", 3),
        ("json.scanner", 2),
        ("json.decoder", 1),
        ("json.encoder", 1),
        ("json", 0),
    ]


def test_parse_of_nothing_is_empty():
    """Is a report without rows (no -X importtime) an empty list?"""
    assert report.parse("Traceback (most recent call last):\nValueError: x\n") == []


def test_direct_imports_are_the_rows_one_level_deeper_just_before():
    """Does direct_imports() give json's own imports, not its grandchildren or io's?"""
    rows = report.parse(REPORT)
    assert [row.name for row in report.direct_imports(rows, "json")] == [
        "json.decoder",
        "json.encoder",
    ]
    assert [row.name for row in report.direct_imports(rows, "json.decoder")] == ["json.scanner"]
    assert report.direct_imports(rows, "_io") == []


def test_direct_imports_of_a_missing_module_raises():
    """Is a name without a row a ValueError?"""
    with pytest.raises(ValueError, match="nosuch"):
        report.direct_imports(report.parse(REPORT), "nosuch")


def test_table_sorts_by_cumulative_and_cuts_to_tenths():
    """Does table() sort largest first and cut (not round) the seconds?"""
    rows = [Row(99_999, 350_000, 0, "a"), Row(290_000, 690_000, 0, "b")]
    lines = report.table(rows).splitlines()
    assert lines[0].split() == ["cumulative", "self", "module", "(seconds,", "cut", "to", "tenths)"]
    assert lines[1].split() == ["0.6", "0.2", "b"]
    assert lines[2].split() == ["0.3", "0.0", "a"]


def test_measure_runs_a_fresh_interpreter(tmp_path):
    """Does measure() report a module imported in a fresh interpreter, at depth 0?"""
    (tmp_path / "tiny_measured.py").write_text("import json\n")
    rows = report.measure("import tiny_measured", cwd=tmp_path)
    names = [row.name for row in rows if row.depth == 0]
    assert "tiny_measured" in names
    assert "tiny_measured" not in sys.modules


def test_measure_raises_when_the_statement_fails(tmp_path):
    """Is a failing statement a RuntimeError naming the child's error?"""
    with pytest.raises(RuntimeError, match="ModuleNotFoundError"):
        report.measure("import no_such_module_here", cwd=tmp_path)
