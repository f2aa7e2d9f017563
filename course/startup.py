"""Process set-up shared by the `course` command and its grading workers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ._compat import skip_rfc3987

__all__ = ["prepare_process"]


def _put_own_bin_on_path() -> None:
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path


def prepare_process() -> None:
    """Make this process ready to drive nbgrader.

    Side effects: this interpreter's ``bin/`` is put first on
    ``os.environ["PATH"]`` if missing (nbgrader runs ``alembic`` and Jupyter
    starts kernels found there); :func:`course._compat.skip_rfc3987`.
    """
    _put_own_bin_on_path()
    skip_rfc3987()
