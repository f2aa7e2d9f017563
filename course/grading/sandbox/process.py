"""Start one check's process and collect what it says, within bounds.

:func:`run_check_process` starts the runner (:mod:`course.lesson.runner`)
with two extra pipes, the *result* pipe it reports on and the *token* pipe
holding the per-run secret, writes the job to its standard input, and reads
standard output, standard error and the result pipe at once (so no pipe can
fill and block it), keeping at most ``limit`` bytes of each. It stops
reading at the deadline, or shortly after the process ended (a child the
check left behind may hold the pipes open). It never raises for anything
the checked code does.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Completed", "run_check_process"]

#: Bytes kept of each of standard output, standard error and the result.
OUTPUT_LIMIT = 1_000_000
#: Seconds to go on reading after the process has ended.
GRACE = 0.3
#: Token pipes and result pipes given to each check (one of each is real).
PIPES = 16


@dataclass
class Completed:
    """What one check process did."""

    returncode: int | None  # None when it was killed at its deadline
    stdout: bytes = b""
    stderr: bytes = b""
    result: bytes = b""  # what arrived on the real result pipe
    token: str = ""  # the real secret
    decoy_written: bool = False  # something arrived on a decoy result pipe
    timed_out: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # limits hit, processes killed


def run_check_process(
    argv: Sequence[str],
    *,
    job: dict,
    timeout: float,
    env: Mapping[str, str],
    cwd: str,
    kill: Callable[[subprocess.Popen], None],
    limit: int = OUTPUT_LIMIT,
) -> Completed:
    """Run ``argv`` with ``job`` (module docstring); the job's ``fds`` entry
    is added here. ``kill`` stops the process and everything it started (at
    the deadline, and after it ended, for what it left behind). Side
    effects: starts and ends that process; every pipe is closed on return.
    """
    tokens: list[tuple[int, str]] = []  # (read end for the child, secret)
    results: list[tuple[int, int]] = []  # (read end here, write end for the child)
    child_fds: list[int] = []
    try:
        for _ in range(PIPES):
            read, write = os.pipe()
            secret = secrets.token_hex(16)
            os.write(write, secret.encode("ascii"))
            os.close(write)
            tokens.append((read, secret))
            results.append(os.pipe())
        child_fds = [r for r, _ in tokens] + [w for _, w in results]
        real_token = secrets.randbelow(PIPES)
        real_result = secrets.randbelow(PIPES)
        payload = json.dumps({**job, "fds": [results[real_result][1], tokens[real_token][0]]})
        start = time.monotonic()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=child_fds,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
    except BaseException:
        for fd in child_fds or [r for r, _ in tokens] + [fd for pair in results for fd in pair]:
            with contextlib.suppress(OSError):
                os.close(fd)
        for read, _ in results:
            with contextlib.suppress(OSError):
                os.close(read)
        raise
    for fd in child_fds:
        os.close(fd)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd, in_fd = proc.stdout.fileno(), proc.stderr.fileno(), proc.stdin.fileno()
    buffers: dict[int, bytearray] = {out_fd: bytearray(), err_fd: bytearray()}
    for read, _ in results:
        buffers[read] = bytearray()
    pending = memoryview(payload.encode("utf-8"))
    selector = selectors.DefaultSelector()
    os.set_blocking(in_fd, False)
    selector.register(in_fd, selectors.EVENT_WRITE)
    for fd in buffers:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    deadline = start + timeout
    ended_at: float | None = None
    timed_out = False
    try:
        while selector.get_map():
            now = time.monotonic()
            if ended_at is None and proc.poll() is not None:
                ended_at = now
            if ended_at is not None and now > ended_at + GRACE:
                break
            if now > deadline:
                timed_out = proc.poll() is None
                break
            wait = min(deadline, (ended_at or now) + GRACE) - now
            for key, _ in selector.select(timeout=max(0.0, min(wait, 0.1))):
                fd = key.fd
                if fd == in_fd:
                    try:
                        written = os.write(fd, pending[:65536])
                    except OSError:
                        written = len(pending)
                    pending = pending[written:]
                    if not pending:
                        selector.unregister(fd)
                        proc.stdin.close()
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(fd)
                    continue
                kept = buffers[fd]
                if len(kept) < limit:
                    kept += chunk[: limit - len(kept)]
    finally:
        selector.close()
        kill(proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for handle in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                handle.close()
        for read, _ in results:
            with contextlib.suppress(OSError):
                os.close(read)
    real = results[real_result][0]
    return Completed(
        returncode=None if timed_out else proc.returncode,
        stdout=bytes(buffers[out_fd]),
        stderr=bytes(buffers[err_fd]),
        result=bytes(buffers[real]),
        token=tokens[real_token][1],
        decoy_written=any(buffers[r] for r, _ in results if r != real),
        timed_out=timed_out,
        seconds=time.monotonic() - start,
    )
