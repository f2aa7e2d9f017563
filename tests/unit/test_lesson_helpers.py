"""Unit tests of course.lesson, the helpers notebooks import."""

from __future__ import annotations

import os
import sys

import pytest

from course import lesson
from course.lesson import scratch


@pytest.fixture
def kernel_state(tmp_path, monkeypatch):
    """Run start_lesson as a kernel would, then restore this process."""
    monkeypatch.chdir(tmp_path)
    for name in ("_home", "_scratch", "_lock", "_lesson"):
        monkeypatch.setattr(scratch, name, None)
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    monkeypatch.setattr(sys, "pycache_prefix", "/somewhere/else")
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    if scratch._lock is not None:
        scratch._lock.close()
    for name in [
        n for n, m in sys.modules.items() if str(tmp_path) in str(getattr(m, "__file__", ""))
    ]:
        del sys.modules[name]


def test_start_lesson_gives_a_fresh_empty_scratch_folder(kernel_state, capsys):
    """Is the scratch folder new, empty, the working directory, and bytecode off?"""
    assert lesson.start_lesson("00_tiny") is None
    scratch = lesson.scratch_folder()
    assert scratch == kernel_state / "_scratch" / f"k{os.getpid()}"
    assert os.getcwd() == str(scratch)
    assert list(scratch.iterdir()) == []
    assert sys.dont_write_bytecode is True
    assert sys.pycache_prefix is None
    assert "fresh, empty scratch folder" in capsys.readouterr().out


def test_start_lesson_again_forgets_modules_and_does_not_nest(kernel_state, capsys):
    """Does re-running the set-up forget scratch modules and reuse the same folder?"""
    lesson.start_lesson("00_tiny")
    scratch = lesson.scratch_folder()
    (scratch / "tinymod_a1.py").write_text("X = 1\n")
    sys.path.insert(0, str(scratch))
    import tinymod_a1  # noqa: F401

    assert "tinymod_a1" in sys.modules
    lesson.start_lesson("00_tiny")
    assert lesson.scratch_folder() == scratch
    assert "tinymod_a1" not in sys.modules
    assert not (scratch / "tinymod_a1.py").exists()
    assert str(scratch) not in sys.path


def test_fresh_import_runs_the_module_again(kernel_state):
    """Does fresh_import give a new module object that sees the new source?"""
    lesson.start_lesson("00_tiny")
    scratch = lesson.scratch_folder()
    sys.path.insert(0, str(scratch))
    (scratch / "tinymod_b2.py").write_text("X = 1\n")
    first = lesson.fresh_import("tinymod_b2")
    (scratch / "tinymod_b2.py").write_text("X = 22\n")
    second = lesson.fresh_import("tinymod_b2")
    assert first is not second
    assert (first.X, second.X) == (1, 22)


def test_run_python_uses_an_explicit_environment(tmp_path, monkeypatch):
    """Does the child run in the given folder without our PYTHONPATH or bytecode setting?"""
    monkeypatch.setenv("PYTHONPATH", "/nowhere")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    code = "import os, sys; print(os.getcwd()); print(os.environ.get('PYTHONPATH')); print(sys.dont_write_bytecode)"
    result = lesson.run_python(["-c", code], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.split() == [str(tmp_path), "None", "False"]


def test_fresh_import_refuses_a_module_from_outside_the_scratch_folder(kernel_state, tmp_path):
    """Does a same-named module elsewhere on sys.path fail instead of standing in?"""
    lesson.start_lesson("00_tiny")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "tinymod_c3.py").write_text("X = 'impostor'\n")
    sys.path.append(str(elsewhere))
    with pytest.raises(ImportError, match="scratch folder"):
        lesson.fresh_import("tinymod_c3")
    assert "tinymod_c3" not in sys.modules


def test_fresh_import_of_several_names_reimports_in_order(kernel_state):
    """Does fresh_import("a", "b") give a b that sees the new a?"""
    lesson.start_lesson("00_tiny")
    scratch = lesson.scratch_folder()
    sys.path.insert(0, str(scratch))
    (scratch / "tinymod_d4.py").write_text("X = 1\n")
    (scratch / "tinymod_e5.py").write_text("import tinymod_d4\nY = tinymod_d4.X\n")
    lesson.fresh_import("tinymod_d4", "tinymod_e5")
    (scratch / "tinymod_d4.py").write_text("X = 333\n")
    d4, e5 = lesson.fresh_import("tinymod_d4", "tinymod_e5")
    assert (d4.X, e5.Y) == (333, 333)
    assert e5.tinymod_d4 is d4


def test_run_python_gives_the_child_empty_or_given_input(tmp_path):
    """Does a child that reads stdin get EOF (not a hang), or exactly the given input?"""
    code = "import sys; print(repr(sys.stdin.read()))"
    assert lesson.run_python(["-c", code], cwd=tmp_path, timeout=10).stdout == "''\n"
    assert lesson.run_python(["-c", code], cwd=tmp_path, input="hi\n").stdout == "'hi\\n'\n"


KERNEL = """
import sys, time
from course.lesson import start_lesson, scratch_folder
start_lesson("00_tiny")
(scratch_folder() / "mine.py").write_text("X = 1\\n")
print("FOLDER", scratch_folder(), flush=True)
sys.stdin.readline()  # wait until told to go on
(scratch_folder() / "again.py").write_text("X = 2\\n")
print(sorted(p.name for p in scratch_folder().iterdir()), flush=True)
"""


def test_two_kernels_on_one_notebook_keep_their_own_folders(tmp_path):
    """Does a second kernel's set-up (Validate's, a second tab) leave the first kernel's folder and files alone, and does each kernel remove its own folder when it ends?"""
    import subprocess

    first = subprocess.Popen(
        [sys.executable, "-c", KERNEL],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None and first.stdin is not None
    first_folder = next(line for line in first.stdout if line.startswith("FOLDER"))
    second = subprocess.run(
        [sys.executable, "-c", KERNEL],
        cwd=tmp_path,
        input="\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0, second.stderr
    second_folder = next(line for line in second.stdout.splitlines() if line.startswith("FOLDER"))
    assert second_folder != first_folder.strip()
    first.stdin.write("\n")
    first.stdin.flush()
    assert first.stdout.readline().strip() == "['again.py', 'mine.py']"
    assert first.wait(timeout=60) == 0
    first.stdin.close()
    first.stdout.close()
    assert list((tmp_path / "_scratch").iterdir()) == []


def test_a_dead_kernels_folder_is_cleaned_up_by_the_next_set_up(kernel_state, monkeypatch):
    """Is the scratch folder a killed kernel left behind removed by the next set-up, while a live kernel's lock keeps its own?"""
    monkeypatch.setattr(scratch, "_GRACE", 0)
    base = kernel_state / "_scratch"
    base.mkdir()
    (base / "k999999").mkdir()
    (base / "k999999" / "old.py").write_text("X = 0\n")
    (base / "k999999.lock").write_text("")
    (base / "leftover.py").write_text("from an older layout\n")
    lesson.start_lesson("00_tiny")
    assert sorted(p.name for p in base.iterdir()) == [f"k{os.getpid()}", f"k{os.getpid()}.lock"]


def test_an_unanswered_exercise_says_so_in_one_line(kernel_state):
    """Does importing a module that is still the exercise's stub raise NotAnswered, shown as one line in Jupyter?"""
    lesson.start_lesson("00_tiny")
    (lesson.scratch_folder() / "tinymod_f6.py").write_text(
        "# YOUR CODE HERE\nraise NotImplementedError()"
    )
    with pytest.raises(lesson.NotAnswered, match=r"tinymod_f6\.py is not written yet") as info:
        lesson.fresh_import("tinymod_f6")
    assert info.value._render_traceback_() == [f"NotAnswered: {info.value}"]


def test_on_sys_path_restores_a_saved_copy(monkeypatch, tmp_path):
    """Does on_sys_path put folders first and restore sys.path exactly, even when the folder was already on it?"""
    monkeypatch.setattr(sys, "path", [str(tmp_path), "/a", "/b"])
    with lesson.on_sys_path(tmp_path, "/c"):
        assert sys.path[:2] == [str(tmp_path), "/c"]
    assert sys.path == [str(tmp_path), "/a", "/b"]


def test_error_type_reads_the_last_traceback_line(tmp_path):
    """Does error_type name the exception a child Python ended with, and None for a clean run?"""
    bad = lesson.python("-c", "import no_such_module_here", cwd=tmp_path)
    assert lesson.error_type(bad) == "ModuleNotFoundError"
    assert lesson.error_type(lesson.python("-c", "pass", cwd=tmp_path)) is None


def test_make_zip_writes_directory_entries_unless_told_not_to(tmp_path):
    """Does make_zip store a folder entry per folder (as zipapp does), and none with directories=False?"""
    import zipfile

    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "m.py").write_text("X = 1\n")
    with zipfile.ZipFile(lesson.make_zip(tmp_path / "src", tmp_path / "a.zip")) as z:
        assert z.namelist() == ["pkg/", "pkg/m.py"]
    with zipfile.ZipFile(
        lesson.make_zip(tmp_path / "src", tmp_path / "b.zip", directories=False)
    ) as z:
        assert z.namelist() == ["pkg/m.py"]


CHECK_NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "### Exercise 9.1 — tiny"},
        {
            "cell_type": "code",
            "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "t1"}},
            "source": '"""Check X."""\nm = fresh_import("tinymod_g7")\nassert m.X == 2, f"X should be 2, got {m.X!r}"',
            "outputs": [],
            "execution_count": None,
        },
        {"cell_type": "markdown", "metadata": {}, "source": "### Exercise 9.2 — later"},
        {
            "cell_type": "code",
            "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "t2"}},
            "source": '"""Check Y."""\nfresh_import("tinymod_h8")',
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_check_reports_the_failing_message_then_the_unanswered(kernel_state, capsys):
    """Does check() print the failing check's expected/got message first and list unanswered exercises on one line?"""
    import json

    (kernel_state / "00_tiny.ipynb").write_text(json.dumps(CHECK_NOTEBOOK))
    sys.path.append("")  # as in a kernel: the working folder is on the path
    lesson.start_lesson("00_tiny")
    (lesson.scratch_folder() / "tinymod_g7.py").write_text("X = 1\n")
    (lesson.scratch_folder() / "tinymod_h8.py").write_text(
        "# YOUR CODE HERE\nraise NotImplementedError()"
    )
    capsys.readouterr()
    lesson.check()
    out = capsys.readouterr().out
    assert "X should be 2" in out, out
    assert out.index("X should be 2, got 1") < out.index("Not answered yet: Exercise 9.2.")
    (lesson.scratch_folder() / "tinymod_g7.py").write_text("X = 2\n")
    lesson.check("9.1")
    assert "Passed the visible checks: Exercise 9.1." in capsys.readouterr().out
