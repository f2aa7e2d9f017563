"""Small tools that several lessons' demos and tests share.

Each one is about running or showing something, never the lesson's subject
itself (a lesson that teaches how to build a zip keeps its own code).
Standard library only; side effects stated in each docstring.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess

__all__ = ["error_type", "make_zip", "on_sys_path", "python", "show_path"]

_LAST_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def python(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 30,
) -> CompletedProcess[str]:
    """``python(*args)`` runs a fresh interpreter, as :func:`course.lesson.run_python`
    does (explicit working folder, minimal environment, empty input, a
    timeout). No side effects in this process."""
    from .scratch import run_python

    return run_python(list(args), cwd=cwd, env=env, input=input, timeout=timeout)


def error_type(result: CompletedProcess[str]) -> str | None:
    """The name of the exception that ended a child Python (the last
    traceback line's type, e.g. ``"ImportError"``), or None when it did not
    end with a traceback. Message texts differ between versions; types do
    not, so tests compare these."""
    for line in reversed(result.stderr.strip().splitlines()):
        match = _LAST_LINE.match(line)
        if match and not line.startswith(("  ", "Traceback")):
            return match.group(1).rpartition(".")[2]
    return None


def show_path(path: str | os.PathLike[str] | None) -> str:
    """``path`` as a reader should see it: relative to the kernel's scratch
    folder when inside it (``pkg/mod.py``), else with the home folder or
    Python's installation replaced by a short name; None shows as ``None``.
    No side effects."""
    if path is None:
        return "None"
    from .scratch import _scratch

    p = Path(path)
    candidates = []
    if _scratch is not None:
        candidates.append((_scratch, ""))
    candidates += [
        (Path(sys.base_prefix), "<python>"),
        (Path(sys.prefix), "<env>"),
        (Path.home(), "~"),
    ]
    for base, name in candidates:
        try:
            rel = p.resolve().relative_to(base.resolve())
        except (OSError, ValueError):
            continue
        text = rel.as_posix()
        return f"{name}/{text}" if name else (text or ".")
    return p.as_posix()


@contextmanager
def on_sys_path(*folders: str | os.PathLike[str]) -> Iterator[None]:
    """Put ``folders`` at the front of ``sys.path`` for the ``with`` block.

    Side effects: ``sys.path`` is restored from a saved copy on exit (as
    CPython's ``test.support.import_helper.DirsOnSysPath`` does: entries are
    never removed by value, so a folder that was already there stays);
    ``importlib.invalidate_caches()`` is called on entry.
    """
    saved = list(sys.path)
    sys.path[:0] = [os.fspath(f) for f in folders]
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path[:] = saved


def make_zip(
    folder: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    directories: bool = True,
) -> Path:
    """Zip everything under ``folder`` into ``target``, paths relative to
    ``folder``, in sorted order, skipping ``__pycache__``. With
    ``directories`` (the default, as ``zipapp`` and ``zip -r`` do) each
    folder also gets its own entry (``pkg/``): namespace packages in a zip
    are found only through such entries. Returns ``target``.

    Side effects: writes ``target``.
    """
    root = Path(folder)
    out = Path(target)
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if "__pycache__" in rel.parts or path.resolve() == out.resolve():
                continue
            if path.is_dir():
                if directories:
                    archive.writestr(rel.as_posix() + "/", b"")
            else:
                archive.write(path, rel.as_posix())
    return out
