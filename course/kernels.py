"""How the course's own tools start kernels.

Kernels started by `course` (record, check, grade) talk to us over Unix
sockets in a private temporary folder instead of TCP on localhost: no port
is open to other users of the machine, and ipykernel does not warn about
unencrypted TCP on every start.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config

__all__ = ["KernelStartRetried", "ipc_config", "private_sockets"]


class KernelStartRetried(UserWarning):
    """A kernel did not start at the first attempt and was started again.

    Issued as a warning by ``tests/test_nbval.py`` for each retry that
    :mod:`course.authoring.nbval_kernels` lists; defined here, outside that pytest
    plugin, so pytest's ``filterwarnings`` can name it without importing the
    plugin before pytest loads it.
    """


def ipc_config(folder: Path) -> Config:
    """Configuration that makes kernel managers use IPC sockets in ``folder``."""
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(folder / "kernel")
    return config


@contextmanager
def private_sockets() -> Iterator[Path]:
    """A fresh folder (mode 0700) for kernel sockets, removed afterwards.

    Side effects: creates and finally deletes a temporary folder.
    """
    with tempfile.TemporaryDirectory(prefix="course-kernels-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o700)
        yield folder
