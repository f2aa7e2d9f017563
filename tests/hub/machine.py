"""What ``make test-hub`` creates on the machine, and how it is all removed.

Everything made for one run is named after it (``pmht<id>-...``) and written
down, before it is made, in ``/run/python-modules-hands-on-test-hub/<id>.json``:
local users and their group, the course-hub instance (configuration, sudo
rule, exchange), the hub's process. :meth:`Machine.clean` removes all of it;
the fixture calls it however the test ends, and each run first cleans what an
earlier run that was killed outright left behind (its pid is gone).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = Path("/run/python-modules-hands-on-test-hub")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _uid(name: str) -> int | None:
    try:
        import pwd

        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except FileNotFoundError:
                pass
    return pids


@dataclass
class Machine:
    """The users, group, instance and hub process of one run."""

    prefix: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    users: list[str] = field(default_factory=list)
    group: str | None = None
    instance: str | None = None
    hub_pid: int | None = None
    hub_proc: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)

    @property
    def record(self) -> Path:
        return REGISTRY / f"{self.run_id}.json"

    def name(self, what: str) -> str:
        return f"pmht{self.run_id}-{what}"

    def _save(self) -> None:
        REGISTRY.mkdir(mode=0o700, exist_ok=True)
        data = {
            "pid": os.getpid(),
            "prefix": str(self.prefix),
            "users": self.users,
            "group": self.group,
            "instance": self.instance,
            "hub_pid": self.hub_pid,
        }
        self.record.write_text(json.dumps(data))

    def run(self, *cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    # -------------------------------------------------------------- making

    def add_group(self, what: str) -> str:
        self.group = self.name(what)
        self._save()
        self.run("groupadd", self.group)
        return self.group

    def add_user(
        self, what: str, *, groups: list[str] = (), home_mode: str = "0700"
    ) -> tuple[str, str]:
        """A local user with a home folder and a random password."""
        user = self.name(what)
        self.users.append(user)
        self._save()
        cmd = ["useradd", "--create-home", "--shell", "/bin/bash", "-K", f"HOME_MODE={home_mode}"]
        if groups:
            cmd += ["--groups", ",".join(groups)]
        self.run(*cmd, user)
        password = secrets.token_urlsafe(12)
        self.run("chpasswd", input=f"{user}:{password}\n")
        return user, password

    def set_instance(self, name: str) -> None:
        self.instance = name
        self._save()

    def start_hub(self, cmd: list[str], log: Path) -> subprocess.Popen:
        """Start the hub in a session of its own, its output into ``log``."""
        with open(log, "w") as fh:
            self.hub_proc = subprocess.Popen(
                cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.set_hub(self.hub_proc.pid)
        return self.hub_proc

    def set_hub(self, pid: int | None) -> None:
        self.hub_pid = pid
        self._save()

    # ------------------------------------------------------------ removing

    def stop_hub(self) -> None:
        """SIGTERM to the hub (it stops every user's server and the proxy),
        then SIGKILL to its process group if it has not ended in 30 s."""
        if self.hub_pid is None:
            return
        if self.hub_proc is not None and self.hub_proc.poll() is not None:
            self.set_hub(None)
            return
        if self.hub_proc is None and not _alive(self.hub_pid):
            self.set_hub(None)
            return
        os.kill(self.hub_pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.hub_proc is not None:
                if self.hub_proc.poll() is not None:
                    break
            elif not _alive(self.hub_pid):  # an earlier run's hub
                break
            time.sleep(0.2)
        else:
            os.killpg(self.hub_pid, signal.SIGKILL)
            self.log.append(f"the hub (pid {self.hub_pid}) did not stop in 30 s: killed")
            if self.hub_proc is not None:
                self.hub_proc.wait()
        self.set_hub(None)

    def clean(self) -> list[str]:
        """Remove everything of this run; returns what went wrong (nothing, normally)."""
        problems = []
        try:
            self.stop_hub()
        except OSError as exc:
            problems.append(f"stopping the hub: {exc}")
        # Anything still running as a test user was started by this run (through the hub).
        for user in self.users:
            uid = _uid(user)
            for pid in _pids_of(uid) if uid is not None else []:
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.log.append(f"killed pid {pid} of {user}")
                except ProcessLookupError:
                    pass
        if self.instance:
            hub = self.prefix / "venv" / "bin" / "course-hub"
            proc = self.run(str(hub), "uninstall", self.instance, "--purge", check=False)
            if proc.returncode != 0 and "no instance" not in proc.stderr:
                problems.append(f"course-hub uninstall: {proc.stderr.strip()}")
        for user in self.users:
            if _uid(user) is not None:
                for _ in range(10):
                    proc = self.run("userdel", "--remove", user, check=False)
                    if proc.returncode == 0:
                        break
                    time.sleep(0.5)  # 8: a process of the user's is still ending
                else:
                    problems.append(f"userdel {user}: {proc.stderr.strip()}")
        if self.group and self.run("getent", "group", self.group, check=False).returncode == 0:
            proc = self.run("groupdel", self.group, check=False)
            if proc.returncode != 0:
                problems.append(f"groupdel {self.group}: {proc.stderr.strip()}")
        if not problems:
            self.record.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                REGISTRY.rmdir()
        return problems

    @classmethod
    def clean_stale(cls) -> list[str]:
        """Clean up after earlier runs whose process is gone."""
        done = []
        if not REGISTRY.is_dir():
            return done
        for record in sorted(REGISTRY.glob("*.json")):
            data = json.loads(record.read_text())
            if _alive(data["pid"]):
                continue
            m = cls(Path(data["prefix"]), run_id=record.stem)
            m.users, m.group = data["users"], data["group"]
            m.instance, m.hub_pid = data["instance"], data["hub_pid"]
            problems = m.clean()
            done.append(f"cleaned after an earlier run {record.stem}: {problems or 'ok'}")
        return done
