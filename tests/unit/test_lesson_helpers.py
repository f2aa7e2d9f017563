"""Unit tests of course.lesson, the helpers notebooks import."""

from __future__ import annotations

import os
import sys

import pytest

from course import lesson


@pytest.fixture
def kernel_state(tmp_path, monkeypatch):
    """Run start_lesson as a kernel would, then restore this process."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lesson, "_home", None)
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    monkeypatch.setattr(sys, "pycache_prefix", "/somewhere/else")
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in [
        n for n, m in sys.modules.items() if str(tmp_path) in str(getattr(m, "__file__", ""))
    ]:
        del sys.modules[name]


def test_start_lesson_gives_a_fresh_empty_scratch_folder(kernel_state, capsys):
    """Is the scratch folder new, empty, the working directory, and bytecode off?"""
    assert lesson.start_lesson("00_tiny") is None
    scratch = lesson.scratch_folder()
    assert scratch == kernel_state / "_scratch"
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
