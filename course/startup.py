"""Process set-up shared by the `course` command and its grading workers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["prepare_process"]


def _put_own_bin_on_path() -> None:
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path


def prepare_process() -> None:
    """Make this process ready to drive nbgrader.

    Side effects:

    * this interpreter's ``bin/`` is put first on ``os.environ["PATH"]`` if
      missing: nbgrader runs ``alembic`` and Jupyter starts kernels found
      there;
    * ``sys.modules["rfc3987_syntax"] = None`` unless already imported:
      importing nbgrader imports jsonschema, which, when that optional
      package is installed, builds a grammar for its "iri" format checks —
      about 2.5 s per process here, for checks nbgrader never asks for.
      jsonschema imports it under ``suppress(ImportError)``, so this skips
      just that.
    """
    _put_own_bin_on_path()
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
