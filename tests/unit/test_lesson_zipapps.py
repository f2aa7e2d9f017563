"""Unit tests of course.lesson.zipapps, lesson 09's plumbing."""

from __future__ import annotations

import importlib.machinery
import subprocess
import sys
import zipfile

import pytest

import course.lesson as lesson
from course.lesson import zipapps


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A stand-in for the kernel's scratch folder, which show() hides."""
    monkeypatch.setattr(lesson, "scratch_folder", lambda: tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _done(stdout: str, returncode: int = 0, stderr: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([sys.executable], returncode, stdout, stderr)


def test_show_hides_the_scratch_folder(scratch, capsys):
    """Does show() print the child's output with <scratch> for the scratch folder's path?"""
    zipapps.show(_done(f"sys.path[0] = {scratch}/hello_dir\n"))
    assert capsys.readouterr().out == "sys.path[0] = <scratch>/hello_dir\n"


def test_show_names_the_error_type_of_a_failed_run(scratch, capsys):
    """Does a failed run show its exit status and error type, never its traceback?"""
    traceback = 'Traceback (most recent call last):\n  File "x", line 1\nImportError: no\n'
    zipapps.show(_done("", 1, traceback))
    assert capsys.readouterr().out == "exit status 1, ImportError\n"


def test_show_without_a_traceback_gives_the_exit_status_only(scratch, capsys):
    """Does a failure without a traceback (no __main__) show only the exit status?"""
    zipapps.show(_done("", 1, "/usr/bin/python3: can't find '__main__' module in 'x'\n"))
    assert capsys.readouterr().out == "exit status 1\n"


def test_show_run_runs_a_fresh_interpreter_without_bytecode(scratch, capsys):
    """Does show_run run python -B in the current folder, print its output and return None?"""
    code = "import os, sys; print(sys.dont_write_bytecode, os.getcwd())"
    assert zipapps.show_run("-c", code) is None
    assert capsys.readouterr().out == "True <scratch>\n"


def test_show_run_passes_the_environment(scratch, capsys):
    """Does show_run add env to the child's minimal environment?"""
    zipapps.show_run("-c", "import os; print(os.environ['GREETING'])", env={"GREETING": "hi"})
    assert capsys.readouterr().out == "hi\n"


def test_zip_names_lists_the_archive_in_order(tmp_path):
    """Does zip_names give the names in the archive's own order?"""
    target = tmp_path / "a.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("pkg/", b"")
        archive.writestr("pkg/b.py", b"")
        archive.writestr("__main__.py", b"")
    assert zipapps.zip_names(target) == ["pkg/", "pkg/b.py", "__main__.py"]


def test_extension_module_is_an_extension_file_or_none():
    """Is extension_module() a standard-library extension file, found without importing it?"""
    before = set(sys.modules)
    found = zipapps.extension_module()
    if found is None:
        pytest.skip("this Python has none of the candidate extension files")
    name, path = found
    assert name in zipapps.EXTENSION_CANDIDATES
    assert path.is_file()
    assert path.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert name in before or name not in sys.modules


def test_printed_gives_the_output_and_the_last_error_line():
    """Does printed() show stdout as a repr and only the last line of stderr?"""
    assert zipapps.printed(_done("mean: 4.0\n")) == "'mean: 4.0\\n'"
    failed = _done("", 1, "Traceback (most recent call last):\n  ...\nValueError: bad\n")
    assert zipapps.printed(failed) == "'' and the error 'ValueError: bad'"


@pytest.mark.parametrize(
    "text",
    ["# YOUR CODE HERE\nraise NotImplementedError()", "raise NotImplementedError()\n", "", "# x\n"],
)
def test_require_answered_refuses_a_stub(tmp_path, text):
    """Is a stub or an empty file reported as not answered, in one line?"""
    (tmp_path / "a.py").write_text(text)
    with pytest.raises(lesson.NotAnswered, match=r"a\.py is not written yet"):
        zipapps.require_answered(tmp_path / "a.py")


def test_require_answered_refuses_a_missing_file(tmp_path):
    """Is a file that was never written reported as not answered?"""
    with pytest.raises(lesson.NotAnswered, match=r"b\.py is not written yet"):
        zipapps.require_answered(tmp_path / "b.py")


def test_require_answered_accepts_an_answer(tmp_path):
    """Does a file with code of its own pass (even one that raises NotImplementedError elsewhere)?"""
    (tmp_path / "a.py").write_text("def mean(xs):\n    raise NotImplementedError()\n")
    (tmp_path / "b.py").write_text("pass\n")
    assert zipapps.require_answered(tmp_path / "a.py", tmp_path / "b.py") is None
