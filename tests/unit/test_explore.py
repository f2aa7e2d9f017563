"""Unit tests of course.lesson.explore: the explorers' pure functions (with real
subprocesses) and their thin widget layer (real ipywidgets, no front end)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from course.lesson.explore import circular, importtime, reload_lab, search_order

ALLOWED_CONTROLS = {"Dropdown", "Text", "Checkbox", "ToggleButtons", "IntSlider"}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_importing_course_explore_is_cheap_and_does_no_work():
    """Does `import course.lesson.explore` load no explorer, no ipywidgets, and only expose names lazily?"""
    code = (
        "import sys; import course.lesson.explore as e; "
        "print(sorted(m for m in sys.modules if m.startswith(('ipywidgets', 'course.lesson.explore.')))); "
        "print(callable(e.reload_explorer), 'course.lesson.explore.reload_lab' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out == ["[]", "True True"]


# ---------------------------------------------------------------- search order


@pytest.fixture
def game(tmp_path, monkeypatch):
    """A folder game/ with random.py (which must never run) and a script."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "game" / "random.py", "open('RAN', 'w').close()\n")
    write(tmp_path / "game" / "dice.py", "import random\n")
    return tmp_path


def test_script_trace_finds_the_local_file_first_and_the_stdlib_one_shadowed(game):
    """For `python game/dice.py`, does game/random.py win and hide the standard random, without running anything?"""
    trace = search_order.trace_script("random", "game/dice.py")
    assert trace.error is None
    assert [f.finder for f in trace.finders if f.own] == [
        "BuiltinImporter",
        "FrozenImporter",
        "PathFinder",
    ]
    assert trace.candidates[0].label == "game"
    assert trace.winner == "random.py in game" and trace.winner_finder == "PathFinder"
    assert trace.reached == 1
    assert "random.py in stdlib" in trace.shadowed
    assert not trace.in_sys_modules
    assert sorted(p.name for p in (game / "game").iterdir()) == ["dice.py", "random.py"]
    assert not (game / "RAN").exists()
    text = search_order.report(trace)
    assert "<- wins" in text and "(shadowed)" in text and str(game) not in text


def test_script_trace_sees_what_a_script_has_already_loaded_at_start_up(game):
    """Is `os` (loaded at start-up) reported as already in sys.modules, and a fresh name not?"""
    assert search_order.trace_script("os", "game/dice.py").in_sys_modules
    assert not search_order.trace_script("json", "game/dice.py").in_sys_modules


def test_kernel_trace_agrees_with_find_spec(tmp_path, monkeypatch):
    """Is the winner the module that importlib.util.find_spec finds: file, package, namespace, built-in, nothing?"""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "first" / "gc.py", "")
    (tmp_path / "first" / "shared").mkdir()  # a namespace portion, listed first
    write(tmp_path / "second" / "shared.py", "")
    (tmp_path / "second" / "loose").mkdir()
    write(tmp_path / "second" / "pkg_x" / "__init__.py", "")
    entries = [str(tmp_path / "first"), str(tmp_path / "second")]
    monkeypatch.setattr(sys, "path", [*entries, *sys.path])
    importlib.invalidate_caches()
    cases = {
        "shared": "shared.py in second",
        "pkg_x": "pkg_x/__init__.py in second",
        "loose": "namespace package",
        "gc": "built-in",
    }
    for name, winner in cases.items():
        trace = search_order.trace_kernel(name)
        assert trace.winner == winner, name
        spec = importlib.util.find_spec(name)
        if trace.winner_finder == "PathFinder" and winner != "namespace package":
            assert Path(spec.origin) == tmp_path / "second" / winner.split(" in ")[0]
    assert search_order.trace_kernel("gc").shadowed == ("gc.py in first",)
    missing = search_order.trace_kernel("no_such_module_xyz")
    assert missing.winner is None and "ModuleNotFoundError" in search_order.report(missing)


def test_search_order_rejects_what_is_not_a_top_level_name():
    """Do a dotted name, an empty name and a non-identifier give a message instead of a trace?"""
    for name in ("xml.etree", "", "3d"):
        trace = search_order.trace_kernel(name)
        assert trace.error and trace.winner is None
        assert trace.error in search_order.report(trace)


# ------------------------------------------------------------------ reload lab


def test_prepare_versions_makes_sizes_equal_or_different():
    """Does "same size" pad the shorter text with a comment, and its absence make equal sizes differ?"""
    v1, v2 = reload_lab.prepare_versions("X = 1", "X = 100\n", same_size=True)
    assert len(v1) == len(v2) and v1.startswith("X = 1\n") and v1.endswith("#\n")
    a, b = reload_lab.prepare_versions("X = 1\n", "X = 2\n", same_size=False)
    assert len(a) != len(b) and b.strip() == "X = 2"


def test_same_size_same_second_with_bytecode_runs_the_stale_pyc(monkeypatch):
    """With all three options on, does the reload run version 1's stale .pyc, even if PYTHONDONTWRITEBYTECODE is set here?"""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    out = reload_lab.run_reload(
        reload_lab.DEFAULT_V1,
        reload_lab.DEFAULT_V2,
        same_size=True,
        same_second=True,
        bytecode=True,
    )
    assert out.size1 == out.size2 and out.pyc_written
    assert out.reload_read == "pyc" and out.stale
    assert out.x == "'one'" and out.from_imported == "'one'"
    assert out.isinstance_old is False
    assert "STALE" in reload_lab.report(out)


@pytest.mark.parametrize(
    "option", ["same_size", "same_second", "bytecode"], ids=lambda o: f"without_{o}"
)
def test_each_cure_makes_the_reload_read_the_new_source(option):
    """Does turning off any one of the three options make the reload compile version 2?"""
    options = {"same_size": True, "same_second": True, "bytecode": True, option: False}
    out = reload_lab.run_reload(reload_lab.DEFAULT_V1, reload_lab.DEFAULT_V2, **options)
    assert out.reload_read == "source" and not out.stale
    assert out.x == "'two'" and out.from_imported == "'one'"
    assert out.pyc_written is (option != "bytecode")


def test_reload_lab_reports_errors_of_either_version():
    """Are an error in version 1 and a SyntaxError in version 2 reported by type?"""
    bad_v1 = reload_lab.run_reload(
        "X = 1 / 0\n", "X = 2\n", same_size=False, same_second=False, bytecode=False
    )
    assert bad_v1.v1_error == "ZeroDivisionError" and bad_v1.x is None
    bad_v2 = reload_lab.run_reload(
        "X = 1\n", "X = (\n", same_size=False, same_second=False, bytecode=False
    )
    assert bad_v2.v2_error == "SyntaxError" and bad_v2.x == "1"
    assert "SyntaxError" in reload_lab.report(bad_v2)


# ----------------------------------------------------------- circular stepper

A_PY = 'import sys\n\nprint("start a")\nGREETING = "hello"\nimport b\n\n\ndef greet(name):\n    return GREETING\n'
B_FROM = 'print("start b")\nfrom a import greet\n\nprint("end b")\n'
B_MODULE = 'import a\n\n\ndef welcome():\n    return a.greet("b")\n'


def test_recorded_cycle_fails_at_the_from_import_with_partial_namespaces(tmp_path):
    """Does the stepper record start, partial and fail events, the failing line and each module's partial namespace, leaving the folder unchanged?"""
    write(tmp_path / "a.py", A_PY)
    write(tmp_path / "b.py", B_FROM)
    trace = circular.record_cycle(tmp_path, "a")
    assert [(e.kind, e.module) for e in trace.events] == [
        ("start", "a"),
        ("start", "b"),
        ("partial", "a"),
        ("fail", "b"),
        ("fail", "a"),
    ]
    partial = trace.events[2]
    assert partial.importer == "b" and partial.statement == "from a import greet"
    assert partial.namespaces == {"a": ["GREETING", "sys"], "b": []}
    assert partial.states == {"a": "importing", "b": "importing"}
    assert trace.events[3].where == ("b.py", 2, "from a import greet")
    assert trace.events[3].error == "ImportError" == trace.error
    assert trace.events[-1].states == {"a": "failed", "b": "failed"}
    assert trace.events[-1].printed == ("start a", "start b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "b.py"]
    text = circular.report(trace, 2)
    assert ">  2. b runs `from a import greet`" in text
    assert "Failing line: b.py line 2: from a import greet" in text


def test_recorded_cycle_that_works_finishes_both_modules(tmp_path):
    """With `import a` and a.greet used inside a function, do both modules finish?"""
    write(tmp_path / "a.py", A_PY)
    write(tmp_path / "b.py", B_MODULE)
    trace = circular.record_cycle(tmp_path, "a")
    assert [(e.kind, e.module) for e in trace.events][-2:] == [("finish", "b"), ("finish", "a")]
    assert trace.error is None and trace.events[-1].states == {"a": "done", "b": "done"}
    assert "Result: import a worked" in circular.report(trace, 0)


# -------------------------------------------------------------- import time

REPORT = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _leaf
import time:        50 |        150 | top_one
some warning on stderr
import time:        20 |         20 |       deep
import time:        30 |         50 |     middle
import time:        10 |         10 |     other
import time:         5 |         65 |   inner
import time:         7 |         72 | top_two
"""


def test_parse_importtime_builds_the_tree():
    """Does the parser attach each module to the module printed after it, one level up, skipping other lines?"""
    roots = importtime.parse_importtime(REPORT)
    assert [r.name for r in roots] == ["top_one", "top_two"]
    assert [c.name for c in roots[0].children] == ["_leaf"]
    (inner,) = roots[1].children
    assert [c.name for c in inner.children] == ["middle", "other"]
    assert [c.name for c in inner.children[0].children] == ["deep"]
    assert [(d, n.name) for d, n in importtime.rows(roots[1])] == [
        (0, "top_two"),
        (1, "inner"),
        (2, "middle"),
        (3, "deep"),
        (2, "other"),
    ]
    assert [n.name for _, n in importtime.rows(roots[1], "self")][:2] == ["middle", "deep"]


def test_text_report_cuts_times_to_tenths_of_a_second():
    """Does the text report show seconds cut to tenths (stable from run to run), the tree indented?"""
    slow = importtime.ImportNode(
        "slow", 190_000, 290_000, [importtime.ImportNode("dep", 99_999, 99_999)]
    )
    text = importtime.report(importtime.ImportTimes("import slow", (slow,)), "slow")
    assert text.splitlines()[2:] == [
        "       0.2    0.1  slow",
        "       0.0    0.0    dep",
    ]
    assert "no line for json" in importtime.report(importtime.ImportTimes("x", (slow,)), "json")


def test_measure_runs_a_fresh_interpreter(tmp_path):
    """Is a real `import json` measured as a tree whose cumulative time adds up?"""
    times = importtime.measure("import json", cwd=tmp_path)
    node = times.find("json")
    assert node is not None
    assert {"json.decoder", "json.encoder"} <= {c.name for c in node.children}
    gap = node.cumulative_us - node.self_us - sum(c.cumulative_us for c in node.children)
    assert abs(gap) <= len(node.children) + 1
    assert "json.decoder" in importtime.report(times, "json", "cumulative")
    with pytest.raises(RuntimeError):
        importtime.measure("import no_such_module_xyz", cwd=tmp_path)


# ------------------------------------------------------------------ widgets


@pytest.fixture
def lesson_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pair" / "a.py", A_PY)
    write(tmp_path / "pair" / "b.py", B_FROM)
    write(tmp_path / "game" / "dice.py", "import random\n")
    return tmp_path


@pytest.mark.parametrize(
    ("factory", "new_value"),
    [
        (lambda: search_order.search_order_explorer("random", "game/dice.py", "script"), "json"),
        (reload_lab.reload_explorer, False),
        (lambda: circular.circular_stepper(["pair"], "a"), 3),
        (lambda: importtime.importtime_explorer(["json", "csv"]), "csv"),
    ],
    ids=["search_order", "reload_lab", "circular", "importtime"],
)
def test_explorer_keeps_the_dom_contract_and_a_static_report(lesson_folder, factory, new_value):
    """Do the explorer's classes match the contract, does the result follow the main control, and does text/plain carry the report?"""
    explorer = factory()
    assert "course-explorer" in explorer._dom_classes
    assert "course-explorer-control" in explorer.control._dom_classes
    assert type(explorer.control).__name__ in ALLOWED_CONTROLS
    assert type(explorer.result).__name__ == "HTML"
    assert "course-explorer-result" in explorer.result._dom_classes
    before_html, before_text = explorer.result.value, explorer.text
    explorer.control.value = new_value
    assert explorer.result.value != before_html and explorer.text != before_text
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == explorer.text and not explorer.text.startswith("explorer error")
    assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]


def test_explorer_shows_errors_in_its_result(lesson_folder):
    """Does a failing computation show its error in the result instead of raising?"""
    explorer = circular.circular_stepper(["pair", "missing_folder"], "a")
    explorer.children[0].value = "missing_folder"
    assert explorer.text.startswith("explorer error: FileNotFoundError")
    assert "FileNotFoundError" in explorer.result.value
