"""Lesson 07's tools for trying import cycles in fresh interpreters.

A fix for an import cycle must work whichever module is imported first and
when either module is run as a script. :func:`four_ways` tries a pair of
modules all four ways, each in a fresh Python; :func:`frames` picks out of a
traceback the lines of the lesson's own files, which is where a cycle shows
(a module that appears twice in the chain of imports). The plumbing lives
here so that the lesson's cells stay about the idea.

Standard library only; nothing runs at import time. Side effects are stated
in each docstring: the functions start child processes and read files, and
change nothing in the calling process.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from .tools import error_type

__all__ = ["Runs", "four_ways", "frames", "message", "outcome"]

_FRAME = re.compile(r'^\s*File "(.+)", line (\d+)', re.MULTILINE)


def outcome(result: CompletedProcess[str]) -> str:
    """How a child Python ended: ``"ok"`` when it exited with status 0, else
    the type of the exception that ended it (``"ImportError"``; see
    :func:`course.lesson.error_type`), or ``"exit status N"`` when it ended
    without a traceback. No side effects."""
    if result.returncode == 0:
        return "ok"
    return error_type(result) or f"exit status {result.returncode}"


class Runs(dict[str, str]):
    """What :func:`four_ways` found: each run's label (``"import a, b"``,
    ``"python a.py"``) mapped to its :func:`outcome`, in the order the runs
    were listed. Shown as a two-column table."""

    def __repr__(self) -> str:
        width = max((len(label) for label in self), default=0) + 2
        return "\n".join(f"{label:<{width}}{result}" for label, result in self.items())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's display: the same table as :meth:`__repr__`."""
        printer.text(repr(self))


def _runs(first: str, second: str) -> dict[str, list[str]]:
    return {
        f"import {first}, {second}": ["-c", f"import {first}, {second}"],
        f"import {second}, {first}": ["-c", f"import {second}, {first}"],
        f"python {first}.py": [f"{first}.py"],
        f"python {second}.py": [f"{second}.py"],
    }


def four_ways(
    folder: str | os.PathLike[str], first: str, second: str, *, timeout: float = 30
) -> Runs:
    """Try the modules ``first`` and ``second`` of ``folder`` the four ways a
    program meets them: ``import first, second``, ``import second, first``,
    ``python first.py`` and ``python second.py``, each in a fresh
    interpreter (:func:`course.lesson.run_python`, with ``-B`` so that no
    ``.pyc`` is written, the working folder ``folder``, a minimal
    environment and ``timeout`` seconds). The four runs are independent and
    run side by side. Returns a :class:`Runs`, which displays as a table.

    Side effects: four child processes, which run the modules' code; nothing
    changes in this process.
    """
    from . import run_python

    runs = _runs(first, second)
    cwd = os.fspath(folder)

    def run(args: list[str]) -> CompletedProcess[str]:
        return run_python(["-B", *args], cwd=cwd, timeout=timeout)

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        results = list(pool.map(run, runs.values()))
    return Runs((label, outcome(result)) for label, result in zip(runs, results, strict=True))


def frames(result: CompletedProcess[str], folder: str | os.PathLike[str]) -> list[str]:
    """The frames of the traceback in ``result.stderr`` whose file is in
    ``folder`` (not the standard library's), outermost first, each as
    ``"a.py, line 5: import b"``: the file's name, the line number and that
    line's code, read from the file. A cycle shows as a module that appears
    twice. Side effects: reads those files."""
    base = Path(folder).resolve()
    found = []
    for match in _FRAME.finditer(result.stderr):
        path, number = Path(match[1]), int(match[2])
        try:
            if path.parent.resolve() != base:
                continue
            code = path.read_text(encoding="utf-8").splitlines()[number - 1].strip()
        except (OSError, IndexError, UnicodeDecodeError):
            continue
        found.append(f"{path.name}, line {number}: {code}")
    return found


def message(result: CompletedProcess[str], folder: str | os.PathLike[str]) -> str:
    """The last line of the traceback in ``result.stderr`` (the exception's
    type and message), with the absolute path of ``folder`` written as
    ``folder`` itself, so that ``'/home/.../step/a.py'`` reads
    ``'step/a.py'``; empty when there is no such line. No side effects."""
    lines = result.stderr.strip().splitlines()
    if not lines:
        return ""
    line = lines[-1]
    shown = Path(folder).as_posix()
    for base in {str(Path(folder).resolve()), str(Path(folder).absolute())}:
        line = line.replace(base, shown)
    return line
