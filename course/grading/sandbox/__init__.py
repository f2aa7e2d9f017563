"""Where a check runs: in the sandbox, or (for trusted notebooks only) not.

Each graded test cell runs in a fresh interpreter (:mod:`course.lesson.runner`)
started by a *box*. :class:`Sandbox` starts it, for grading slot ``n``, as

    sh (as root: enter the slot's cgroups)
    -> setpriv (an unprivileged uid of its own per slot, no groups, no capabilities)
    -> prlimit (CPU seconds, address space, file size, open files, processes, no core)
    -> bwrap (new user, pid, net, ipc, uts and cgroup namespaces; read-only /usr,
              /etc, interpreter environment and the course's run-time helpers;
              private /tmp; a size-limited empty tmpfs as the working folder;
              nothing else of the machine visible)
    -> <interpreter> -m course.lesson.runner

and the slot's cgroups bound memory and processes for the whole tree. The
course root (``source/``, the gradebook, the submissions) is not in the
sandbox at all, there is no network, and when the runner ends its pid
namespace ends with it, so nothing it started outlives the check. The
student's answers reach the sandbox only as data in the runner's job.

:class:`Unsandboxed` runs the same runner as the grading user in a
temporary folder: ``course grade --unsafe-no-sandbox``, for trusted work.

The interpreter comes from :mod:`course.pythons` (the host's Python by
default, or another supported version built by ``make pythons``): its
environment and its ``/usr`` and ``/etc`` are what the sandbox binds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...coursedir import CourseError
from .cgroups import CgroupError, SlotGroup
from .process import Completed, run_check_process

__all__ = [
    "KERNEL_VENV",
    "Box",
    "Completed",
    "Limits",
    "Sandbox",
    "SandboxUnavailable",
    "Unsandboxed",
    "copy_runtime",
    "problems",
]

#: The host interpreter's environment for sandboxed checks (override with
#: ``COURSE_KERNEL_VENV``; ``make sandbox`` creates it at the same place).
KERNEL_VENV = Path(os.environ.get("COURSE_KERNEL_VENV", "/opt/python-modules-hands-on/kernel"))
#: Slot ``n`` runs as uid and gid ``UID_BASE + n`` (no account needed).
UID_BASE = 3_000_000
#: What the sandbox needs from the machine.
TOOLS = ("bwrap", "setpriv", "prlimit")
#: The working folder inside the sandbox (an empty, size-limited tmpfs).
#: Nothing of the course root's real path exists inside.
WORK = "/home/student/work"
#: The runner's command after the interpreter.
RUNNER = ("-m", "course.lesson.runner")

MiB = 2**20


class SandboxUnavailable(CourseError):
    """The sandbox cannot be set up on this machine."""


@dataclass(frozen=True)
class Limits:
    """What one check may use. ``memory`` and ``processes`` bound the whole
    process tree (cgroup); the rest are per process (rlimits) or per mount
    (tmpfs sizes)."""

    cpu_seconds: int = 120
    address_space: int = 4096 * MiB
    file_size: int = 50 * MiB
    open_files: int = 256
    processes: int = 64
    memory: int = 1024 * MiB
    disk: int = 100 * MiB  # the working folder
    tmp: int = 64 * MiB  # /tmp (also HOME)


class Interpreter(Protocol):
    """What a box needs of an interpreter (see :class:`course.pythons.Interpreter`)."""

    version: str
    venv: Path

    @property
    def python(self) -> Path: ...

    def system_binds(self) -> list[str]: ...


class Box(Protocol):
    """Something that runs one check: :class:`Sandbox` or :class:`Unsandboxed`."""

    def run(self, slot: int, job: dict, timeout: float) -> Completed: ...


def copy_runtime(dest: Path) -> Path:
    """Copy the run-time part of the course package (``course/__init__.py``
    and ``course/lesson/``: everything that runs in a student's kernel or a
    check) to ``dest/course``, world-readable (:func:`course.pythons.runtime_copy`).
    Returns ``dest``. Side effects: creates ``dest/course``."""
    from ...pythons import runtime_copy

    return runtime_copy(dest)


def _host_interpreter() -> Interpreter:
    from ...pythons import host

    return host()


def problems(interpreter: Interpreter | None = None) -> list[str]:
    """Why the sandbox cannot work here (empty when it can), without
    starting anything."""
    found = []
    if os.geteuid() != 0:
        found.append("grading in the sandbox needs root (to switch to a uid per slot)")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            hint = " (Debian: apt-get install bubblewrap)" if tool == "bwrap" else ""
            found.append(f"`{tool}` is not installed{hint}")
    chosen = interpreter or _host_interpreter()
    checker = getattr(chosen, "problems", None)
    if callable(checker):  # course.pythons.Interpreter: its root filesystem's python too
        found += [f"{p} (create it: make sandbox, or make pythons)" for p in checker()]
    elif not (chosen.venv / "pyvenv.cfg").is_file():
        found.append(f"no interpreter environment at {chosen.venv} (create it: make sandbox)")
    return found


def _traversable(path: Path) -> bool:
    """Can any user reach ``path`` (search permission on every ancestor)?"""
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


class Sandbox:
    """A grading run's sandbox: one slot per parallel worker.

    Use as a context manager. Side effects while open: a run folder under
    the system temp folder holding a copy of the course's run-time helpers,
    and one cgroup per slot; both removed on exit. Picklable while open (a
    worker process gets it and runs checks in its slot).
    """

    def __init__(
        self, slots: int, limits: Limits | None = None, interpreter: Interpreter | None = None
    ) -> None:
        self.slots = slots
        self.limits = limits or Limits()
        self.interpreter = interpreter or _host_interpreter()
        self.run_dir: Path | None = None
        self.groups: list[SlotGroup] = []

    def __enter__(self) -> Sandbox:
        found = problems(self.interpreter)
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
        if not _traversable(self.interpreter.venv):
            raise SandboxUnavailable(
                f"the interpreter environment {self.interpreter.venv} is not world-readable"
            )
        self.run_dir = Path(tempfile.mkdtemp(prefix="course-sandbox-", dir=tmp))
        self.run_dir.chmod(0o711)
        copy_runtime(self.run_dir / "lib")
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

    def close(self) -> None:
        """Kill whatever is left, remove the cgroups and the run folder."""
        for group in self.groups:
            group.remove()
        self.groups = []
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    def command(self, slot: int, python_args: list[str]) -> list[str]:
        """The command that runs ``python_args`` with the interpreter in
        slot ``slot``'s sandbox (see the module docstring)."""
        assert self.run_dir is not None, "the sandbox is not open"
        uid = str(UID_BASE + slot)
        limits = self.limits
        venv = self.interpreter.venv
        lib = self.run_dir / "lib"
        return [
            "/bin/sh", "-c",
            'for f in $COURSE_CGROUPS; do echo $$ > "$f" || exit 97; done; exec "$@"', "sh",
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
            *self.interpreter.system_binds(),
            "--dev", "/dev",
            "--proc", "/proc",
            "--size", str(limits.tmp), "--tmpfs", "/tmp",
            "--ro-bind", str(venv), str(venv),
            "--ro-bind", str(lib), str(lib),
            "--size", str(limits.disk), "--tmpfs", WORK,
            "--remount-ro", "/",
            "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
            "--die-with-parent", "--new-session",
            "--clearenv",
            "--setenv", "HOME", "/tmp",
            "--setenv", "TMPDIR", "/tmp",
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "PATH", f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "--setenv", "PYTHONPATH", str(lib),
            "--chdir", WORK,
            "--",
            str(venv / "bin" / "python"),
            *python_args,
        ]  # fmt: skip

    def _env(self, slot: int) -> dict[str, str]:
        files = " ".join(str(p) for p in self.groups[slot].join_files())
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COURSE_CGROUPS": files}

    def run(self, slot: int, job: dict, timeout: float) -> Completed:
        """Run one check (a job for :mod:`course.lesson.runner`) in slot
        ``slot``; whatever it started is killed when it ends or at
        ``timeout`` seconds. The limits it hit are in ``notes``."""
        group = self.groups[slot]

        def kill(proc: subprocess.Popen) -> None:
            group.kill_all()
            if proc.poll() is None:
                proc.kill()

        done = run_check_process(
            self.command(slot, list(RUNNER)),
            job=job,
            timeout=timeout,
            env=self._env(slot),
            cwd="/",
            kill=kill,
        )
        done.notes += group.events()
        if done.returncode == 97:
            done.notes.append("the sandbox could not put the check in its cgroup")
        return done

    def trial(self) -> None:
        """Run a sandboxed Python in slot 0 that imports the course's
        run-time helpers, or raise :class:`SandboxUnavailable` with bwrap's
        own words (e.g. no user namespaces)."""
        argv = self.command(0, ["-c", "import course.lesson.runner"])
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, env=self._env(0), check=False
        )
        self.groups[0].kill_all()
        if done.returncode != 0:
            raise SandboxUnavailable(
                "a trial run in the sandbox failed: "
                + (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            )


class Unsandboxed:
    """Runs checks as the grading user, each in a fresh temporary folder,
    with this process's interpreter (``--unsafe-no-sandbox``: trusted work
    only; the checked code can do anything this user can).

    Use as a context manager (side effects while open: a temporary folder
    holding a copy of the course's run-time helpers).
    """

    def __init__(self) -> None:
        self.run_dir: Path | None = None

    def __enter__(self) -> Unsandboxed:
        self.run_dir = Path(tempfile.mkdtemp(prefix="course-unsandboxed-"))
        copy_runtime(self.run_dir / "lib")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    def run(self, slot: int, job: dict, timeout: float) -> Completed:
        """Run one check in a fresh temporary folder (removed afterwards);
        its process group is killed when it ends or at ``timeout``."""
        assert self.run_dir is not None, "not open"
        env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
        env["PYTHONPATH"] = str(self.run_dir / "lib")
        env.setdefault("LANG", "C.UTF-8")

        def kill(proc: subprocess.Popen) -> None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

        with tempfile.TemporaryDirectory(prefix="check-", dir=self.run_dir) as work:
            return run_check_process(
                [sys.executable, *RUNNER],
                job=job,
                timeout=timeout,
                env=env,
                cwd=work,
                kill=kill,
            )
