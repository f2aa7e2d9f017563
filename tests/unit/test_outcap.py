"""course.lesson.outcap in a real kernel: a cell's printing stops at the limit."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from course.grading.execute import OUTCAP, CappedExecute
from course.kernels import ipc_config, private_sockets
from course.lesson.outcap import LIMIT, NOTE

pytestmark = pytest.mark.slow


@contextmanager
def _kernel(extra_arguments: list[str]) -> Iterator[BlockingKernelClient]:
    with private_sockets() as folder:
        km = KernelManager(kernel_name="python3", config=ipc_config(folder))
        # ipykernel leaves file descriptors alone under pytest (it looks for
        # PYTEST_CURRENT_TEST); graded kernels run with a cleared environment.
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        km.start_kernel(extra_arguments=extra_arguments, env=env)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            yield kc
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    with _kernel([OUTCAP]) as kc:
        yield kc


def _printed(kc: BlockingKernelClient, code: str, linger: float = 0.0) -> str:
    """What the cell printed (stdout and stderr), read until the kernel is idle,
    then for ``linger`` seconds more (output a subprocess wrote to the
    kernel's file descriptors can arrive after the cell ends)."""
    msg_id = kc.execute(code)
    text, idle, deadline = [], False, time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=linger if idle else 30)
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text.append(msg["content"]["text"])
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
            if not linger:
                break
    assert idle, "the kernel never went idle"
    return "".join(text)


FLOOD = "for _ in range(500):\n    print('x' * 9999)"  # 5,000,000 characters
#: The most characters IPython's history holds for any one cell of the session.
STORED = (
    "cells = get_ipython().history_manager.outputs.values()\n"
    "print(max(sum(len(s) for o in outs for s in o.bundle['stream']) for outs in cells))"
)


def test_a_flood_stops_at_the_limit_with_one_note(kernel):
    """Does a 5-million-character print loop send exactly LIMIT characters and the note?"""
    text = _printed(kernel, FLOOD)
    assert text.endswith(NOTE) and text.count(NOTE) == 1
    assert len(text) == LIMIT + len(NOTE), len(text)


def test_ipython_keeps_no_more_than_the_limit_in_its_history(kernel):
    """Does IPython's record of a flood (its history tee, in memory) stop at the limit too?"""
    _printed(kernel, FLOOD)
    assert int(_printed(kernel, STORED)) == LIMIT + len(NOTE)


def test_without_the_extension_ipython_keeps_the_whole_flood():
    """Is the extension still needed: does IPython keep all 5,000,000 printed characters in memory?"""
    with _kernel([]) as plain:
        assert len(_printed(plain, FLOOD)) == 5_000_000
        assert int(_printed(plain, STORED)) == 5_000_000


def test_each_cell_gets_its_own_allowance(kernel):
    """After a cell that hit the limit, does the next cell print normally?"""
    _printed(kernel, "print('y' * 3_000_000)")
    assert _printed(kernel, "print('small'); import sys; print('err', file=sys.stderr)") == (
        "small\nerr\n"
    )


def test_what_a_subprocess_writes_counts_too(kernel):
    """Is a child process's flood on the kernel's stdout cut at the limit as well?"""
    code = (
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'import os\\nfor _ in range(300): os.write(1, b\"z\" * 10000)'])"
    )
    text = _printed(kernel, code, linger=2.0)
    # What is still in the pipe when the cell ends (at most 64 KiB, and one
    # 1000-byte read in ipykernel's hands) is forwarded after the cap is gone.
    assert NOTE in text and len(text) <= LIMIT + len(NOTE) + 2**16 + 1000, len(text)


def test_capped_execute_always_loads_the_extension():
    """Is --ext=course.lesson.outcap kept when other kernel arguments are configured?"""
    assert OUTCAP in CappedExecute().extra_arguments
    assert CappedExecute(extra_arguments=["--foo"]).extra_arguments == ["--foo", OUTCAP]
