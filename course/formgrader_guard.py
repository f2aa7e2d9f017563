"""A Jupyter server extension for the instructor's server: ``course lab
--instructor`` and the hub (``deploy/``).

nbgrader's formgrader has buttons that must not work here:

* **Autograde** runs nbgrader's autograde in the instructor's server: the
  students' code would run as the instructor, outside the sandbox, next to
  ``source/`` and the gradebook (design.md, trap 17);
* **Generate** (generate_assignment) skips ``course build``'s checks (solution
  leaks, widget state, stray files);
* **Generate Feedback** would replace ``course grade``'s feedback (hidden tests
  removed, no active content) with nbgrader's own.

This extension answers those requests first, with nbgrader's own error
format, so the formgrader shows the note in its error dialog and nothing
runs. Everything else (release, collect, release feedback, the gradebook,
manual grading) is nbgrader's as usual. Server extensions load in
alphabetical order (jupyter_server's ExtensionManager.sorted_extensions), and
``course`` comes before ``nbgrader``, so these routes are found first; the
browser tests and ``make test-hub`` check it.
"""

from __future__ import annotations

import json

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

__all__ = ["BLOCKED", "NOTE"]

#: formgrader API route -> (what it would do, what to use instead)
BLOCKED = {
    r"/formgrader/api/submission/([^/]+)/([^/]+)/autograde": (
        "Autograde",
        "course grade LESSON --student ID in a terminal (course-grade on the JupyterHub); it runs in the sandbox",
    ),
    r"/formgrader/api/assignment/([^/]+)/assign": (
        "Generate",
        "course build LESSON (in a terminal, in the course root)",
    ),
    r"/formgrader/api/assignment/([^/]+)/generate_feedback": (
        "Generate Feedback",
        "course grade LESSON (course-grade on the JupyterHub): it writes the feedback",
    ),
    r"/formgrader/api/assignment/([^/]+)/([^/]+)/generate_feedback": (
        "Generate Feedback",
        "course grade LESSON --student ID (course-grade on the JupyterHub): it writes the feedback",
    ),
}

NOTE = (
    "{action} is switched off in this course: it would run nbgrader directly, "
    "outside the course's checks and the grading sandbox. Use instead: {instead}."
)


class _Blocked(JupyterHandler):
    def initialize(self, action: str, instead: str) -> None:
        self.action = action
        self.instead = instead

    @web.authenticated
    def post(self, *args: str) -> None:
        # nbgrader's handlers write JSON as text, and its pages parse that text.
        message = NOTE.format(action=self.action, instead=self.instead)
        self.finish(json.dumps({"success": False, "error": message, "log": message}))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "course.formgrader_guard"}]


def _load_jupyter_server_extension(serverapp) -> None:
    base = serverapp.web_app.settings["base_url"]
    handlers = [
        (url_path_join(base, route), _Blocked, {"action": action, "instead": instead})
        for route, (action, instead) in BLOCKED.items()
    ]
    serverapp.web_app.add_handlers(".*$", handlers)
    serverapp.log.info(
        "course.formgrader_guard: the formgrader's %s are switched off",
        ", ".join(sorted({a for a, _ in BLOCKED.values()})),
    )
