"""``check()``: the student's own check of their exercises, in their kernel.

Reads the notebook the student has open (as last saved; its test cells are
locked, so they are the course's), finds each exercise's visible test
cells under its ``### Exercise N.M`` heading, runs each in a fresh
namespace holding the set-up's names, and prints one short report: the
first failing check's message first, then the exercises not answered yet
on one line. Output the checks print is not shown (it would bury the
report). Nothing is graded; grading runs the hidden checks too.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

__all__ = ["check", "find_notebook", "report", "run_exercise", "setup_source", "test_cells"]

_HEADING = re.compile(
    r"^#{2,4}\s*Exercise\s+(\d+(?:\.\d+)*)\b\s*[\u2014\u2013-]?\s*(.*)$", re.MULTILINE
)


def find_notebook(home: Path | None, lesson: str | None) -> Path | None:
    """The notebook this kernel runs: Jupyter names it in ``JPY_SESSION_NAME``;
    otherwise the lesson's notebook in the folder the kernel started in."""
    named = os.environ.get("JPY_SESSION_NAME")
    candidates = []
    if named:
        candidates.append(Path(named) if Path(named).is_absolute() else Path.cwd() / named)
        if home is not None:
            candidates.append(home / Path(named).name)
    if home is not None and lesson:
        candidates.append(home / f"{lesson}.ipynb")
    for path in candidates:
        if path.suffix == ".ipynb" and path.is_file():
            return path
    return None


def _text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def setup_source(notebook: Path) -> str:
    """The notebook's set-up cell (grade id ``setup``), or ``""``."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup":
            return _text(cell)
    return ""


def _setup_namespace(source: str, names: dict) -> dict:
    """The names the set-up cell binds (its imports and assignments), run
    without its call to ``start_lesson`` (the kernel's scratch folder stays
    as it is)."""
    import ast

    namespace = {"__name__": "__main__", **names}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return namespace
    tree.body = [
        node
        for node in tree.body
        if not (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "start_lesson"
        )
    ]
    # A set-up the student broke is left half-run: the checks then say what fails.
    with contextlib.suppress(Exception):
        exec(compile(tree, "<setup>", "exec"), namespace)
    return namespace


def test_cells(notebook: Path) -> list[tuple[str, str, list[str]]]:
    """``(number, title, [test cell source, ...])`` per exercise, in order."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    exercises: list[tuple[str, str, list[str]]] = []
    for cell in nb.get("cells", []):
        text = _text(cell)
        if cell.get("cell_type") == "markdown":
            for number, rest in _HEADING.findall(text):
                exercises.append((number, rest.strip(), []))
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and exercises:
            exercises[-1][2].append(text)
    return exercises


def _first_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first.strip().strip("\"'#").strip()


def run_exercise(sources: list[str], names: dict) -> tuple[str, str]:
    """Run an exercise's test cells; ``("passed", "")``, ``("unanswered",
    message)`` or ``("failed", "what it checks: message")``."""
    from .scratch import NotAnswered

    for source in sources:
        namespace = dict(names)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                exec(compile(source, "<check>", "exec"), namespace)
        except NotAnswered as exc:
            return "unanswered", str(exc)
        except AssertionError as exc:
            message = str(exc) or "a check failed (it gives no message)"
            return "failed", f"{_first_line(source)}\n    {message}"
        except Exception as exc:
            return "failed", f"{_first_line(source)}\n    {type(exc).__name__}: {exc}"
    return "passed", ""


def _setup_names() -> dict:
    """The names a set-up cell can import from ``course.lesson``."""
    from . import scratch, tools

    names = {n: getattr(scratch, n) for n in scratch.__all__}
    names.update({n: getattr(tools, n) for n in tools.__all__})
    names["check"] = check
    return names


def check(exercise: str | None = None) -> None:
    """Run the visible checks of one exercise (``check("1.2")``) or of all
    of them (``check()``) against the modules you last wrote, and print a
    short report: the first failing check's message first, then the
    exercises that are not answered yet, on one line.

    The checks are the test cells of the notebook you have open (as last
    saved), run here in fresh namespaces. Side effects: those of the checks
    (they import your modules afresh); nothing is graded.
    """
    from . import scratch

    report(exercise, scratch._home, scratch._lesson)


def report(exercise: str | None, home: Path | None, lesson: str | None) -> None:
    """Print the report described in the module docstring."""
    notebook = find_notebook(home, lesson)
    if notebook is None:
        print("check: cannot find this notebook; run the set-up cell first, and save the notebook")
        return
    exercises = test_cells(notebook)
    wanted = exercise.strip() if exercise else None
    if wanted is not None:
        exercises = [e for e in exercises if e[0] == wanted]
        if not exercises:
            print(f"check: this notebook has no exercise {wanted}")
            return
    names = _setup_namespace(setup_source(notebook), _setup_names())
    passed, unanswered, failures = [], [], []
    for number, title, sources in exercises:
        if not sources:
            continue
        status, message = run_exercise(sources, names)
        label = f"Exercise {number}" + (f" — {title}" if title else "")
        if status == "passed":
            passed.append(f"Exercise {number}")
        elif status == "unanswered":
            unanswered.append(f"Exercise {number}")
        else:
            failures.append(f"✗ {label}\n  {message}")
    for failure in failures:
        print(failure)
    if passed:
        print("✓ Passed the visible checks: " + ", ".join(passed) + ".")
    if unanswered:
        print("Not answered yet: " + ", ".join(unanswered) + ".")
    if not failures and not unanswered and passed:
        print("All visible checks pass. More checks are hidden and run when your work is graded.")
