"""Python Modules, Hands-On on JupyterHub: one class ("instance") per hub.

Installed into the hub's environment only (``deploy/build-env``), beside the
course package. Modules, by who runs them:

* :mod:`course_hub.instance` -- an instance's configuration and where its
  files are (everyone);
* :mod:`course_hub.admin` -- ``course-hub install|uninstall|run`` (root);
* ``jupyterhub_config.py`` -- the hub's configuration (the hub, as root);
* :mod:`course_hub.jupyter` -- the students' and the instructor's Jupyter
  set-ups, from :mod:`course.lab`'s constants;
* :mod:`course.formgrader_guard` (in the course package) -- server extension in the instructor's server:
  the formgrader's buttons that would run student code, or bypass
  ``course build``, answer with a note instead;
* :mod:`course_hub.grade` -- ``course-grade`` (the instructor) and
  ``course-grade-as-root`` (what sudo lets the instructor run);
* :mod:`course_hub.transfer` -- the tar streams that carry a course root into
  the grading run and the results back, each side with its own rights;
* :mod:`course_hub.collect` -- ``course-collect``: the exchange's inbound
  checked (a submission under another student's name is set aside), then
  ``nbgrader collect``.
"""

from __future__ import annotations


class HubError(Exception):
    """An error to report to the user as one line, with a non-zero exit."""
