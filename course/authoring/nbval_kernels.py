"""A pytest plugin: how nbval's kernels start in the course's checks.

- **IPC sockets, not TCP ports**, in a folder private to this pytest
  process (jupyter_client picks TCP ports by binding port 0 and letting go,
  so concurrent processes can race for one);
- **a private IPython directory** (``IPYTHONDIR``): no shared history
  database, no user start-up files;
- **kernel stderr in a log**, whose tail is shown for every kernel that
  wrote one when the run fails;
- **one retry of a kernel start** that fails (never of a cell); each retry
  is listed at the end of the run, one ``RETRIED`` line each, with the failed
  kernel's stderr (``tests/test_nbval.py`` turns those lines into
  :class:`course.kernels.KernelStartRetried` warnings).

Use: ``python -m pytest -p course.authoring.nbval_kernels --nbval ...``. The
report header names the folder, so a run shows that the plugin was active.

Side effects, for this pytest process only: creates a temporary folder
(mode 0700) for the sockets, the IPython directory and the kernel logs,
removed at the end of the session; sets ``IPYTHONDIR`` in ``os.environ``;
closes the /dev/null file nbval opens for each kernel; patches nbval's
kernel start (:func:`course._compat.patch_nbval_kernels`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from jupyter_client.manager import KernelManager

from .._compat import patch_nbval_kernels
from ..kernels import ipc_config

__all__ = ["IPCKernelManager", "start_new_kernel"]

_folder: Path | None = None
#: Each kernel's stderr log: (the folder it ran in, the open log file).
_logs: list[tuple[str, BinaryIO]] = []
#: Each retried start: (what went wrong, the failed kernel's index in _logs,
#: or None if it failed before a kernel was started).
_retries: list[tuple[str, int | None]] = []
_start_new_kernel: Any = None  # nbval's own, kept by pytest_configure


class IPCKernelManager(KernelManager):
    """nbval's kernel manager: IPC sockets in this session's folder, stderr logged."""

    def __init__(self, **kwargs: Any) -> None:
        if _folder is None:
            raise RuntimeError(
                "course.authoring.nbval_kernels: the socket folder is made in pytest_configure"
            )
        # jupyter_client numbers IPC sockets ``<ip>-1``, ``<ip>-2``... skipping
        # files that exist, so kernels started one after another share the prefix.
        kwargs.setdefault("config", ipc_config(_folder))
        super().__init__(**kwargs)

    def start_kernel(self, **kwargs: Any) -> None:
        """Start the kernel with its stderr in a log file instead of /dev/null."""
        assert _folder is not None
        devnull = kwargs.pop("stderr", None)
        if devnull is not None:
            devnull.close()
        log = (_folder / f"kernel{len(_logs) + 1}.stderr").open("wb")
        _logs.append((str(kwargs.get("cwd", "")), log))
        super().start_kernel(stderr=log, **kwargs)


def start_new_kernel(*args: Any, **kwargs: Any) -> Any:
    """nbval's ``start_new_kernel``, tried a second time if the first fails."""
    started = len(_logs)
    try:
        return _start_new_kernel(*args, **kwargs)
    except RuntimeError as error:  # jupyter_client: didn't respond / died before replying
        failed = len(_logs) - 1 if len(_logs) > started else None
        _retries.append((f"{kwargs.get('cwd', '')}: {error}", failed))
        return _start_new_kernel(*args, **kwargs)


def _tail(log: BinaryIO) -> str:
    log.flush()
    return Path(log.name).read_bytes()[-3000:].decode(errors="replace").strip()


def pytest_configure(config: pytest.Config) -> None:
    """Make the folder, point IPython at it and hand nbval the kernel manager."""
    global _folder
    _folder = Path(tempfile.mkdtemp(prefix="nbval-kernels-"))
    os.environ["IPYTHONDIR"] = str(_folder / "ipython")
    global _start_new_kernel
    _start_new_kernel = patch_nbval_kernels(IPCKernelManager, start_new_kernel)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """List retried kernel starts; after a failed run, show every kernel's stderr."""
    if _retries:
        terminalreporter.write_sep("-", f"kernel starts retried: {len(_retries)}")
        for what, index in _retries:
            terminalreporter.write_line(f"RETRIED {what}")
            text = _tail(_logs[index][1]) if index is not None else "(no kernel was started)"
            terminalreporter.write_line(text or "(the kernel wrote no stderr)")
    if exitstatus == 0:
        return
    for cwd, log in _logs:
        text = _tail(log)
        if text:
            terminalreporter.write_sep("-", f"stderr of the kernel started in {cwd}")
            terminalreporter.write_line(text)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the kernel logs and remove the folder."""
    for _, log in _logs:
        log.close()
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str:
    """Say where the kernels' sockets are (proof that the plugin is active)."""
    return f"nbval kernels: IPC sockets, IPython directory and stderr logs in {_folder}"
