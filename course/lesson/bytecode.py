"""Lesson 08's tools for watching bytecode caching.

The lesson is about ``.pyc`` files; these helpers do the plumbing around
them, so that its cells stay about the idea: :func:`import_trace` runs a
fresh interpreter with ``-v`` and keeps what import says about the lesson's
own files; :func:`code_from` says whether a fresh import took a module's code
from its ``.pyc`` or from its source; :func:`write_at` writes a file with an
exact modification time; :func:`writing_bytecode` lets imports write
``.pyc`` files for the length of a ``with`` block, whatever the machine's
settings (``PYTHONDONTWRITEBYTECODE`` may be set or not; design.md trap 6).

Standard library only; nothing runs at import time. Side effects are stated
in each docstring.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .tools import error_type

__all__ = ["code_from", "import_trace", "write_at", "writing_bytecode"]

#: What ``python -v`` says about where code comes from and what it caches.
_REPORTS = ("code object from ", "created ", " matches ")


def _run(args: list[str], cwd: str | os.PathLike[str], env: Mapping[str, str] | None):
    from . import run_python

    result = run_python(args, cwd=cwd, env=env, timeout=30)
    if result.returncode != 0:
        why = error_type(result) or f"exit status {result.returncode}"
        raise RuntimeError(f"python {' '.join(args)} failed with {why}")
    return result


def import_trace(
    *args: str, cwd: str | os.PathLike[str] = ".", env: Mapping[str, str] | None = None
) -> list[str]:
    """Run ``python -v *args`` in a fresh interpreter (see
    :func:`course.lesson.run_python`: working folder ``cwd``, a minimal
    environment plus ``env``, so bytecode writing is on unless ``args`` or
    ``env`` turn it off) and return what import reported about the files in
    ``cwd``, in order, with paths relative to ``cwd``::

        ["code object from cache_demo.py",
         "created __pycache__/cache_demo.cpython-311.pyc"]

    Raises ``RuntimeError`` when the child fails. Side effects: the child
    runs (and may write ``.pyc`` files in ``cwd``).
    """
    folder = str(Path(cwd).resolve())
    result = _run(["-v", *args], cwd, env)
    found = []
    for line in result.stderr.splitlines():
        text = line.lstrip("# ")
        if folder in text and any(report in text for report in _REPORTS):
            found.append(text.replace("'", "").replace(folder + os.sep, ""))
    return found


def code_from(module: str, cwd: str | os.PathLike[str] = ".") -> str:
    """Where a fresh interpreter, importing ``module`` from ``cwd`` with
    ``-B`` (so it writes nothing), took the module's code from: ``"the
    .pyc"`` (its file in ``__pycache__``) or ``"the source"``. Raises
    ``RuntimeError`` when the import fails. Side effects: the child runs."""
    folder = Path(cwd).resolve()
    result = _run(["-B", "-v", "-c", f"import {module}"], cwd, None)
    cached = importlib.util.cache_from_source(str(folder / f"{module}.py"))
    pattern = re.compile(r"code object from '?" + re.escape(cached) + r"'?$")
    if any(pattern.search(line) for line in result.stderr.splitlines()):
        return "the .pyc"
    return "the source"


def write_at(path: str | os.PathLike[str], text: str, mtime_ns: int) -> None:
    """Write ``text`` to ``path`` (UTF-8) and give the file the modification
    (and access) time ``mtime_ns``, in nanoseconds since 1970, so that a
    demo does not depend on how fast two writes follow each other.

    Side effects: writes the file, sets its times, and calls
    ``importlib.invalidate_caches()`` so that finders see a new file."""
    Path(path).write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))
    importlib.invalidate_caches()


@contextmanager
def writing_bytecode() -> Iterator[None]:
    """Let imports in the ``with`` block write ``.pyc`` files.

    Side effects: sets ``sys.dont_write_bytecode`` to False, and restores
    the value it had on exit, also when the block raises."""
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved
