"""Each kernel's own scratch folder, and importing and running what a lesson writes there.

:func:`start_lesson` (the set-up cell) gives the kernel its folder and works
in it; :func:`fresh_import` imports the modules written there afresh;
:func:`run_python` runs a fresh interpreter. Standard library only; no work
at import time. Side effects are stated in each docstring.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

__all__ = [
    "SCRATCH_NAME",
    "NotAnswered",
    "forget",
    "fresh_import",
    "run_python",
    "scratch_folder",
    "start_lesson",
]

#: Name of the folder, next to the notebook, that holds one scratch folder
#: per running kernel. It is in nbgrader's ``CourseDirectory.ignore`` and in
#: ``.gitignore``, so modules written there never reach ``release/`` or a
#: submission.
SCRATCH_NAME = "_scratch"

#: What nbgrader leaves in an answer cell that was not answered yet.
_STUB_LINE = "raise NotImplementedError()"
#: Scratch entries younger than this (seconds) are never cleaned up: another
#: kernel may be creating them right now.
_GRACE = 60

_home: Path | None = None  # the notebook's folder (where the kernel started)
_lesson: str | None = None  # the lesson id start_lesson was given
_scratch: Path | None = None  # this kernel's own scratch folder
_lock = None  # the open, locked file that says this kernel's folder is in use


class NotAnswered(Exception):
    """An exercise's module is still the stub it was given.

    Shown in Jupyter as one line (IPython uses ``_render_traceback_``), not
    as a traceback through the course's helpers and importlib.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"NotAnswered: {self}"]


def scratch_folder() -> Path:
    """Return this kernel's scratch folder (no side effects)."""
    if _scratch is None:
        raise RuntimeError("run the notebook's set-up cell first (start_lesson)")
    return _scratch


def _is_inside(path: str | None, folder: Path) -> bool:
    if not path:
        return False
    try:
        Path(path).resolve().relative_to(folder.resolve())
    except (OSError, ValueError):
        return False
    return True


def forget(*names: str) -> None:
    """Remove modules and their submodules from ``sys.modules``.

    Side effects: deletes the entries ``name`` and ``name.*`` from
    ``sys.modules`` and calls ``importlib.invalidate_caches()``. Objects that
    other code still references stay alive; nothing is "unloaded".
    """
    for name in names:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
    importlib.invalidate_caches()


def _try_lock(path: Path) -> object | None:
    """Open ``path`` and take an exclusive, non-blocking lock on it; the open
    file while the lock is held, None when another process holds it."""
    handle = open(path, "a+b")  # noqa: SIM115  (kept open: it is the lock)
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _clean_stale(base: Path) -> None:
    """Remove the scratch folders of kernels that have ended (their lock is
    free) and anything else in ``base`` that no running kernel owns, except
    entries younger than a minute."""
    now = time.time()
    try:
        entries = list(base.iterdir())
    except OSError:
        return
    live = set()
    for lock in [e for e in entries if e.suffix == ".lock"]:
        folder = lock.with_suffix("")
        if _scratch is not None and folder == _scratch:
            live.add(folder.name)
            continue
        handle = _try_lock(lock)
        if handle is None:
            live.add(folder.name)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            lock.unlink(missing_ok=True)
        finally:
            handle.close()  # type: ignore[attr-defined]
    for entry in entries:
        if entry.suffix == ".lock" or entry.name in live:
            continue
        try:
            if now - entry.lstat().st_mtime < _GRACE:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        except OSError:
            pass


def _remove_own_folder() -> None:
    """At the kernel's exit: remove its scratch folder and lock (atexit)."""
    if _scratch is None or _home is None:
        return
    with contextlib.suppress(OSError):
        os.chdir(_home)
    shutil.rmtree(_scratch, ignore_errors=True)
    if _lock is not None:
        _lock.close()  # type: ignore[attr-defined]
    _scratch.with_suffix(".lock").unlink(missing_ok=True)


def start_lesson(lesson: str) -> None:
    """Give this kernel a fresh, empty scratch folder of its own and work in it.

    Side effects, all on purpose and all in the running kernel:

    * this kernel's folder ``_scratch/k<pid>/`` next to the notebook is
      deleted and made again, empty, and becomes the working directory (so
      ``%%writefile`` writes there and ``import`` finds the modules written
      there). Other kernels working on the same notebook (a second tab,
      nbgrader's Validate) have folders of their own, which are never
      touched while their kernel runs; the folders of kernels that have
      ended are removed, and this kernel removes its own when it exits;
    * every module imported from the scratch folders is removed from
      ``sys.modules``, and stale finders for them from
      ``sys.path_importer_cache``; then ``importlib.invalidate_caches()``;
    * ``sys.dont_write_bytecode`` is set to True, so no ``__pycache__`` can
      hold stale bytecode for a module that a test rewrites (design.md
      trap 7; lesson 08 turns bytecode back on where it teaches it), and
      ``sys.pycache_prefix`` to None, so a ``PYTHONPYCACHEPREFIX`` in the
      student's environment does not move ``__pycache__`` elsewhere.

    Running it again in the same kernel starts over in the same folder.
    Returns None, so that a set-up cell ending in this call displays no
    (machine-specific) path; :func:`scratch_folder` gives the path.
    """
    global _home, _scratch, _lock, _lesson
    _lesson = lesson
    if _home is None:
        cwd = Path.cwd()
        parts = cwd.parts
        _home = Path(*parts[: parts.index(SCRATCH_NAME)]) if SCRATCH_NAME in parts else cwd
    base = _home / SCRATCH_NAME
    os.chdir(_home)
    stale = [
        name
        for name, module in list(sys.modules.items())
        if _is_inside(getattr(module, "__file__", None), base)
        or any(_is_inside(p, base) for p in getattr(module, "__path__", None) or ())
    ]
    for name in stale:
        del sys.modules[name]
    for key in [k for k in sys.path_importer_cache if _is_inside(k, base)]:
        del sys.path_importer_cache[key]
    sys.path[:] = [p for p in sys.path if not _is_inside(p, base)]
    base.mkdir(exist_ok=True)
    if _scratch is None:
        _scratch = base / f"k{os.getpid()}"
        _lock = _try_lock(_scratch.with_suffix(".lock"))
        atexit.register(_remove_own_folder)
    shutil.rmtree(_scratch, ignore_errors=True)
    _clean_stale(base)
    _scratch.mkdir()
    os.chdir(_scratch)
    sys.dont_write_bytecode = True
    sys.pycache_prefix = None
    importlib.invalidate_caches()
    print(f"Lesson {lesson}: working in a fresh, empty scratch folder ({SCRATCH_NAME}/).")


def _unanswered(name: str, scratch: Path) -> str | None:
    """The file of module ``name`` in the scratch folder when it is still
    the stub an unanswered exercise leaves, else None."""
    for candidate in (scratch / f"{name.replace('.', '/')}.py", scratch / name / "__init__.py"):
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = [
            ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")
        ]
        if lines == [_STUB_LINE]:
            return candidate.relative_to(scratch).as_posix()
    return None


def fresh_import(*names: str) -> ModuleType | tuple[ModuleType, ...]:
    """Import each of ``names`` anew from the scratch folder, as a first
    import would, and return the module (or a tuple, for several names).

    All of ``names`` are forgotten first (see :func:`forget`), then imported
    in order, so ``fresh_import("counter", "tally")`` gives a ``tally`` that
    imported the new ``counter``. A module found anywhere but in the scratch
    folder (say, a same-named module elsewhere on ``sys.path``) raises
    ``ImportError``: the test is about the module written in the lesson. A
    module whose file is still the stub of an unanswered exercise raises
    :class:`NotAnswered` with a one-line message.

    Side effects: the modules' code runs again and the new module objects
    are left in ``sys.modules``.
    """
    __tracebackhide__ = True
    forget(*names)
    scratch = scratch_folder()
    modules = []
    for name in names:
        stub = _unanswered(name, scratch)
        if stub is not None:
            raise NotAnswered(
                f"{stub} is not written yet: answer its exercise, run that cell, then this one"
            )
        module = importlib.import_module(name)
        where = [getattr(module, "__file__", None), *(getattr(module, "__path__", None) or ())]
        if not any(_is_inside(p, scratch) for p in where):
            forget(name)
            raise ImportError(
                f"{name!r} was not found in the scratch folder; run its %%writefile cell"
            )
        modules.append(module)
    return modules[0] if len(modules) == 1 else tuple(modules)


def run_python(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``sys.executable`` with ``args`` in a fresh interpreter.

    The child gets an explicit working directory (default: the current one),
    an explicit, minimal environment (``PATH``, ``HOME``, ``LANG`` and
    ``SYSTEMROOT`` from ours, ``PYTHONIOENCODING=utf-8``, plus ``env``; no
    ``PYTHONPATH``, no ``PYTHONDONTWRITEBYTECODE`` unless ``env`` sets them)
    and a timeout.
    Its standard input is ``input`` when given, else empty (never the
    kernel's), so a child that reads it cannot hang. Output is captured as
    text; the result is returned, not checked.
    No side effects in this process.
    """
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
    base.setdefault("LANG", "C.UTF-8")
    base["PYTHONIOENCODING"] = "utf-8"
    base.update(env or {})
    return subprocess.run(
        [sys.executable, *args],
        cwd=os.fspath(cwd) if cwd is not None else None,
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **({"input": input} if input is not None else {"stdin": subprocess.DEVNULL}),
    )
