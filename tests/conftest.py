"""Shared fixtures: the repository and throwaway copies of the course.
Helpers (REPO, copy_course, run_course...) live in :mod:`tests.support`."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.coursedir import Course

from .support import REPO, copy_course


@pytest.fixture(scope="session")
def repo() -> Course:
    return Course(REPO)


@pytest.fixture
def course_copy(tmp_path: Path) -> Course:
    return copy_course(tmp_path)
