"""Lesson 09's plumbing: run a program in a fresh interpreter and show what
it printed, list a zip archive, find an extension module file.

The lesson's subject (running folders and zip files, ``zipapp``,
``importlib.resources``) stays in the notebook; these helpers only keep its
teaching cells short. Standard library only; no work at import time; side
effects stated in each docstring.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from subprocess import CompletedProcess

__all__ = [
    "EXTENSION_CANDIDATES",
    "extension_module",
    "printed",
    "require_answered",
    "show",
    "show_run",
    "zip_names",
]

#: Standard-library modules that are often compiled extension files (which
#: ones are depends on how Python was built: on Debian ``math`` and
#: ``array`` are built in, elsewhere they are files). Tried in this order.
EXTENSION_CANDIDATES = ("_bz2", "_lzma", "_decimal", "_csv", "_json", "array", "math", "_struct")


def _shown(text: str, folder: Path) -> str:
    """``text`` with every spelling of ``folder``'s path replaced by ``<scratch>``."""
    spellings = {str(folder), str(folder.resolve())}
    for spelling in sorted(spellings, key=len, reverse=True):
        text = text.replace(spelling, "<scratch>")
    return text


def show(result: CompletedProcess[str]) -> None:
    """Print what a finished child Python printed: its standard output, with
    the path of this kernel's scratch folder shown as ``<scratch>`` (paths
    differ on every machine); and, when it failed, ``exit status N`` and the
    type of the error that ended it (see :func:`course.lesson.error_type`)
    instead of its traceback, whose text differs between Python versions.

    Side effects: prints; nothing else.
    """
    from . import error_type, scratch_folder

    print(_shown(result.stdout, scratch_folder()), end="")
    if result.returncode != 0:
        kind = error_type(result)
        print(f"exit status {result.returncode}" + (f", {kind}" if kind else ""))


def show_run(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> None:
    """Run ``python -B *args`` in a fresh interpreter and :func:`show` what it
    printed.

    The child runs as :func:`course.lesson.run_python` runs it (an explicit
    working folder, by default the current one; a minimal environment plus
    ``env``; empty standard input; a timeout). ``-B`` keeps it from writing
    ``__pycache__`` folders. Returns None, so that a cell ending in this call
    shows only the child's output (use ``run_python`` and :func:`show` to
    keep the result).

    Side effects: prints; nothing else in this process.
    """
    from . import run_python

    show(run_python(["-B", *args], cwd=cwd, env=env, timeout=timeout))


def printed(result: CompletedProcess[str]) -> str:
    """What a finished child Python printed, for a check's message: its
    standard output (as a ``repr``), and the last line of its standard error
    (usually the error that ended it) when there is one. No side effects."""
    error = result.stderr.strip().splitlines()
    return repr(result.stdout) + (f" and the error {error[-1]!r}" if error else "")


#: The line nbgrader leaves in an answer cell that was not answered.
_STUB = "raise NotImplementedError()"


def require_answered(*paths: str | os.PathLike[str]) -> None:
    """Raise :class:`course.lesson.NotAnswered` (shown as one line, without a
    traceback) when one of the files ``paths`` is missing or is still the
    stub of an unanswered exercise: for checks that run the student's files
    in a fresh interpreter, where ``fresh_import`` cannot tell. No side
    effects."""
    from . import NotAnswered

    for path in map(Path, paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = _STUB
        lines = [
            ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
        ]
        if lines in ([], [_STUB]):
            raise NotAnswered(
                f"{path.as_posix()} is not written yet: answer its exercise, run that cell, then this one"
            )


def zip_names(path: str | os.PathLike[str]) -> list[str]:
    """The names in the zip archive at ``path``, in the archive's order.
    No side effects."""
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def extension_module() -> tuple[str, Path] | None:
    """The name and file of a standard-library module that is a compiled
    extension file (``.so``/``.pyd``) in this Python, or None when none of
    :data:`EXTENSION_CANDIDATES` is one. Finds, never imports (a top-level
    name's spec is found without running any module). No side effects."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name in EXTENSION_CANDIDATES:
        spec = importlib.util.find_spec(name)
        origin = getattr(spec, "origin", None) or ""
        if origin.endswith(suffixes) and Path(origin).is_file():
            return name, Path(origin)
    return None
