"""Unit tests of course.lesson.probe: looking at a program from the outside."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from course.lesson.probe import ProgramRun, package_modules, run_each, run_main


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A package ``app`` whose ``__main__`` runs a command: ``hi`` prints,
    ``plug NAME`` imports a plugin lazily, ``read`` opens a data file,
    ``boom`` raises, ``quit TEXT`` exits with a message, and anything else
    exits with status 2."""
    pkg = tmp_path / "app"
    (pkg / "plugins").mkdir(parents=True)
    (pkg / "data").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "plugins" / "__init__.py").write_text("")
    (pkg / "plugins" / "one.py").write_text("NAME = 'one'\n")
    (pkg / "plugins" / "two.py").write_text("NAME = 'two'\n")
    (pkg / "data" / "motto.txt").write_text("small is beautiful\n")
    (pkg / "__main__.py").write_text(
        "import importlib, sys\n"
        "from importlib.resources import files\n"
        "args = sys.argv[1:]\n"
        "if args == ['hi']:\n"
        "    print('hello')\n"
        "elif args[:1] == ['plug']:\n"
        "    print(importlib.import_module('.plugins.' + args[1], __spec__.parent).NAME)\n"
        "elif args == ['read']:\n"
        "    print((files(__spec__.parent) / 'data' / 'motto.txt').read_text(), end='')\n"
        "elif args == ['boom']:\n"
        "    raise ValueError('boom')\n"
        "elif args[:1] == ['quit']:\n"
        "    sys.exit(args[1])\n"
        "else:\n"
        "    print('usage', file=sys.stderr)\n"
        "    sys.exit(2)\n"
    )
    return tmp_path


def test_run_main_reports_output_status_and_modules(app):
    """Does run_main give python -m's output and status, and the modules it imported?"""
    run = run_main("app", "plug", "two", cwd=app)
    assert (run.returncode, run.stdout) == (0, "two\n")
    assert run.imported("app.plugins") == ("app.plugins.two",)
    assert "app" in run.modules and "json" not in run.modules
    usage = run_main("app", cwd=app)
    assert (usage.returncode, usage.stdout, usage.stderr) == (2, "", "usage\n")
    assert usage.imported("app") == ()


def test_run_main_reports_even_when_the_program_fails(app):
    """Does a failing program keep its traceback and status, and still report its modules?"""
    run = run_main("app", "boom", cwd=app)
    assert run.returncode == 1 and run.stderr.rstrip().endswith("ValueError: boom")
    assert "app" in run.modules


def test_run_main_lists_opened_files(app):
    """Are the files a run opens listed (and only after it opened them)?"""
    read = run_main("app", "read", cwd=app)
    hi = run_main("app", "hi", cwd=app)
    assert read.stdout == "small is beautiful\n"
    assert [p for p in read.opened if p.endswith("motto.txt")] != []
    assert [p for p in hi.opened if p.endswith("motto.txt")] == []


def test_run_main_leaves_no_report_behind(app):
    """Is the temporary report file removed, and nothing written into cwd?"""
    before = sorted(Path(tempfile.gettempdir()).glob("course-probe-*"))
    run_main("app", "hi", cwd=app)
    assert sorted(Path(tempfile.gettempdir()).glob("course-probe-*")) == before
    assert sorted(p.name for p in app.iterdir()) == ["app"]


def test_run_each_runs_every_command_afresh(app):
    """Does run_each give each command its own output, status and modules?"""
    runs = run_each(
        "app",
        [["plug", "one"], ["plug", "two"], [], ["boom"], ["quit", "bye"], ["hi"]],
        cwd=app,
    )
    assert [r.returncode for r in runs] == [0, 0, 2, 1, 1, 0]
    assert [r.stdout for r in runs] == ["one\n", "two\n", "", "", "", "hello\n"]
    assert runs[0].imported("app.plugins") == ("app.plugins.one",)
    assert runs[1].imported("app.plugins") == ("app.plugins.two",)
    assert runs[2].stderr == "usage\n"
    assert runs[3].stderr.rstrip().endswith("ValueError: boom")
    assert runs[4].stderr == "bye\n"


def test_run_each_fills_in_runs_a_dead_child_did_not_report(tmp_path):
    """When the program ends the process, does every command still get a run?"""
    pkg = tmp_path / "quitter"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text("import os\nprint('bye', flush=True)\nos._exit(3)\n")
    runs = run_each("quitter", [["a"], ["b"]], cwd=tmp_path)
    assert len(runs) == 2
    assert [r.returncode for r in runs] == [3, 3]


def test_program_run_imported_leaves_out_the_package_itself():
    """Does imported() list only what is inside the package?"""
    run = ProgramRun(0, "", "", ("app", "app.plugins", "app.plugins.one", "apple"))
    assert run.imported("app") == ("app.plugins", "app.plugins.one")
    assert run.imported("app.plugins") == ("app.plugins.one",)


def test_package_modules_from_files(app):
    """Are the modules named from the files, without __pycache__, renamed on request?"""
    (app / "app" / "__pycache__").mkdir()
    (app / "app" / "__pycache__" / "stale.py").write_text("")
    expected = ["app", "app.__main__", "app.plugins", "app.plugins.one", "app.plugins.two"]
    assert package_modules(app / "app") == expected
    assert package_modules(app / "app", "renamed")[:2] == ["renamed", "renamed.__main__"]
