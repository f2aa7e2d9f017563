"""One class on a hub (an "instance"): its configuration and where its files are.

``course-hub install NAME`` writes everything below; nothing here writes.

* ``/etc/python-modules-hands-on/NAME/hub.toml`` -- the configuration (root's,
  mode 0644; :class:`Instance`);
* ``/etc/python-modules-hands-on/NAME/nbgrader_config.py`` -- the course's
  nbgrader configuration as installed: the one grading uses (root runs it; the
  instructor's own copy in the course root is never executed by root);
* ``/etc/python-modules-hands-on/NAME/jupyter/{student,instructor}/`` -- each
  role's Jupyter configuration (``JUPYTER_CONFIG_PATH`` of its servers);
* ``/var/lib/python-modules-hands-on/NAME/`` -- root only (0700): the hub's
  database and cookie secret, the proxy's pid file, grading runs;
* ``/etc/sudoers.d/python-modules-hands-on-NAME`` -- the instructor may run
  ``course-grade-as-root`` as root;
* the course root (the instructor's, mode 0700) and the exchange (nbgrader's
  filesystem exchange: its root 1777, the course's folder the instructor's).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from . import HubError

__all__ = ["ETC", "NAME", "STATE", "Instance", "check_root_owned", "list_instances"]

ETC = Path("/etc/python-modules-hands-on")
STATE = Path("/var/lib/python-modules-hands-on")
SUDOERS_DIR = Path("/etc/sudoers.d")
#: Instance names: also part of a sudoers file name (no dot allowed there).
NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
ROLES = ("student", "instructor")


@dataclass(frozen=True)
class Instance:
    """An instance's configuration (``hub.toml``)."""

    name: str
    #: Unix user who teaches: owns the course root, grades through sudo.
    instructor: str
    #: Unix group whose members are the students (JupyterHub's allowed_groups).
    students_group: str
    course_id: str
    course_root: str
    #: nbgrader's ``Exchange.root`` (mode 1777); the course's folder in it is the instructor's.
    exchange: str
    #: Where the hub's environment is (deploy/build-env): ``venv/`` and ``proxy/``.
    prefix: str
    #: The grading sandbox's kernel environment (``make sandbox``).
    kernel_venv: str = "/opt/python-modules-hands-on/kernel"
    #: The public address (the proxy's); put TLS in front, or set ssl_cert/ssl_key.
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    ssl_cert: str = ""
    ssl_key: str = ""

    # ------------------------------------------------------------------ files

    @property
    def etc(self) -> Path:
        return ETC / self.name

    @property
    def config_file(self) -> Path:
        return self.etc / "hub.toml"

    @property
    def nbgrader_config(self) -> Path:
        return self.etc / "nbgrader_config.py"

    def jupyter_config(self, role: str) -> Path:
        if role not in ROLES:
            raise ValueError(role)
        return self.etc / "jupyter" / role

    @property
    def state(self) -> Path:
        return STATE / self.name

    @property
    def sudoers(self) -> Path:
        return SUDOERS_DIR / f"python-modules-hands-on-{self.name}"

    @property
    def venv(self) -> Path:
        return Path(self.prefix) / "venv"

    @property
    def proxy_command(self) -> Path:
        return Path(self.prefix) / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"

    @property
    def course_exchange(self) -> Path:
        """The course's folder in the exchange (``outbound/``, ``inbound/``, ``feedback/``)."""
        return Path(self.exchange) / self.course_id

    @property
    def quarantine(self) -> Path:
        """Where ``course-collect`` puts submissions made under another student's name."""
        return self.course_exchange / "quarantine"

    # ------------------------------------------------------------------ users

    def role(self, username: str) -> str | None:
        """``"instructor"``, ``"student"`` or None for a Unix user name."""
        if username == self.instructor:
            return "instructor"
        try:
            user = pwd.getpwnam(username)
            group = grp.getgrnam(self.students_group)
        except KeyError:
            return None
        if username in group.gr_mem or user.pw_gid == group.gr_gid:
            return "student"
        return None

    # ------------------------------------------------------------ reading, writing

    def to_toml(self) -> str:
        lines = [
            f"# Python Modules, Hands-On on JupyterHub: instance {self.name!r}.",
            "# Written by `course-hub install`; run it again to change this file.",
        ]
        for key, value in asdict(self).items():
            if isinstance(value, int):
                lines.append(f"{key} = {value}")
            else:
                lines.append(f"{key} = {_toml_string(value)}")
        return "\n".join(lines) + "\n"

    @classmethod
    def load(cls, name: str, *, trusted: bool | None = None) -> Instance:
        """Read ``/etc/python-modules-hands-on/NAME/hub.toml``.

        ``trusted`` (default: when running as root) also checks that the file
        and every folder above it belong to root and are writable by nobody
        else, since root acts on what it says.
        """
        if not NAME.match(name):
            raise HubError(f"not an instance name: {name!r} (lower-case letters, digits, '-')")
        path = ETC / name / "hub.toml"
        if not path.is_file():
            raise HubError(f"no instance {name!r} here ({path} is missing)")
        if trusted if trusted is not None else os.geteuid() == 0:
            check_root_owned(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise HubError(f"{path}: not valid TOML: {exc}") from exc
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise HubError(f"{path}: unknown keys {', '.join(unknown)}")
        try:
            inst = cls(**data)
        except TypeError as exc:
            raise HubError(f"{path}: {exc}") from exc
        if inst.name != name:
            raise HubError(f"{path}: says name = {inst.name!r}, expected {name!r}")
        for f in fields(cls):
            value = getattr(inst, f.name)
            if not isinstance(value, int if f.type == "int" else str):
                raise HubError(f"{path}: {f.name} must be {f.type}, not {value!r}")
        return inst


def list_instances() -> list[str]:
    """The names of the instances installed here."""
    if not ETC.is_dir():
        return []
    return sorted(
        d.name for d in ETC.iterdir() if NAME.match(d.name) and (d / "hub.toml").is_file()
    )


def check_root_owned(path: Path) -> None:
    """Raise unless ``path`` and every folder above it are root's and
    writable by root alone (the sticky bit does not count as safe here)."""
    for p in [path, *path.parents]:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            raise HubError(f"{p} is a symbolic link; refusing to trust {path}")
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise HubError(
                f"{p} must belong to root and be writable by root alone; refusing to trust {path}"
            )


def _toml_string(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(ch) < 0x20 for ch in out):
        raise HubError(f"control characters are not allowed in the configuration: {value!r}")
    return f'"{out}"'
