"""``make test-hub`` only: JupyterHub with real local users (tests/hub/test_hub.py).

test_hub.py needs root, creates and removes system users and runs JupyterHub,
so it runs only when ``make test-hub`` says where the hub's environment is
(``COURSE_TEST_HUB_PREFIX``); any other pytest run that collects it (a bare
``pytest``) skips it with that reason. test_course_hub.py needs none of that
and runs wherever it is collected. The run's summary (what was checked, the
grades, the refusals, the duration) is printed at the end of pytest's report.
"""

from __future__ import annotations

import os
import time

import pytest

PREFIX_VAR = "COURSE_TEST_HUB_PREFIX"
SUMMARY: list[str] = []
STARTED = time.monotonic()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(PREFIX_VAR):
        return
    skip = pytest.mark.skip(
        reason="JupyterHub with real local users (root; creates and removes users): "
        "run by `make test-hub`"
    )
    here = os.path.join(os.path.dirname(__file__), "test_hub.py")
    for item in items:
        if str(item.path) == here:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not SUMMARY:
        return
    terminalreporter.section("make test-hub: summary")
    for line in SUMMARY:
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        f"duration: {time.monotonic() - STARTED:.1f} s (pytest session; "
        f"{'passed' if exitstatus == 0 else 'FAILED'})"
    )
