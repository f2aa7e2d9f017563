"""Running student notebooks in a sandbox while they are graded.

nbgrader runs a submission's code in a kernel with the grader's rights. Here
that kernel is forced (``Execute.kernel_name``) to a kernelspec whose command
is this module's :func:`launch`, which, as root, prepares one grading *slot*
and then ``exec``\\ s into

    setpriv (an unprivileged uid of its own per slot, no groups, no capabilities)
    -> prlimit (CPU seconds, address space, file size, open files, processes, no core)
    -> bwrap (new user, pid, net, ipc, uts and cgroup namespaces; read-only /usr,
              /etc and kernel environment; private /tmp; the submission copied
              into a size-limited tmpfs; nothing else of the machine visible)
    -> the kernel environment's python -m ipykernel_launcher

and the slot's cgroups bound memory and processes for the whole tree. The
course root (``source/``, the gradebook, other submissions) is not in the
sandbox at all, there is no network, and when the kernel ends its pid
namespace ends with it, so no process outlives the notebook.

The kernel environment (``KERNEL_VENV``, made by ``make sandbox`` from
Debian's ``/usr/bin/python3``, world-readable because the slot's uid cannot
enter ``/root``) holds ipykernel and ipywidgets; the course's run-time
helpers (:mod:`course.lesson`, :mod:`course.lesson.explore`) and the kernel's
output cap (:mod:`course.lesson.outcap`) are copied in per run.

Pitfalls handled (found on these machines): ipykernel exits at start unless
``JPY_PARENT_PID`` is unset (the environment is cleared); a SIGINT to the
process group would kill bwrap on a cell timeout, so the kernelspec has
``"interrupt_mode": "message"``; TCP does not cross ``--unshare-net``, so
kernels use IPC sockets in a per-slot folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

from traitlets.config import Config

from ...coursedir import CourseError
from ...kernels import ipc_config
from .cgroups import CgroupError, SlotGroup

__all__ = ["KERNEL_VENV", "Limits", "Sandbox", "SandboxUnavailable", "launch", "problems"]

#: The kernel environment (override with ``COURSE_KERNEL_VENV``; the Makefile
#: creates it at the same place).
KERNEL_VENV = Path(os.environ.get("COURSE_KERNEL_VENV", "/opt/python-modules-hands-on/kernel"))
#: Slot ``n`` runs as uid and gid ``UID_BASE + n`` (no account needed).
UID_BASE = 3_000_000
#: What the sandbox needs from the machine.
TOOLS = ("bwrap", "setpriv", "prlimit")
#: The run-time part of the course package, copied into the sandbox.
RUNTIME = ("__init__.py", "lesson")
#: Where the submission (read-only copy) appears inside the sandbox.
SUBMISSION = "/run/submission"
#: The folder the kernel works in, inside the sandbox: a writable,
#: size-limited copy of the submission, at ``WORK/<lesson>``. Nothing of the
#: course root's real path exists inside.
WORK = "/home/student"

MiB = 2**20


class SandboxUnavailable(CourseError):
    """The sandbox cannot be set up on this machine."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. ``memory`` and ``processes`` bound the
    whole process tree (cgroup); the rest are per process (rlimits) or per
    mount (tmpfs sizes)."""

    cpu_seconds: int = 120
    address_space: int = 4096 * MiB
    file_size: int = 50 * MiB
    open_files: int = 256
    processes: int = 64
    memory: int = 1024 * MiB
    disk: int = 100 * MiB  # the writable copy of the submission folder
    tmp: int = 64 * MiB  # /tmp (also HOME)


def problems(kernel_venv: Path = KERNEL_VENV) -> list[str]:
    """Why the sandbox cannot work here (empty when it can), without
    starting anything."""
    found = []
    if os.geteuid() != 0:
        found.append("grading in the sandbox needs root (to switch to a uid per slot)")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            hint = " (Debian: apt-get install bubblewrap)" if tool == "bwrap" else ""
            found.append(f"`{tool}` is not installed{hint}")
    python = kernel_venv / "bin" / "python"
    if not python.exists():
        found.append(f"no kernel environment at {kernel_venv} (create it: make sandbox)")
    elif not list(kernel_venv.glob("lib/python3*/site-packages/ipykernel")):
        found.append(f"the kernel environment {kernel_venv} has no ipykernel (make sandbox)")
    return found


def _traversable(path: Path) -> bool:
    """Can any user reach ``path`` (search permission on every ancestor)?"""
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


class Sandbox:
    """A grading run's sandbox: one slot per parallel worker.

    Use as a context manager. Side effects while open: a run folder under
    the system temp folder (kernelspecs, a copy of the course's run-time
    helpers, one folder per slot), one cgroup per slot, and ``JUPYTER_PATH``
    in this process's environment (so this process and workers started
    from it find the kernelspecs). All undone on exit.
    """

    def __init__(
        self, slots: int, limits: Limits | None = None, kernel_venv: Path = KERNEL_VENV
    ) -> None:
        self.slots = slots
        self.limits = limits or Limits()
        self.kernel_venv = kernel_venv
        self.run_dir: Path | None = None
        self.groups: list[SlotGroup] = []
        self._saved_path: str | None = None
        self._slots: list[dict] = []  # as written to sandbox.json, for launch()

    # -- set-up and tear-down ---------------------------------------------
    def __enter__(self) -> Sandbox:
        found = problems(self.kernel_venv)
        if found:
            raise SandboxUnavailable("cannot sandbox student code: " + "; ".join(found))
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        tmp = Path(tempfile.gettempdir())
        if not _traversable(tmp):
            raise SandboxUnavailable(f"the temp folder {tmp} is not reachable by other users")
        if not _traversable(self.kernel_venv):
            raise SandboxUnavailable(
                f"the kernel environment {self.kernel_venv} is not world-readable"
            )
        self.run_dir = Path(tempfile.mkdtemp(prefix="course-sandbox-", dir=tmp))
        self.run_dir.chmod(0o711)
        lib = self.run_dir / "lib" / "course"
        lib.mkdir(parents=True)
        here = Path(__file__).resolve().parent.parent.parent  # the course package
        for name in RUNTIME:
            src = here / name
            if src.is_dir():
                shutil.copytree(src, lib / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.is_file():
                shutil.copy2(src, lib / name)
        for d in [lib.parent, *lib.parent.rglob("*")]:
            d.chmod(0o755 if d.is_dir() else 0o644)
        runs = {"kernel_venv": str(self.kernel_venv), "limits": asdict(self.limits), "slots": []}
        for slot in range(self.slots):
            group = SlotGroup(
                f"{self.run_dir.name}-{slot}", self.limits.memory, self.limits.processes
            )
            try:
                group.create()
            except CgroupError as exc:
                raise SandboxUnavailable(
                    f"cannot bound memory and processes with cgroups: {exc}"
                ) from exc
            self.groups.append(group)
            folder = self.run_dir / f"slot{slot}"
            (folder / "sockets").mkdir(parents=True)
            folder.chmod(0o711)
            runs["slots"].append(
                {
                    "uid": UID_BASE + slot,
                    "folder": str(folder),
                    "cgroup_procs": [str(p) for p in group.join_files()],
                }
            )
            spec = self.run_dir / "share" / "kernels" / _kernel_name(slot)
            spec.mkdir(parents=True)
            kernel = {
                "argv": [
                    sys.executable,
                    "-m",
                    "course.grading.sandbox",
                    str(self.run_dir),
                    str(slot),
                    "{connection_file}",
                ],
                "display_name": f"Python 3 (course sandbox, slot {slot})",
                "language": "python",
                "interrupt_mode": "message",
            }
            (spec / "kernel.json").write_text(json.dumps(kernel, indent=1), encoding="utf-8")
        (self.run_dir / "sandbox.json").write_text(json.dumps(runs, indent=1), encoding="utf-8")
        self._slots = runs["slots"]
        self._saved_path = os.environ.get("JUPYTER_PATH")
        share = str(self.run_dir / "share")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (share, self._saved_path) if p)

    def close(self) -> None:
        """Kill whatever is left, remove the cgroups and the run folder,
        restore ``JUPYTER_PATH``."""
        for group in self.groups:
            group.remove()
        self.groups = []
        if self.run_dir is not None:
            if self._saved_path is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = self._saved_path
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    # -- per slot ---------------------------------------------------------
    def config(self, slot: int) -> Config:
        """nbgrader configuration that runs a slot's kernels in the sandbox."""
        assert self.run_dir is not None, "the sandbox is not open"
        config = ipc_config(self.run_dir / f"slot{slot}" / "sockets")
        config.Execute.kernel_name = _kernel_name(slot)
        config.CappedExecute.seal_sockets = True
        return config

    def reap(self, slot: int) -> list[str]:
        """After a submission: kill anything still running in the slot and
        say what the limits stopped (out of memory, too many processes)."""
        group = self.groups[slot]
        # The kernel has ended; its pid namespace is being torn down. Give the
        # kernel a moment to finish that before calling anything left over.
        deadline = time.monotonic() + 1.0
        while group.processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        notes = group.events()
        killed = group.kill_all()
        if killed:
            notes.append(f"{killed} process(es) still running after the notebook were killed")
        return notes

    def trial(self) -> None:
        """Start a sandboxed Python in slot 0 that imports ipykernel, or
        raise :class:`SandboxUnavailable` with bwrap's own words (e.g. no
        user namespaces)."""
        assert self.run_dir is not None
        with tempfile.TemporaryDirectory(prefix="course-trial-") as wd:
            argv = _command(
                self._slot(0),
                self.run_dir,
                self.kernel_venv,
                self.limits,
                Path(wd),
                python_args=["-c", "import ipykernel"],
            )
            _stage(Path(wd), self._slot(0))
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=60, cwd=wd, check=False
            )
            if done.returncode != 0:
                raise SandboxUnavailable(
                    "a trial run in the sandbox failed: "
                    + (done.stderr.strip().splitlines() or ["(no message)"])[-1]
                )

    def _slot(self, slot: int) -> dict:
        return self._slots[slot]


def _kernel_name(slot: int) -> str:
    return f"course-sandbox-{slot}"


def _stage(wd: Path, slot: dict) -> Path:
    """Copy the submission folder ``wd`` (where nbgrader starts the kernel)
    to the slot's staging folder, readable by the slot's uid: the course
    root itself may be under a folder that uid cannot enter."""
    stage = Path(slot["folder"]) / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(wd, stage, symlinks=True)
    for d in [stage, *stage.rglob("*")]:
        if not d.is_symlink():
            d.chmod(0o755 if d.is_dir() else 0o644)
    return stage


def _root_binds() -> list[str]:
    """The read-only system folders: /usr and /etc, and /bin, /lib... as
    on the host (symlinks into /usr on merged-/usr systems)."""
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _command(
    slot: dict,
    run_dir: Path,
    kernel_venv: Path,
    limits: Limits,
    wd: Path,
    python_args: list[str],
) -> list[str]:
    uid = str(slot["uid"])
    inside = f"{WORK}/{wd.name}"
    sockets = Path(slot["folder"]) / "sockets"
    stage = Path(slot["folder"]) / "stage"
    lib = run_dir / "lib"
    return [
        "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--",
        "prlimit",
        f"--cpu={limits.cpu_seconds}",
        f"--as={limits.address_space}",
        f"--fsize={limits.file_size}",
        f"--nofile={limits.open_files}",
        f"--nproc={2 * limits.processes}",  # the cgroup's count (threads too) binds first
        "--core=0",
        "--",
        "bwrap",
        *_root_binds(),
        "--dev", "/dev",
        "--proc", "/proc",
        "--size", str(limits.tmp), "--tmpfs", "/tmp",
        "--ro-bind", str(kernel_venv), str(kernel_venv),
        "--ro-bind", str(lib), str(lib),
        "--bind", str(sockets), str(sockets),
        "--ro-bind", str(stage), SUBMISSION,
        "--size", str(limits.disk), "--tmpfs", inside,
        "--remount-ro", "/",
        "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
        "--die-with-parent", "--new-session",
        "--clearenv",
        "--setenv", "HOME", "/tmp",
        "--setenv", "TMPDIR", "/tmp",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "PATH", f"{kernel_venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "--setenv", "PYTHONPATH", str(lib),
        "--chdir", inside,
        "--",
        # The kernel's own stdout and stderr (not the notebook's) go nowhere:
        # nothing a student prints reaches the grader's terminal.
        "/bin/sh", "-c", f'cp -a {SUBMISSION}/. . && exec "$@" </dev/null >/dev/null 2>&1', "sh",
        str(kernel_venv / "bin" / "python"),
        *python_args,
    ]  # fmt: skip


def launch(argv: list[str]) -> NoReturn:
    """The sandboxed kernel's command (run by jupyter_client as root, in the
    submission folder): ``RUN_DIR SLOT CONNECTION_FILE [KERNEL ARGS...]``.

    Side effects: copies the submission folder to the slot's staging
    folder, opens the slot's socket folder (mode 0777, root's, until
    :class:`course.grading.execute.CappedExecute` seals it once the kernel is
    ready), writes a private copy of the connection file owned by the
    slot's uid, joins the slot's cgroups, then replaces this process with
    the sandboxed kernel.
    """
    run_dir, slot_no, connection_file, *extra = argv
    runs = json.loads((Path(run_dir) / "sandbox.json").read_text(encoding="utf-8"))
    slot = runs["slots"][int(slot_no)]
    uid = int(slot["uid"])
    sockets = Path(slot["folder"]) / "sockets"
    connection = json.loads(Path(connection_file).read_text(encoding="utf-8"))
    if Path(connection["ip"]).parent != sockets:
        sys.exit(
            f"course.grading.sandbox: kernel sockets must be in {sockets}, not {connection['ip']}"
        )
    wd = Path.cwd()
    _stage(wd, slot)
    # Root keeps the folder; the kernel may create its sockets there until it
    # is ready, then CappedExecute (seal_sockets) closes it again.
    os.chown(sockets, 0, 0)
    os.chmod(sockets, 0o777)
    inside = sockets / "connection.json"
    inside.unlink(missing_ok=True)
    fd = os.open(inside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(connection, f)
    os.chown(inside, uid, uid)
    for procs in slot["cgroup_procs"]:
        Path(procs).write_text(str(os.getpid()))
    limits = Limits(**runs["limits"])
    command = _command(
        slot,
        Path(run_dir),
        Path(runs["kernel_venv"]),
        limits,
        wd,
        ["-m", "ipykernel_launcher", "-f", str(inside), *extra],
    )
    os.execvp(command[0], command)


if __name__ == "__main__":
    launch(sys.argv[1:])
