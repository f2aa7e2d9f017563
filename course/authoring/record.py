"""`course record`: re-execute source notebooks and store their outputs.

Each notebook runs from a clean kernel in a temporary folder (never in
``source/``: design.md traps 1 and 2), then its outputs are stored,
normalised (:func:`course.notebooks.normalise`), for nbval's strict mode.
Only the notebook file itself is written, and only when it changed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from .. import notebooks as nbs
from ..coursedir import Course, CourseError
from ..kernels import ipc_config, private_sockets

__all__ = ["execute_copy", "record"]


def execute_copy(notebook: Path, *, timeout: int = 120):
    """Execute ``notebook`` in a fresh kernel in a temporary working folder
    and return the executed notebook (the file is not changed).

    Raises :class:`CourseError` naming the cell for an unexpected error
    (cells tagged ``raises-exception`` may raise).
    """
    nb = nbs.read(notebook)
    with tempfile.TemporaryDirectory(prefix="course-record-") as tmp, private_sockets() as sockets:
        client = NotebookClient(
            nb,
            config=ipc_config(sockets),
            timeout=timeout,
            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
            resources={"metadata": {"path": tmp}},
            record_timing=False,
        )
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            first = str(exc).strip().splitlines()
            raise CourseError(
                f"{notebook}: execution failed: {first[-1] if first else type(exc).__name__}"
            ) from exc
    return nb


def record(course: Course, lessons: list[str]) -> list[tuple[str, float, bool]]:
    """Re-execute and store outputs of ``lessons``' source notebooks.

    Side effects: rewrites each source notebook whose normalised outputs
    changed. Returns ``(lesson, seconds, changed)`` for each lesson.
    """
    done = []
    for lesson in lessons:
        path = course.source_notebook(lesson)
        start = time.perf_counter()
        executed = nbs.normalise(execute_copy(path))
        seconds = time.perf_counter() - start
        changed = executed != nbs.read(path)
        if changed:
            nbs.write(executed, path)
        done.append((lesson, seconds, changed))
    return done
