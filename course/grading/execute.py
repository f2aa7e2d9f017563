"""nbgrader's Execute step with outputs capped in bytes.

nbgrader's ``LimitOutput`` counts lines, after the fact: a 100 MB single
line is kept whole, and an endless print loop piles up in the grader's
memory until the cell times out. :class:`CappedExecute` counts the bytes
of every output message as it arrives and keeps at most
``output_limit`` bytes per cell, replacing the rest with one note. Error
outputs are always kept (shortened), so a failing test cell still fails.
Widget state is not stored: nothing is graded through widgets. The kernel
itself loads :mod:`course.lesson.outcap`, which stops a print flood at its source
before it fills the kernel's buffers.

With ``seal_sockets`` (set by :meth:`course.grading.sandbox.Sandbox.config`), the
folder of the kernel's IPC sockets, which the sandboxed kernel needed to
write while it created them, is made read-only for it as soon as the kernel
is ready: it lies on the real disk, outside the size-limited tmpfs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

__all__ = ["CappedExecute"]

#: The kernel argument that loads :mod:`course.lesson.outcap`.
OUTCAP = "--ext=course.lesson.outcap"


def _size(content: dict[str, Any]) -> int:
    if "text" in content:
        return len(content["text"])
    if "data" in content:
        return sum(
            len(v) if isinstance(v, str) else len(json.dumps(v)) for v in content["data"].values()
        )
    if "traceback" in content:
        return sum(len(line) for line in content["traceback"])
    return 0


class CappedExecute(Execute):
    """Execute with at most ``output_limit`` bytes of output kept per cell."""

    output_limit = Integer(
        1_000_000, help="Bytes of output kept per cell; the rest is replaced by a note."
    ).tag(config=True)

    seal_sockets = Bool(
        False, help="Make the IPC socket folder read-only for the kernel once it is ready."
    ).tag(config=True)

    def start_new_kernel_client(self) -> Any:
        client = super().start_new_kernel_client()
        if self.seal_sockets and self.km is not None and self.km.transport == "ipc":
            os.chmod(
                Path(self.km.ip).parent, 0o755
            )  # owned by root: the kernel's uid cannot undo it
        return client

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("store_widget_state", False)
        super().__init__(*args, **kwargs)
        if OUTCAP not in self.extra_arguments:  # whatever else is configured
            self.extra_arguments = [*self.extra_arguments, OUTCAP]
        self._used: dict[int, int] = {}

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        content = msg.get("content", {})
        used = self._used.get(cell_index, 0)
        left = self.output_limit - used
        size = _size(content)
        if msg["msg_type"] == "error":
            limit = max(left, 10_000)
            content["traceback"] = [line[:limit] for line in content.get("traceback", [])[-50:]]
            content["evalue"] = content.get("evalue", "")[:limit]
            return super().output(outs, msg, display_id, cell_index)
        if size <= left:
            self._used[cell_index] = used + size
            return super().output(outs, msg, display_id, cell_index)
        if left > 0:
            self._used[cell_index] = self.output_limit
            if msg["msg_type"] == "stream":
                content["text"] = content["text"][:left]
                super().output(outs, msg, display_id, cell_index)
            note = new_output(
                "stream",
                name="stdout",
                text=f"\n[output cut: this cell printed more than {self.output_limit:,} bytes]\n",
            )
            outs.append(note)
        return None
