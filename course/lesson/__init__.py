"""Helpers that the course notebooks import at run time.

Every notebook's locked set-up cell calls :func:`start_lesson`; test cells
use :func:`fresh_import` and :func:`run_python`; demos use the small tools
of :mod:`course.lesson.tools` (re-exported here); students run
:func:`check` to check their exercises. Standard library only, and nothing
here does any work at import time: this package is what runs in a student's
kernel and in the grader's sandbox.

Side effects are stated in each docstring. In short: :func:`start_lesson`
changes the working directory, ``sys.modules``, ``sys.path_importer_cache``
and ``sys.dont_write_bytecode`` of the *kernel* on purpose, because that is
what makes "Restart and Run All" repeatable; the other helpers restore
everything they change.
"""

from __future__ import annotations

from .checking import check
from .scratch import (
    SCRATCH_NAME,
    NotAnswered,
    forget,
    fresh_import,
    run_python,
    scratch_folder,
    start_lesson,
)
from .tools import error_type, make_zip, on_sys_path, python, show_path

__all__ = [
    "SCRATCH_NAME",
    "NotAnswered",
    "check",
    "error_type",
    "forget",
    "fresh_import",
    "make_zip",
    "on_sys_path",
    "python",
    "run_python",
    "scratch_folder",
    "show_path",
    "start_lesson",
]
