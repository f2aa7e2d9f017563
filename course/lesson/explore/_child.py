"""Running an explorer's child Python: the one place that starts it, checks
how it ended and reads its JSON report. Standard library only."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

__all__ = ["ChildFailed", "run_child"]


class ChildFailed(RuntimeError):
    """The child Python ended badly; the message ends with its last error line."""


def _last_line(stderr: str, skip: str | None) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if not (skip and ln.startswith(skip))]
    return (lines or ["no output"])[-1]


def run_child(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    timeout: float,
    what: str,
    report: str = "json",
    skip: str | None = None,
) -> Any:
    """Run ``python *args`` (:func:`course.lesson.run_python`: explicit
    folder and environment, a timeout) and return its report: the JSON on
    its standard output (``report="json"``), the JSON of its last output
    line (``"last-json"``), or the completed process itself (``"process"``).
    Raises :class:`ChildFailed` ("<what> failed: <last error line>", lines
    starting with ``skip`` ignored) when it exits badly or reports nothing.
    No side effects in this process."""
    from ..scratch import run_python

    result = run_python(list(args), cwd=cwd, timeout=timeout)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or (report != "process" and not lines):
        raise ChildFailed(f"{what} failed: {_last_line(result.stderr, skip)}")
    if report == "process":
        return result
    return json.loads(lines[-1] if report == "last-json" else result.stdout)
