"""Unit tests of course.lesson.bytecode, lesson 08's tools for watching bytecode caching."""

from __future__ import annotations

import os
import sys

import pytest

from course.lesson import bytecode


def test_import_trace_reports_compiling_then_reusing(tmp_path, monkeypatch):
    """Does import_trace show the first import compiling and caching, and the second reusing the .pyc?"""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # the child's environment is explicit
    (tmp_path / "traced_mod.py").write_text("X = 1\n")
    pyc = f"__pycache__/traced_mod.{sys.implementation.cache_tag}.pyc"
    assert bytecode.import_trace("-c", "import traced_mod", cwd=tmp_path) == [
        "code object from traced_mod.py",
        f"created {pyc}",
    ]
    assert bytecode.import_trace("-c", "import traced_mod", cwd=tmp_path) == [
        f"{pyc} matches traced_mod.py",
        f"code object from {pyc}",
    ]


def test_import_trace_raises_when_the_child_fails(tmp_path):
    """Does import_trace raise RuntimeError, naming the error, when the child fails?"""
    with pytest.raises(RuntimeError, match="ModuleNotFoundError"):
        bytecode.import_trace("-c", "import no_such_module_here", cwd=tmp_path)


def test_code_from_tells_pyc_from_source(tmp_path):
    """Does code_from say "the .pyc" only when import took the code from __pycache__?"""
    (tmp_path / "coded_mod.py").write_text("X = 1\n")
    assert bytecode.code_from("coded_mod", tmp_path) == "the source"
    assert not (tmp_path / "__pycache__").exists()  # -B: it wrote nothing
    bytecode.import_trace("-c", "import coded_mod", cwd=tmp_path)  # writes the .pyc
    assert bytecode.code_from("coded_mod", tmp_path) == "the .pyc"


def test_write_at_sets_the_exact_modification_time(tmp_path):
    """Does write_at write the text and give the file exactly the time asked for?"""
    path = tmp_path / "stamped.py"
    bytecode.write_at(path, "X = 2\n", 1_700_000_000_250_000_000)
    assert path.read_text() == "X = 2\n"
    assert os.stat(path).st_mtime_ns == 1_700_000_000_250_000_000


def test_writing_bytecode_restores_the_setting(monkeypatch):
    """Does writing_bytecode turn writing on in the block and restore the old value, even after an error?"""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    with bytecode.writing_bytecode():
        assert sys.dont_write_bytecode is False
    assert sys.dont_write_bytecode is True
    with pytest.raises(ZeroDivisionError), bytecode.writing_bytecode():
        1 / 0  # noqa: B018
    assert sys.dont_write_bytecode is True
