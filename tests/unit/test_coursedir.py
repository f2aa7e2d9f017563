"""Unit tests of course.coursedir."""

from __future__ import annotations

import pytest

from course.coursedir import Course, CourseError, find_root


def _course(tmp_path, *lessons):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    for lesson in lessons:
        (tmp_path / "source" / lesson).mkdir(parents=True)
        (tmp_path / "source" / lesson / f"{lesson}.ipynb").write_text("{}")
    return Course(tmp_path)


def test_lessons_are_found_by_their_folder_and_notebook_names(tmp_path):
    """Are only NN_topic folders with a matching notebook lessons?"""
    course = _course(tmp_path, "01_first", "02_second")
    (tmp_path / "source" / "notes").mkdir()
    (tmp_path / "source" / "03_empty").mkdir()
    assert course.lessons() == ["01_first", "02_second"]


def test_lessons_can_be_chosen_by_number(tmp_path):
    """Does `2` select 02_second, and an unknown name give a clear error?"""
    course = _course(tmp_path, "01_first", "02_second")
    assert course.resolve_lessons(["2"]) == ["02_second"]
    assert course.resolve_lessons(None) == ["01_first", "02_second"]
    with pytest.raises(CourseError, match="unknown lesson 'nope'"):
        course.resolve_lessons(["nope"])


def test_find_root_walks_up_and_fails_clearly(tmp_path):
    """Is the course root found from a subfolder, and is a non-course an error?"""
    _course(tmp_path, "01_first")
    assert find_root(tmp_path / "source" / "01_first") == tmp_path
    with pytest.raises(CourseError, match="no course here"):
        find_root(tmp_path.parent)
