"""Helpers shared by the browser tests: screenshots and the global Jupyter
configuration that `course lab` must leave alone."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ..support import REPO

__all__ = ["ARTIFACTS", "GLOBAL_CONFIG", "global_config_files", "snap"]

ARTIFACTS = REPO / "test-artifacts" / "browser"


def _file_name(nodeid_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name).strip("_")


def snap(page: Page, request: pytest.FixtureRequest, suffix: str = "") -> Path:
    """Save a screenshot of ``page`` named after the running test."""
    path = ARTIFACTS / f"{_file_name(request.node.name)}{suffix}.png"
    page.screenshot(path=path)
    return path


#: Jupyter configuration that `course lab` must neither read nor write: the
#: user's and the virtual environment's.
GLOBAL_CONFIG = [
    Path.home() / ".jupyter",
    Path(sys.prefix) / "etc" / "jupyter",
    Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings",
]


def global_config_files() -> dict[str, tuple[int, int]]:
    """Every file of :data:`GLOBAL_CONFIG`, with its mtime and size."""
    found = {}
    for folder in GLOBAL_CONFIG:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                stat = path.stat()
                found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found
