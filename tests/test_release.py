"""release/: in sync with source/, leak-free, validated (design.md traps 1, 3, 9)."""

from __future__ import annotations

import pytest

from course import notebooks as nbs
from course.authoring.build import RUNTIME_DIRS, find_leaks

from .support import run_course

pytestmark = pytest.mark.nbgrader


def test_release_holds_only_the_student_notebooks(repo):
    """Does release/ hold one folder per lesson with nothing but its notebook?"""
    lessons = repo.lessons()
    assert lessons
    folders = sorted(p.name for p in repo.release.iterdir())
    assert folders == lessons
    for lesson in lessons:
        files = sorted(
            p.relative_to(repo.release / lesson).as_posix()
            for p in (repo.release / lesson).rglob("*")
            if p.is_file() and not set(p.relative_to(repo.release).parts) & set(RUNTIME_DIRS)
        )
        assert files == [f"{lesson}.ipynb"]


def test_release_has_no_markers_solutions_or_widget_state(repo):
    """Is no solution line, hidden test, marker or widget state in any student notebook?"""
    for lesson in repo.lessons():
        assert find_leaks(repo, lesson, repo.release / lesson) == []
        nb = nbs.read(repo.release_notebook(lesson))
        assert "widgets" not in nb.metadata
        assert all(c.get("outputs", []) == [] for c in nb.cells), (
            "student notebooks carry no outputs"
        )


def test_leak_check_catches_a_solution_line(course_copy):
    """Would a solution line that reached release/ be caught?"""
    lesson = course_copy.lessons()[0]
    source = nbs.read(course_copy.source_notebook(lesson))
    secret = next(ln for c in source.cells for ln in nbs.solution_lines(c) if len(ln.strip()) >= 12)
    nb = nbs.read(course_copy.release_notebook(lesson))
    nb.cells[-1].source += "\n" + secret
    nbs.write(nb, course_copy.release_notebook(lesson))
    assert any(
        "solution or hidden-test line" in p
        for p in find_leaks(course_copy, lesson, course_copy.release / lesson)
    )


def test_course_check_passes_on_the_repository():
    """Does `course check` (lint, sync, README, self-contained tests) pass on every lesson as committed?

    The validator step is left to the next test (one lesson) and to the
    grading tests, which prove the same for every lesson: the reference
    solution scores full marks and the untouched student notebook 0 on every
    graded cell.
    """
    result = run_course("check", "--no-validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "lint: ok",
        "release in sync: ok",
        "readme: ok",
        "tests self-contained: ok",
    ]


@pytest.mark.slow
def test_validator_passes_source_and_fails_release(repo):
    """Does nbgrader's validator (in code, trap 3) pass the source notebook and fail every graded cell of the release one?"""
    result = run_course("check", repo.lessons()[0])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "validator: ok"


def test_build_is_deterministic(course_copy, repo):
    """Does building twice change no byte of the committed release/?"""
    for _ in range(2):
        result = run_course("--root", str(course_copy.root), "build")
        assert result.returncode == 0, result.stderr
        assert "(0 file(s) changed)" in result.stdout
    for lesson in repo.lessons():
        assert (
            course_copy.release_notebook(lesson).read_bytes()
            == repo.release_notebook(lesson).read_bytes()
        )


def test_check_names_a_source_notebook_edited_without_rebuilding(course_copy):
    """After editing a source cell without `course build`, does `course check` fail naming the notebook?"""
    lesson = course_copy.lessons()[0]
    path = course_copy.source_notebook(lesson)
    nb = nbs.read(path)
    markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    markdown.source += "\n\nAn edit nobody rebuilt."
    nbs.write(nb, path)
    result = run_course("--root", str(course_copy.root), "check", lesson, "--no-validate")
    assert result.returncode == 1
    assert f"{path}: release/{lesson} is out of date" in result.stderr
    rebuilt = run_course("--root", str(course_copy.root), "build", lesson)
    assert rebuilt.returncode == 0
    assert (
        run_course("--root", str(course_copy.root), "check", lesson, "--no-validate").returncode
        == 0
    )
