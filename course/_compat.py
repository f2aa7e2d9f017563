"""Every patch the course makes to third-party code, in one place.

Each patch names the version of the package it was written for and refuses
to apply to any other (:class:`PatchMismatch`, with the one line to act on):
a new release may have moved what it patches. The versions are pinned in
``constraints.txt``; after ``make lock`` changes one, re-read the patched
code and update the version here.

* :func:`skip_rfc3987` (jsonschema, via nbgrader): skip an import that costs
  2.5 s per process for checks nbgrader never asks for;
* :func:`tune_gradebook` (nbgrader 0.9.6): one SQLAlchemy engine per
  gradebook and process, the schema checked once, SQLite in WAL mode;
* :func:`patch_nbval_kernels` (nbval 0.11.0): nbval's kernel manager and
  kernel start, for :mod:`course.authoring.nbval_kernels`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

__all__ = [
    "PatchMismatch",
    "patch_nbval_kernels",
    "require",
    "skip_rfc3987",
    "tune_gradebook",
]


class PatchMismatch(RuntimeError):
    """A patched package is not at the version its patch was written for."""


def require(distribution: str, written_for: str) -> None:
    """Raise :class:`PatchMismatch` unless ``distribution`` is installed at
    exactly ``written_for``."""
    found = version(distribution)
    if found != written_for:
        raise PatchMismatch(
            f"course._compat patches {distribution} {written_for}, but {found} is installed: "
            f"re-read the patched code, then update the version in course/_compat.py"
        )


def skip_rfc3987() -> None:
    """Importing nbgrader imports jsonschema, which builds a grammar for its
    "iri" format checks when the optional ``rfc3987_syntax`` is installed:
    about 2.5 s per process here, for checks nbgrader never asks for.
    jsonschema imports it under ``suppress(ImportError)``.

    Side effects: ``sys.modules["rfc3987_syntax"] = None`` unless already
    imported (a later import of it raises ImportError in this process).
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


_tuned = False


def tune_gradebook() -> None:
    """nbgrader opens a new :class:`nbgrader.api.Gradebook` (a new SQLAlchemy
    engine, a schema inspection and ``create_all``) at every use. Side
    effects: patches ``nbgrader.api.create_engine`` (engines cached per URL)
    and ``nbgrader.api.Base.metadata.create_all`` (once per URL) in this
    process, and registers a SQLAlchemy connect hook that puts SQLite
    connections in WAL mode with ``synchronous=NORMAL`` (a commit no longer
    waits for the disk; a crash can lose the last commits, never corrupt
    the file; readers no longer block the writer). Idempotent."""
    global _tuned
    if _tuned:
        return
    require("nbgrader", "0.9.6")
    _tuned = True
    import nbgrader.api as api
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    engines: dict[str, Any] = {}
    checked: set[str] = set()
    create_engine, create_all = api.create_engine, api.Base.metadata.create_all

    def cached_engine(url: str, **kwargs: Any) -> Any:
        key = str(url)
        if key not in engines:
            engines[key] = create_engine(url, **kwargs)
        return engines[key]

    def create_all_once(bind: Any = None, **kwargs: Any) -> None:
        key = str(bind.url) if bind is not None else ""
        if key not in checked:
            create_all(bind=bind, **kwargs)
            checked.add(key)

    def wal(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    api.create_engine = cached_engine
    api.Base.metadata.create_all = create_all_once  # type: ignore[method-assign]
    event.listen(Engine, "connect", wal)


def patch_nbval_kernels(manager: type, start: Callable[..., Any]) -> Callable[..., Any]:
    """Make nbval start its kernels with ``manager`` and ``start`` (nbval
    looks both up in ``nbval.kernel`` at call time). Returns nbval's own
    ``start_new_kernel``. Side effects: replaces the two names in
    ``nbval.kernel`` for this process."""
    require("nbval", "0.11.0")
    import nbval.kernel

    original = nbval.kernel.start_new_kernel
    nbval.kernel.KernelManager = manager  # type: ignore[misc]
    nbval.kernel.start_new_kernel = start
    return original
