"""``course-hub``: install, run and remove a class (an instance) on this machine.

Run as root, from the hub's environment (``make hub-env`` builds it)::

    course-hub install NAME --instructor USER --students-group GROUP [--course REPO] [options]
    course-hub run NAME            # JupyterHub in the foreground (systemd: deploy/python-modules-hub@.service)
    course-hub uninstall NAME [--purge]

``install`` is idempotent (run it again to change a setting); it never
overwrites the instructor's course root or the exchange's contents.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from . import HubError
from .instance import ETC, NAME, ROLES, STATE, Instance, check_root_owned
from .transfer import pack_paths

__all__ = ["main"]

UNIX_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: What a new course root gets from the repository.
COURSE_SEED = ("nbgrader_config.py", "source", "release", "mutants")


def _prefix() -> Path:
    """The hub's environment this command runs from (PREFIX/venv/bin/course-hub)."""
    return Path(sys.prefix).parent


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _as(user: str, *cmd: str, **kw) -> subprocess.CompletedProcess:
    env = ["HOME=/nonexistent", "LANG=C.UTF-8", "PATH=/usr/bin:/bin"]
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *env, *cmd], cwd="/", **kw)


def _setup_exchange(inst: Instance) -> None:
    """The exchange's root (root's, 1777, as nbgrader wants: every user writes
    there) and the course's folder in it, made the instructor's with nbgrader's
    modes: outbound 0755 (everyone fetches), inbound 2733 (everyone hands in,
    nobody but the instructor lists), feedback 0711 (each student fetches by a
    name only their submission's secret gives)."""
    exchange = Path(inst.exchange)
    exchange.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    if not exchange.exists():
        exchange.mkdir(mode=0o755)
    st = os.lstat(exchange)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0:
        raise HubError(f"{exchange} must be a folder of root's")
    os.chmod(exchange, 0o1777)
    owner = pwd.getpwnam(inst.instructor)
    course = inst.course_exchange
    if os.path.lexists(course):
        st = os.lstat(course)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != owner.pw_uid:
            raise HubError(f"{course} exists and is not a folder of {inst.instructor}'s")
        return
    course.mkdir(mode=0o700)  # nobody else can rename it: the exchange is sticky
    for sub, mode in (("outbound", 0o755), ("inbound", 0o2733), ("feedback", 0o711)):
        (course / sub).mkdir()
        os.chown(course / sub, owner.pw_uid, owner.pw_gid)
        os.chmod(course / sub, mode)
    os.chown(course, owner.pw_uid, owner.pw_gid)
    os.chmod(course, 0o755)


def _setup_course_root(inst: Instance, repo: Path) -> str:
    root = Path(inst.course_root)
    python = str(inst.venv / "bin" / "python")
    if os.path.lexists(root):
        _as(inst.instructor, "chmod", "0700", str(root), check=True)
        return f"kept the existing course root {root} (mode 0700)"
    made = _as(inst.instructor, "mkdir", "-m", "0700", str(root), capture_output=True, text=True)
    if made.returncode != 0:
        raise HubError(f"{inst.instructor} cannot create {root}: {made.stderr.strip()}")
    cmd = [
        "runuser",
        "-u",
        inst.instructor,
        "--",
        "env",
        "-i",
        "LANG=C.UTF-8",
        python,
        "-I",
        "-m",
        "course_hub.transfer",
        "unpack",
        str(root),
    ]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, cwd="/") as proc:
        try:
            pack_paths(repo, COURSE_SEED, proc.stdin)
        finally:
            proc.stdin.close()
    if proc.returncode != 0:
        raise HubError(f"could not write the course into {root}")
    return f"created the course root {root} from {repo} (mode 0700, {inst.instructor}'s)"


def _setup_sudoers(inst: Instance) -> None:
    visudo = shutil.which("visudo") or "/usr/sbin/visudo"
    if not os.path.exists(visudo):
        raise HubError(
            "sudo is not installed (Debian: apt-get install sudo): the instructor grades through it"
        )
    text = (
        f"# course-hub install {inst.name}: the instructor of this class grades in the sandbox,\n"
        "# which needs root. The wrapper checks its arguments and grades a copy of the\n"
        "# course root (course_hub/grade.py).\n"
        f"{inst.instructor} ALL=(root) NOPASSWD: {inst.venv}/bin/course-grade-as-root\n"
    )
    fd, tmp = tempfile.mkstemp(prefix="course-hub-sudoers-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        check = subprocess.run([visudo, "-cqf", tmp], capture_output=True, text=True)
        if check.returncode != 0:
            raise HubError(
                f"visudo refused the rule: {check.stdout.strip()} {check.stderr.strip()}"
            )
    finally:
        os.unlink(tmp)
    _write(inst.sudoers, text, 0o440)


def install(args: argparse.Namespace) -> int:
    from course.coursedir import Course, CourseError, find_root

    prefix = _prefix()
    if not (prefix / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        raise HubError(f"{prefix} has no proxy: build the hub's environment first (make hub-env)")
    check_root_owned(prefix / "venv" / "bin" / "course-grade-as-root")
    for user in (args.instructor,):
        if not UNIX_NAME.match(user):
            raise HubError(f"not a Unix user name: {user!r}")
    try:
        teacher = pwd.getpwnam(args.instructor)
    except KeyError:
        raise HubError(f"no such user: {args.instructor}") from None
    if teacher.pw_uid == 0:
        raise HubError("the instructor must not be root")
    try:
        grp.getgrnam(args.students_group)
    except KeyError:
        raise HubError(f"no such group: {args.students_group}") from None
    try:
        repo = Course(find_root(Path(args.course).resolve() if args.course else None))
        course_id = repo.nbgrader_config().CourseDirectory.course_id
    except CourseError as exc:
        raise HubError(str(exc)) from exc
    inst = Instance(
        name=args.name,
        instructor=args.instructor,
        students_group=args.students_group,
        course_id=course_id,
        course_root=str(Path(args.course_root or Path(teacher.pw_dir) / "python-modules-hands-on")),
        exchange=str(Path(args.exchange or f"/srv/python-modules-hands-on/{args.name}/exchange")),
        prefix=str(prefix),
        kernel_venv=args.kernel_venv,
        ip=args.ip,
        port=args.port,
        hub_port=args.hub_port,
        proxy_api_port=args.proxy_api_port,
        ssl_cert=args.ssl_cert or "",
        ssl_key=args.ssl_key or "",
    )
    for p in (inst.course_root, inst.exchange):
        if not Path(p).is_absolute():
            raise HubError(f"not an absolute path: {p}")
    from .jupyter import role_files

    ETC.mkdir(mode=0o755, parents=True, exist_ok=True)
    _write(inst.config_file, inst.to_toml())
    shutil.copyfile(repo.root / "nbgrader_config.py", inst.nbgrader_config)
    os.chmod(inst.nbgrader_config, 0o644)
    for role in ROLES:
        for rel, data in role_files(inst, role).items():
            _write(inst.jupyter_config(role) / rel, json.dumps(data, indent=2) + "\n")
    STATE.mkdir(mode=0o755, parents=True, exist_ok=True)
    inst.state.mkdir(mode=0o700, exist_ok=True)
    os.chmod(inst.state, 0o700)
    _setup_exchange(inst)
    course_note = _setup_course_root(inst, repo.root)
    _setup_sudoers(inst)
    print(f"installed {inst.name}: {inst.config_file}")
    print(f"  {course_note}")
    print(f"  exchange {inst.course_exchange} ({inst.instructor}'s)")
    print(f"  sudo rule {inst.sudoers}: {inst.instructor} may run course-grade")
    print(
        f"  start it: {prefix}/venv/bin/course-hub run {inst.name}   (then http://{inst.ip}:{inst.port}/)"
    )
    return 0


def _running(inst: Instance) -> int | None:
    try:
        pid = int((inst.state / "jupyterhub.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def uninstall(args: argparse.Namespace) -> int:
    inst = Instance.load(args.name)
    pid = _running(inst)
    if pid is not None:
        raise HubError(f"{inst.name}'s hub is running (pid {pid}): stop it first")
    inst.sudoers.unlink(missing_ok=True)
    shutil.rmtree(inst.state, ignore_errors=True)
    shutil.rmtree(inst.etc, ignore_errors=True)
    for folder in (ETC, STATE):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if no other instance is left
    print(f"removed {inst.name}: its configuration, sudo rule and the hub's state")
    if args.purge:
        exchange = Path(inst.exchange)
        if exchange.is_dir() and not exchange.is_symlink():
            shutil.rmtree(exchange)  # not through symbolic links
        for parent in (exchange.parent, exchange.parent.parent):
            if parent.name and parent != Path("/srv"):
                try:
                    parent.rmdir()  # only if empty
                except OSError:
                    break
        print(
            f"  and the exchange {exchange}; the course root {inst.course_root} is the instructor's: kept"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    inst = Instance.load(args.name)
    config = Path(__file__).with_name("jupyterhub_config.py")
    env = {
        "PATH": f"{inst.venv / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "COURSE_HUB": inst.name,
    }
    os.chdir(inst.state)
    jupyterhub = str(inst.venv / "bin" / "jupyterhub")
    os.execve(jupyterhub, [jupyterhub, "-f", str(config)], env)
    return 0  # not reached


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course-hub", description="Python Modules, Hands-On on JupyterHub (run as root)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("install", help="set up (or change) a class on this machine")
    p.add_argument("name", help="the instance's name (lower-case letters, digits, '-')")
    p.add_argument("--instructor", required=True, help="Unix user who teaches (not root)")
    p.add_argument("--students-group", required=True, help="Unix group of the students")
    p.add_argument(
        "--course",
        help="the course repository to seed a new course root from (default: found from here)",
    )
    p.add_argument(
        "--course-root",
        help="the instructor's course folder (default: ~INSTRUCTOR/python-modules-hands-on)",
    )
    p.add_argument(
        "--exchange",
        help="nbgrader's exchange (default: /srv/python-modules-hands-on/NAME/exchange)",
    )
    p.add_argument(
        "--kernel-venv",
        default="/opt/python-modules-hands-on/kernel",
        help="the grading sandbox's kernel environment (make sandbox)",
    )
    p.add_argument(
        "--ip", default="127.0.0.1", help="address the hub listens on (default: 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8000, help="public port (default: 8000)")
    p.add_argument("--hub-port", type=int, default=8081, help="the hub's internal port (127.0.0.1)")
    p.add_argument(
        "--proxy-api-port", type=int, default=8001, help="the proxy's API port (127.0.0.1)"
    )
    p.add_argument("--ssl-cert", help="TLS certificate (or put the hub behind an HTTPS proxy)")
    p.add_argument("--ssl-key", help="TLS key")
    p.set_defaults(func=install)
    p = sub.add_parser("uninstall", help="remove a class's configuration, sudo rule and hub state")
    p.add_argument("name")
    p.add_argument(
        "--purge", action="store_true", help="also remove the exchange (never the course root)"
    )
    p.set_defaults(func=uninstall)
    p = sub.add_parser("run", help="run the class's JupyterHub in the foreground")
    p.add_argument("name")
    p.set_defaults(func=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if os.geteuid() != 0:
            raise HubError("course-hub needs root")
        if hasattr(args, "name") and not NAME.match(args.name):
            raise HubError(f"not an instance name: {args.name!r} (lower-case letters, digits, '-')")
        return args.func(args)
    except HubError as exc:
        print(f"course-hub: error: {exc}", file=sys.stderr)
        return 1
