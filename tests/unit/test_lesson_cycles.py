"""Unit tests of course.lesson.cycles, lesson 07's tools for import cycles."""

from __future__ import annotations

import subprocess
import sys

from course.lesson import cycles

BROKEN_A = 'print("start a")\nGREETING = "hello"\nimport b\n\n\ndef greet(name):\n    return name\n'
BROKEN_B = "from a import greet\n"


def _pair(folder, a=BROKEN_A, b=BROKEN_B):
    folder.mkdir(exist_ok=True)
    (folder / "a.py").write_text(a)
    (folder / "b.py").write_text(b)
    return folder


def _completed(returncode, stderr=""):
    return subprocess.CompletedProcess([sys.executable], returncode, "", stderr)


def test_four_ways_reports_each_run_in_order(tmp_path):
    """Does four_ways try both import orders and both scripts, and name each failure's type?"""
    runs = cycles.four_ways(_pair(tmp_path / "pair"), "a", "b")
    assert list(runs) == ["import a, b", "import b, a", "python a.py", "python b.py"]
    assert runs == {
        "import a, b": "ImportError",
        "import b, a": "ok",
        "python a.py": "ok",
        "python b.py": "ImportError",
    }


def test_four_ways_writes_no_bytecode(tmp_path):
    """Do the fresh interpreters of four_ways leave no __pycache__ behind (no stale .pyc later)?"""
    folder = _pair(tmp_path / "pair", b="import a\n")
    assert set(cycles.four_ways(folder, "a", "b").values()) == {"ok"}
    assert not (folder / "__pycache__").exists()


def test_runs_show_as_an_aligned_table():
    """Is a Runs shown as one aligned line per run, for print and for IPython alike?"""
    runs = cycles.Runs({"import a, b": "ok", "python a.py": "NameError"})
    assert repr(runs) == "import a, b  ok\npython a.py  NameError"

    class Printer:
        text_seen = ""

        def text(self, text):
            self.text_seen += text

    printer = Printer()
    runs._repr_pretty_(printer, False)
    assert printer.text_seen == repr(runs)
    assert repr(cycles.Runs()) == ""


def test_outcome_names_the_exception_or_the_exit_status():
    """Is outcome "ok" for status 0, the exception's type after a traceback, else the status?"""
    assert cycles.outcome(_completed(0)) == "ok"
    traceback = 'Traceback (most recent call last):\n  File "x.py", line 1\nmod.Oops: bad\n'
    assert cycles.outcome(_completed(1, traceback)) == "Oops"
    assert cycles.outcome(_completed(3, "")) == "exit status 3"


def test_frames_lists_the_lines_of_the_folder_files(tmp_path):
    """Does frames list, outermost first, only the frames of files in the folder, with their code?"""
    folder = _pair(tmp_path / "pair")
    result = subprocess.run(
        [sys.executable, "-B", "-c", "import a"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert cycles.frames(result, folder) == [
        "a.py, line 3: import b",
        "b.py, line 1: from a import greet",
    ]
    assert cycles.frames(result, tmp_path) == []


def test_frames_skips_files_it_cannot_read(tmp_path):
    """Does frames skip a frame whose file is gone or shorter than the line number?"""
    (tmp_path / "short.py").write_text("x = 1\n")
    stderr = (
        f'  File "{tmp_path / "gone.py"}", line 1, in <module>\n'
        f'  File "{tmp_path / "short.py"}", line 9, in <module>\n'
        f'  File "{tmp_path / "short.py"}", line 1, in <module>\n'
    )
    assert cycles.frames(_completed(1, stderr), tmp_path) == ["short.py, line 1: x = 1"]


def test_message_is_the_last_line_with_the_folder_shortened(tmp_path, monkeypatch):
    """Does message give the exception line with the folder's absolute path written relative?"""
    monkeypatch.chdir(tmp_path)
    folder = _pair(tmp_path / "pair", b='import a\n\nprint(a.greet("b"))\n')
    result = subprocess.run(
        [sys.executable, "-B", "-c", "import a"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    line = cycles.message(result, "pair")
    assert line.startswith("AttributeError: ")
    assert str(tmp_path) not in line
    if sys.version_info >= (3, 13):
        assert "'pair/a.py'" in line
    assert cycles.message(_completed(0), "pair") == ""
