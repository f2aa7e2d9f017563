"""Shared fixtures: the repository, throwaway copies of the course, and a
runner for the real `course` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course.authoring import synth
from course.coursedir import Course

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def copy_course(dest: Path) -> Course:
    """Copy this repository's course (config, source/, release/, mutants)
    into ``dest``; run-time folders are left out."""
    return synth.copy_course(Course(REPO), dest)


def run_course(
    *args: str, cwd: Path | None = None, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `course` command; output captured as text; ``env``
    adds to (or overrides) the environment."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {}))
    return subprocess.run(
        [str(BIN / "course"), *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def repo() -> Course:
    return Course(REPO)


@pytest.fixture
def course_copy(tmp_path: Path) -> Course:
    return copy_course(tmp_path)
