"""Memory and process-count limits for a whole process tree, with cgroups.

Per-process resource limits (``prlimit --as``) do not bound a tree of
processes, and ``RLIMIT_NPROC`` is ignored for root; a cgroup does both.
Supports the two layouts Linux has: v1 (separate ``memory`` and ``pids``
hierarchies, as on these machines) and v2 (one unified hierarchy with the
``memory`` and ``pids`` controllers delegated to our group).

Side effects: :meth:`SlotGroup.create` makes cgroup directories below the
grading process's own cgroups; :meth:`SlotGroup.remove` kills what is left
in them and removes them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CgroupError", "SlotGroup"]

ROOT = Path("/sys/fs/cgroup")


class CgroupError(Exception):
    """Cgroups cannot be used here (the message says why)."""


def _own(controller: str) -> Path | None:
    """Our cgroup directory in the v1 hierarchy of ``controller``, or in the
    v2 hierarchy when ``controller`` is ``""``."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            base = ROOT / controller if controller and (ROOT / controller).is_dir() else ROOT
            return base / path.lstrip("/")
    return None


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


@dataclass
class SlotGroup:
    """The cgroup(s) of one grading slot: a memory limit (swap included where
    the kernel accounts it) and a process-count limit for every process
    started inside, however deep."""

    name: str
    memory: int
    pids: int
    dirs: list[Path] = field(default_factory=list)
    _oom_seen: int = 0
    _pids_seen: int = 0

    def create(self) -> None:
        """Make the group(s) and set the limits; raises :class:`CgroupError`."""
        if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir():
            mem, pids = _own("memory"), _own("pids")
            if mem is None or pids is None:
                raise CgroupError("cgroup v1: no memory or pids hierarchy for this process")
            self.dirs = [mem / self.name, pids / self.name]
            try:
                for d in self.dirs:
                    d.mkdir(exist_ok=True)
                _write(self.dirs[0] / "memory.limit_in_bytes", str(self.memory))
                memsw = self.dirs[0] / "memory.memsw.limit_in_bytes"
                if memsw.exists():
                    _write(memsw, str(self.memory))
                _write(self.dirs[1] / "pids.max", str(self.pids))
            except OSError as exc:
                raise CgroupError(f"cgroup v1: cannot create or limit {self.name}: {exc}") from exc
        elif (ROOT / "cgroup.controllers").is_file():
            own = _own("")
            if own is None:
                raise CgroupError("cgroup v2: cannot find this process's cgroup")
            group = own / self.name
            try:
                group.mkdir(exist_ok=True)
                if not (group / "memory.max").exists() or not (group / "pids.max").exists():
                    _write(own / "cgroup.subtree_control", "+memory +pids")
                _write(group / "memory.max", str(self.memory))
                swap = group / "memory.swap.max"
                if swap.exists():
                    _write(swap, "0")
                _write(group / "pids.max", str(self.pids))
            except OSError as exc:
                raise CgroupError(
                    f"cgroup v2: cannot delegate the memory and pids controllers to {group}: {exc}"
                ) from exc
            self.dirs = [group]
        else:
            raise CgroupError(f"no cgroup hierarchy with memory and pids controllers in {ROOT}")
        self._oom_seen, self._pids_seen = self._counters()

    def join_files(self) -> list[Path]:
        """The files a process writes its pid to, to enter the group(s)."""
        return [d / "cgroup.procs" for d in self.dirs]

    def processes(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        return found

    def kill_all(self) -> int:
        """SIGKILL every process in the group(s) until none is left (a fork
        bomb can race a single pass). Returns how many were killed."""
        killed: set[int] = set()
        for _ in range(50):
            left = self.processes()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                if not _zombie(pid):  # an exited process its parent has not reaped yet
                    killed.add(pid)
            time.sleep(0.02)
        return len(killed)

    def _counters(self) -> tuple[int, int]:
        oom = hit = 0
        for d in self.dirs:
            for name, key in (("memory.oom_control", "oom_kill"), ("memory.events", "oom_kill")):
                oom = max(oom, _field(d / name, key))
            hit = max(hit, _field(d / "pids.events", "max"))
        return oom, hit

    def events(self) -> list[str]:
        """What the limits stopped since the last call, in words."""
        oom, hit = self._counters()
        notes = []
        if oom > self._oom_seen:
            notes.append(
                f"out of memory: a process was killed at the {self.memory // 2**20} MiB limit"
            )
        if hit > self._pids_seen:
            notes.append(f"the {self.pids}-process limit refused new processes")
        self._oom_seen, self._pids_seen = oom, hit
        return notes

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _field(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in {"Z", "X"}
