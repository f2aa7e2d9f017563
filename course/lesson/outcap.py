"""An IPython extension that bounds how much one cell prints, in the kernel.

Loaded into every kernel that grades a submission (``--ext course.lesson.outcap``,
added by :class:`course.grading.execute.CappedExecute`).

Why: IPython 9 keeps everything a cell prints in memory for the rest of the
session (``InteractiveShell.run_cell`` tees ``sys.stdout`` and ``sys.stderr``
into ``history_manager.outputs``), and ipykernel gathers printed text for
0.2 s at a time before copying it to send. An accidental endless ``print``
loop therefore grows the kernel at the speed it prints: in the grading
sandbox it reached the 1 GiB memory limit before the cell's timeout in some
runs and not in others, so the same submission was graded in one run and
sent to manual grading in the next.

What: once a cell has printed :data:`LIMIT` characters (stdout and stderr
together, including what subprocesses write to the kernel's file
descriptors, which ipykernel forwards through the same ``write``; what is
still in that pipe when the cell ends, at most 64 KiB, comes after it), the
rest of its printing is dropped before IPython or ipykernel sees it, after
one note. The grader keeps only the first megabyte of a cell's output anyway
(:attr:`course.grading.execute.CappedExecute.output_limit`), so what is graded and
shown does not change.

It bounds accidents, not attacks: code that replaces ``sys.stdout`` or talks
to the kernel's sockets itself gets past it, and meets the sandbox's memory
limit instead.

Side effects, in the kernel: registers a ``pre_execute`` callback that, for
each cell, puts a fresh capped ``write`` on the instances ``sys.stdout`` and
``sys.stderr`` around whatever ``write`` they have then (IPython's tee, which
``run_cell`` removes again when the cell ends); a cap left from an earlier
cell is replaced, never stacked.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["LIMIT", "NOTE", "load_ipython_extension"]

#: Characters one cell may print before the rest is dropped in the kernel.
LIMIT = 2_000_000
NOTE = f"\n[output cut in the kernel: this cell printed more than {LIMIT:,} characters]\n"


def _capped(write: Callable[..., Any], allowance: dict[str, int]) -> Callable[..., Any]:
    def capped_write(text: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(text, str):
            return write(text, *args, **kwargs)  # the stream's own TypeError
        left = allowance["left"]
        allowance["left"] = left - len(text)
        if len(text) <= left:
            return write(text, *args, **kwargs)
        if left >= 0:  # the first write past the limit: what fits, then the note
            write(text[:left] + NOTE, *args, **kwargs)
        return len(text)

    capped_write.course_outcap = True  # type: ignore[attr-defined]
    capped_write.__wrapped__ = write  # type: ignore[attr-defined]
    return capped_write


def cap_this_cell(*_: Any) -> None:
    """Give ``sys.stdout`` and ``sys.stderr`` one shared, fresh allowance."""
    allowance = {"left": LIMIT}
    for stream in (sys.stdout, sys.stderr):
        write = getattr(stream, "write", None)
        while getattr(write, "course_outcap", False):
            write = write.__wrapped__  # type: ignore[union-attr]
        if write is None:
            continue
        # A stream the student put there may not let its write be replaced.
        with contextlib.suppress(AttributeError, TypeError):
            stream.write = _capped(write, allowance)


def load_ipython_extension(ipython: Any) -> None:
    """Cap what each cell prints to ``sys.stdout`` and ``sys.stderr``."""
    ipython.events.register("pre_execute", cap_this_cell)
