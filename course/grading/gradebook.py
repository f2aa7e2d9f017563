"""Cheaper gradebook access for processes that open it hundreds of times.

nbgrader opens a new :class:`nbgrader.api.Gradebook` (a new SQLAlchemy
engine, a schema inspection and ``create_all``) about a dozen times per
submission, and commits about two dozen times, each an fsync in SQLite's
default rollback-journal mode. Measured by ``benchmarks/profile_grade.py``
on lesson 01: 0.08-0.30 s per submission in openings and 0.15-0.28 s in
commits. :func:`tune` makes a process keep one engine per gradebook URL and
check the schema once, and puts SQLite connections in WAL mode with
``synchronous=NORMAL``: a commit no longer waits for the disk (a crash can
lose the last commits, never corrupt the file), and readers no longer
block the writer when several workers share one gradebook.
"""

from __future__ import annotations

from typing import Any

__all__ = ["tune"]

_done = False


def tune() -> None:
    """Side effects: patches ``nbgrader.api.create_engine`` and
    ``nbgrader.api.Base.metadata.create_all`` in this process (engines are
    cached per URL; the schema is checked once per URL) and registers a
    SQLAlchemy connect hook that sets WAL mode on SQLite connections. WAL
    mode is stored in the database file. Idempotent."""
    global _done
    if _done:
        return
    _done = True
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
