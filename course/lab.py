"""`course lab`: JupyterLab set up for a student or for an instructor.

Each set-up gets private Jupyter folders under ``<course root>/.lab/<set-up>/``
(git-ignored), written afresh at every start:

* ``config/`` is ``JUPYTER_CONFIG_DIR``: it takes the place of
  ``~/.jupyter``, which is neither read nor written; the virtual
  environment's own configuration (which enables the extensions) is still
  read, never written, and the set-up's files override it;
* ``data/`` is ``JUPYTER_DATA_DIR`` and ``runtime/`` is
  ``JUPYTER_RUNTIME_DIR`` (server info files and kernel connection files).

What the two set-ups differ in (ids from ``jupyter labextension list`` and
``jupyter server extension list``):

* student: the notebook folder is the student's workspace (default
  ``workspace/`` in the course root; :mod:`course.workspace`), their own
  copies of the lessons, made on first use and never overwritten (a lesson
  the course updated is carried over, the old copy kept); nbgrader's
  *Validate* button and *Assignment List* stay; its *Formgrader*, *Create
  Assignment* and *Course List* lab plugins are disabled, and so are the
  formgrader and course-list server extensions (their HTTP endpoints do not
  exist);
* instructor: the notebook folder is the course root; everything is on,
  except the formgrader's buttons that would run student code outside the
  sandbox or skip ``course build``'s checks (:mod:`course.formgrader_guard`).

Both: nbgrader's exchange is ``<course root>/.lab/exchange/`` (shared by the
two set-ups, so the Assignment List works on one machine instead of
reporting a missing ``/srv/nbgrader/exchange``); JupyterLab's news and
update checks are off (no pop-up on first start); and the only kernel is
``python3`` running this interpreter (the course's virtual environment),
whatever other kernels the user has.
The server runs in the course root, so nbgrader's *Validate* reads the
course's ``nbgrader_config.py``.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .coursedir import Course
from .workspace import DEFAULT_FOLDER, sync_workspace

__all__ = [
    "INSTRUCTOR_ONLY_LAB_PLUGINS",
    "INSTRUCTOR_ONLY_SERVER_EXTENSIONS",
    "NOISE_LAB_PLUGINS",
    "LabSetup",
    "exec_lab",
    "lab_command",
    "prepare_lab",
]

#: nbgrader's lab plugins that only an instructor sees.
INSTRUCTOR_ONLY_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
#: nbgrader's server extensions that only an instructor's server loads
#: (course_list serves ``/formgraders``, the list of formgraders).
INSTRUCTOR_ONLY_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
#: Lab plugins disabled in both set-ups: the "Jupyter news?" question and
#: the news and update notifications.
NOISE_LAB_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)

#: Folder (under the course root) holding the set-ups' private Jupyter folders.
RUN_FOLDER = ".lab"


@dataclass(frozen=True)
class LabSetup:
    """Where one set-up's JupyterLab serves from and keeps its files."""

    course: Course
    instructor: bool
    workspace: Path | None = None  # the student's; default: <course root>/workspace

    @property
    def name(self) -> str:
        return "instructor" if self.instructor else "student"

    @property
    def home(self) -> Path:
        return self.course.root / RUN_FOLDER / self.name

    @property
    def config_dir(self) -> Path:
        return self.home / "config"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def runtime_dir(self) -> Path:
        return self.home / "runtime"

    @property
    def exchange(self) -> Path:
        return self.course.root / RUN_FOLDER / "exchange"

    @property
    def notebook_dir(self) -> Path:
        if self.instructor:
            return self.course.root
        return self.workspace or self.course.root / DEFAULT_FOLDER

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: ``os.environ``) plus the private Jupyter folders."""
        env = dict(os.environ if base is None else base)
        env["JUPYTER_CONFIG_DIR"] = str(self.config_dir)
        env["JUPYTER_DATA_DIR"] = str(self.data_dir)
        env["JUPYTER_RUNTIME_DIR"] = str(self.runtime_dir)
        env.pop("JUPYTER_CONFIG_PATH", None)  # no extra config folders
        env.pop("JUPYTERLAB_SETTINGS_DIR", None)  # user settings live in config/
        env.pop("JUPYTERLAB_WORKSPACES_DIR", None)
        return env


def _server_config(setup: LabSetup) -> dict[str, object]:
    extensions: dict[str, bool] = {"course.formgrader_guard": True}
    if not setup.instructor:
        extensions = dict.fromkeys(INSTRUCTOR_ONLY_SERVER_EXTENSIONS, False)
    return {
        "ServerApp": {"jpserver_extensions": extensions},
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
        },
        # Only python3: with JUPYTER_DATA_DIR private, that is the virtual
        # environment's (or ipykernel's native one); either runs sys.executable.
        "KernelSpecManager": {"allowed_kernelspecs": ["python3"]},
        "MappingKernelManager": {"default_kernel_name": "python3"},
    }


def _page_config(setup: LabSetup) -> dict[str, object]:
    disabled = list(NOISE_LAB_PLUGINS)
    if not setup.instructor:
        disabled += INSTRUCTOR_ONLY_LAB_PLUGINS
    return {"disabledExtensions": dict.fromkeys(disabled, True)}


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def prepare_lab(setup: LabSetup) -> None:
    """Write the set-up's private Jupyter configuration.

    Side effects: creates ``setup.home`` and its ``config/``, ``data/``
    and ``runtime/`` folders (``runtime/`` with mode 0700) and the shared
    exchange folder, and overwrites ``config/jupyter_server_config.json``,
    ``config/nbgrader_config.json`` and ``config/labconfig/page_config.json``. Anything else there (JupyterLab's
    user settings and workspaces) is kept from one start to the next.
    """
    _write_json(setup.config_dir / "jupyter_server_config.json", _server_config(setup))
    _write_json(setup.config_dir / "labconfig" / "page_config.json", _page_config(setup))
    _write_json(
        setup.config_dir / "nbgrader_config.json", {"Exchange": {"root": str(setup.exchange)}}
    )
    setup.exchange.mkdir(parents=True, exist_ok=True)
    setup.data_dir.mkdir(parents=True, exist_ok=True)
    setup.runtime_dir.mkdir(parents=True, exist_ok=True)
    setup.runtime_dir.chmod(0o700)


def lab_command(
    setup: LabSetup,
    *,
    port: int | None = None,
    ip: str | None = None,
    open_browser: bool = True,
) -> list[str]:
    """The command line that starts JupyterLab for ``setup``."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={setup.notebook_dir}"]
    if port is not None:
        cmd.append(f"--port={port}")
    if ip is not None:
        cmd.append(f"--ip={ip}")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # design.md trap 13
    return cmd


def exec_lab(
    setup: LabSetup,
    *,
    port: int | None = None,
    ip: str | None = None,
    open_browser: bool = True,
) -> None:
    """Prepare ``setup`` and replace this process with its JupyterLab.

    Side effects: those of :func:`prepare_lab`; changes the working folder
    to the course root; never returns (``os.execve``). A token, if wanted,
    comes from the ``JUPYTER_TOKEN`` environment variable as usual.
    """
    prepare_lab(setup)
    if not setup.instructor:
        for change in sync_workspace(setup.course, setup.notebook_dir):
            print(f"course lab: {change.lesson}: {change.message}", flush=True)
    cmd = lab_command(setup, port=port, ip=ip, open_browser=open_browser)
    print(
        f"course lab: {setup.name} set-up, notebooks in {setup.notebook_dir}, "
        f"Jupyter files in {setup.home}",
        flush=True,
    )
    os.chdir(setup.course.root)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(cmd[0], cmd, setup.environment())
