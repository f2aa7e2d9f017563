"""Helpers that the course notebooks import at run time.

Every notebook's locked set-up cell calls :func:`start_lesson`, and test cells
use :func:`fresh_import` and :func:`run_python`. Nothing here does any work at
import time.

Side effects are stated in each docstring. In short: :func:`start_lesson`
changes the working directory, ``sys.modules``, ``sys.path_importer_cache``
and ``sys.dont_write_bytecode`` of the *kernel* on purpose, because that is
what makes "Restart and Run All" repeatable; the other helpers restore
everything they change.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

__all__ = [
    "SCRATCH_NAME",
    "forget",
    "fresh_import",
    "run_python",
    "scratch_folder",
    "start_lesson",
]

#: Name of the folder, next to the notebook, that a lesson writes its modules
#: into. It is in nbgrader's ``CourseDirectory.ignore`` and in ``.gitignore``,
#: so modules written there never reach ``release/`` or a submission.
SCRATCH_NAME = "_scratch"

# The folder the kernel was in when start_lesson() first ran: re-running the
# set-up cell must not nest scratch folders inside each other.
_home: Path | None = None


def scratch_folder() -> Path:
    """Return the current lesson's scratch folder (no side effects)."""
    if _home is None:
        raise RuntimeError("run the notebook's set-up cell first (start_lesson)")
    return _home / SCRATCH_NAME


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


def start_lesson(lesson: str) -> None:
    """Give the notebook a fresh, empty scratch folder and work in it.

    Side effects, all on purpose and all in the running kernel:

    * the scratch folder ``_scratch/`` next to the notebook is deleted and
      made again, empty, and becomes the working directory (so ``%%writefile``
      writes there and ``import`` finds the modules written there);
    * every module imported from a scratch folder is removed from
      ``sys.modules``, and stale finders for it from
      ``sys.path_importer_cache``; then ``importlib.invalidate_caches()``;
    * ``sys.dont_write_bytecode`` is set to True, so no ``__pycache__`` can
      hold stale bytecode for a module that a test rewrites (design.md
      trap 7; lesson 08 turns bytecode back on where it teaches it), and
      ``sys.pycache_prefix`` to None, so a ``PYTHONPYCACHEPREFIX`` in the
      student's environment does not move ``__pycache__`` elsewhere.

    Running it again in the same kernel starts over from the same folder.
    Returns None, so that a set-up cell ending in this call displays no
    (machine-specific) path; :func:`scratch_folder` gives the path.
    """
    global _home
    if _home is None:
        cwd = Path.cwd()
        _home = cwd.parent if cwd.name == SCRATCH_NAME else cwd
    scratch = _home / SCRATCH_NAME
    os.chdir(_home)
    stale = [
        name
        for name, module in list(sys.modules.items())
        if _is_inside(getattr(module, "__file__", None), scratch)
        or any(_is_inside(p, scratch) for p in getattr(module, "__path__", None) or ())
    ]
    for name in stale:
        del sys.modules[name]
    for key in [k for k in sys.path_importer_cache if _is_inside(k, scratch)]:
        del sys.path_importer_cache[key]
    sys.path[:] = [p for p in sys.path if not _is_inside(p, scratch)]
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    os.chdir(scratch)
    sys.dont_write_bytecode = True
    sys.pycache_prefix = None
    importlib.invalidate_caches()
    print(f"Lesson {lesson}: working in a fresh, empty scratch folder ({SCRATCH_NAME}/).")


def fresh_import(*names: str) -> ModuleType | tuple[ModuleType, ...]:
    """Import each of ``names`` anew from the scratch folder, as a first
    import would, and return the module (or a tuple, for several names).

    All of ``names`` are forgotten first (see :func:`forget`), then imported
    in order, so ``fresh_import("counter", "tally")`` gives a ``tally`` that
    imported the new ``counter``. A module found anywhere but in the scratch
    folder (say, a same-named module elsewhere on ``sys.path``) raises
    ``ImportError``: the test is about the module written in the lesson.

    Side effects: the modules' code runs again and the new module objects
    are left in ``sys.modules``.
    """
    forget(*names)
    scratch = scratch_folder()
    modules = []
    for name in names:
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
