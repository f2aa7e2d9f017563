"""A real `course lab` server for the browser tests.

Started through the installed `course` command (so the tests cover the
command itself), on 127.0.0.1 with a free port and a random token, in a
throwaway copy of the course.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..support import BIN

__all__ = ["LabServer"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """One JupyterLab set-up (student or instructor) served by `course lab`.

    Side effects: :meth:`start` runs a server process whose output goes to
    ``log``; it writes its private Jupyter folders under ``<root>/.lab/``.
    :meth:`stop` ends it (SIGTERM, which also shuts down its kernels); so
    does the death of this process, where util-linux's ``setpriv`` exists.
    """

    def __init__(self, root: Path, *, instructor: bool, log: Path) -> None:
        self.root = root
        self.instructor = instructor
        self.log = log
        self.token = secrets.token_hex(16)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return "instructor" if self.instructor else "student"

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def get(self, path: str) -> int:
        """The HTTP status of ``GET path`` (with the token)."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def start(self, timeout: float = 180) -> None:
        self.port = _free_port()
        args = [str(BIN / "course"), "lab", "--port", str(self.port), "--ip", "127.0.0.1"]
        args += ["--no-browser", *(["--instructor"] if self.instructor else [])]
        setpriv = shutil.which("setpriv")
        if setpriv:  # the server goes too if pytest dies without tearing down
            args = [setpriv, "--pdeathsig", "TERM", "--", *args]
        env = dict(os.environ, JUPYTER_TOKEN=self.token)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                args, cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        # `course lab` replaces itself with Jupyter, which writes
        # jpserver-<pid>.json once it serves; Jupyter may also have moved to
        # another port if ours was taken meanwhile.
        info = self.root / ".lab" / self.name / "runtime" / f"jpserver-{self.proc.pid}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"`course lab` ({self.name}) exited with {self.proc.returncode}:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            if info.is_file():
                try:
                    self.port = json.loads(info.read_text())["port"]
                except (ValueError, KeyError):
                    pass  # still being written
                else:
                    if self.get("api/status") == 200:
                        return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"`course lab` ({self.name}) did not serve within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
