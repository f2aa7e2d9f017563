"""The students' and the instructor's Jupyter set-ups on the hub.

Each role gets a folder of Jupyter configuration that its single-user servers
read through ``JUPYTER_CONFIG_PATH`` (set by the hub when it starts them; a
user's own ``~/.jupyter`` still comes first, as Jupyter intends). The set-ups
are the ones ``course lab`` gives, built from the same constants in
:mod:`course.lab`:

* student: nbgrader's *Validate* and *Assignment List*; the instructor-only lab
  plugins and server extensions (formgrader, course list, create assignment)
  disabled, so their pages and HTTP endpoints do not exist; the server starts
  in the student's home, where *Assignment List* fetches each lesson into a
  folder of its own;
* instructor: everything, plus :mod:`course.formgrader_guard` (the formgrader's
  Autograde, Generate and Generate Feedback answer with a note: grading is
  ``course-grade``, building is ``course build``);
* both: nbgrader's exchange and course id; no news or update checks; only the
  ``python3`` kernel (the hub's environment, where ``course.lesson`` is).

Hiding the instructor's panels is for the students' convenience, not their
security: what a student may read is decided by file permissions (the course
root is the instructor's, mode 0700; see README).
"""

from __future__ import annotations

from course.lab import (
    INSTRUCTOR_ONLY_LAB_PLUGINS,
    INSTRUCTOR_ONLY_SERVER_EXTENSIONS,
    NOISE_LAB_PLUGINS,
)

from .instance import Instance

__all__ = ["GUARD_EXTENSION", "role_files"]

GUARD_EXTENSION = "course.formgrader_guard"


def role_files(inst: Instance, role: str) -> dict[str, object]:
    """``{relative path: JSON data}`` of ``role``'s configuration folder."""
    instructor = role == "instructor"
    if instructor:
        extensions = {GUARD_EXTENSION: True}
        disabled = list(NOISE_LAB_PLUGINS)
    else:
        extensions = dict.fromkeys(INSTRUCTOR_ONLY_SERVER_EXTENSIONS, False)
        disabled = [*NOISE_LAB_PLUGINS, *INSTRUCTOR_ONLY_LAB_PLUGINS]
    nbgrader: dict[str, dict[str, object]] = {
        "CourseDirectory": {"course_id": inst.course_id},
        "Exchange": {"root": inst.exchange},
    }
    if instructor:
        # The formgrader and nbgrader's commands find the course wherever they start.
        nbgrader["CourseDirectory"]["root"] = inst.course_root
    return {
        "jupyter_server_config.json": {
            "ServerApp": {"jpserver_extensions": extensions},
            "LabApp": {
                "news_url": None,
                "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
            },
            "KernelSpecManager": {"allowed_kernelspecs": ["python3"]},
            "MappingKernelManager": {"default_kernel_name": "python3"},
        },
        "labconfig/page_config.json": {"disabledExtensions": dict.fromkeys(disabled, True)},
        "nbgrader_config.json": nbgrader,
    }
