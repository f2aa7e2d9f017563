"""The `course` command's interface: help, and one-line errors."""

from __future__ import annotations

import csv

import pytest

from .support import run_course

COMMANDS = ["build", "check", "record", "grade", "demo", "sandbox", "lab"]


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


@pytest.mark.nbgrader
def test_grading_nothing_is_an_error(course_copy):
    """Is grading an empty class an error rather than a silent success?"""
    result = run_course("--root", str(course_copy.root), "grade")
    assert result.returncode == 1
    assert "nothing to grade" in result.stderr


@pytest.mark.nbgrader
def test_two_grading_runs_cannot_overlap(course_copy):
    """Is a second `course grade` on the same course refused while one holds the lock?"""
    import fcntl

    _one_submission(course_copy)
    with open(course_copy.root / ".grading.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = run_course("--root", str(course_copy.root), "grade")
    assert result.returncode == 1
    assert "another `course grade` is running" in result.stderr
    assert not (course_copy.root / "gradebook.db").exists(), "nothing may be graded meanwhile"


def test_jobs_must_be_a_positive_number():
    """Is `--jobs 0` refused with a usage error?"""
    result = run_course("grade", "--jobs", "0")
    assert result.returncode == 2
    assert "at least 1" in result.stderr


@pytest.mark.parametrize("value", ["-1", "0", "soon", "nan", "inf"])
@pytest.mark.parametrize("option", ["--timeout", "--budget"])
def test_time_limits_must_be_positive_numbers(option, value):
    """Are a negative, zero or non-numeric --timeout or --budget refused with one usage line, never read as 'no limit' or 'the default'?"""
    result = run_course("grade", option, value)
    assert result.returncode == 2
    assert "must be a positive number of seconds" in result.stderr


@pytest.mark.nbgrader
def test_python_must_be_a_supported_version(course_copy):
    """Is `--python 2.7` refused in one line that says which versions exist?"""
    _one_submission(course_copy)
    result = run_course("--root", str(course_copy.root), "grade", "--python", "2.7")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "3.11" in result.stderr


@pytest.mark.sandbox
def test_the_sandbox_works_here():
    """Does `course sandbox` start a sandboxed Python here (bubblewrap, cgroups, kernel venv)?"""
    result = run_course("sandbox")
    assert result.returncode == 0, result.stderr
    assert "the sandbox works here" in result.stdout


def _one_submission(course) -> str:
    from course.authoring.synth import student_notebook, write_submission

    lesson = course.lessons()[0]
    write_submission(course, "someone", lesson, student_notebook(course, lesson, "reference"))
    return lesson


@pytest.mark.nbgrader
def test_grading_refuses_without_a_sandbox(course_copy):
    """Without a working sandbox, does `course grade` refuse in one line and touch nothing?"""
    lesson = _one_submission(course_copy)
    result = run_course(
        "--root",
        str(course_copy.root),
        "grade",
        env={"COURSE_KERNEL_VENV": str(course_copy.root / "no-such-venv")},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("course: error: cannot sandbox student code: ")
    assert "make sandbox" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not course_copy.gradebook.exists()
    assert not (course_copy.autograded / "someone" / lesson).exists()


@pytest.mark.nbgrader
@pytest.mark.slow
def test_unsafe_no_sandbox_grades_and_says_so(course_copy):
    """Does `--unsafe-no-sandbox` grade without the sandbox (reference: full marks) and warn plainly?"""
    _one_submission(course_copy)
    result = run_course(
        "--root",
        str(course_copy.root),
        "grade",
        "--unsafe-no-sandbox",
        env={"COURSE_KERNEL_VENV": str(course_copy.root / "no-such-venv")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING: --unsafe-no-sandbox" in result.stderr
    with open(course_copy.reports / "outcomes.csv", encoding="utf-8") as f:
        (row,) = csv.DictReader(f)
    assert row["status"] == "graded" and row["score"] == row["max_score"], row
