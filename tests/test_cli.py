"""The `course` command's interface: help, and one-line errors."""

from __future__ import annotations

import pytest

from .conftest import run_course

COMMANDS = ["build", "check", "record", "grade", "demo"]


def test_help_lists_every_command():
    """Does `course --help` list every command?"""
    result = run_course("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command):
    """Does each command explain itself with --help?"""
    result = run_course(command, "--help")
    assert result.returncode == 0
    assert f"usage: course {command}" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--root", "/nonexistent", "build"], "is not a course root"),
        (["build", "99_no_such_lesson"], "unknown lesson '99_no_such_lesson'"),
    ],
)
def test_errors_are_one_clear_line(args, message):
    """Is bad input reported in one line with a non-zero exit?"""
    result = run_course(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("course: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_grading_nothing_is_an_error(course_copy):
    """Is grading an empty class an error rather than a silent success?"""
    result = run_course("--root", str(course_copy.root), "grade")
    assert result.returncode == 1
    assert "nothing to grade" in result.stderr
