"""Feedback pages (course.grading.feedback) built from data, on a tiny lesson."""

from __future__ import annotations

from course import notebooks as nbs
from course.grading.answers import Answer
from course.grading.feedback import render_feedback
from course.grading.outcome import CellScore, Outcome, Status
from course.grading.spec import lesson_spec

from ..support import active_content
from .nbfactory import tiny_course

HOSTILE_CODE = "def f():\n    return '</pre><script>alert(1)</script><img src=x onerror=alert(2)>'"


def _page(tmp_path, outcome: Outcome, answers: list[Answer] | None) -> str:
    course = tiny_course(tmp_path)
    return render_feedback(lesson_spec(course, "00_tiny"), outcome, answers)


def test_the_page_shows_the_exercise_title_score_and_full_message(tmp_path):
    """Does the page name the exercise by its title, give each check's score and show a long failure message in full?"""
    message = "A hidden check failed. " + "answer() should be 42007, got 7. " * 40
    outcome = Outcome(
        "ann", "00_tiny", cells={"ex0_1_tiny_test": CellScore(0.0, 2.0, message, True)}
    )
    page = _page(
        tmp_path,
        outcome,
        [Answer("ex0_1_tiny", "tiny.py", "def answer():\n    return 7", False, True)],
    )
    assert "Exercise 0.1 — tiny" in page
    assert "0 / 2" in page
    assert message.strip() in page.replace("\n", " ")
    assert "ex0_1_tiny_test" not in page, "grade ids are not shown to students"


def test_student_code_is_escaped_text_and_the_page_forbids_scripts(tmp_path):
    """Is the student's answer shown as escaped text, with no active element, under a CSP that allows no script?"""
    outcome = Outcome(
        "<b>eve</b>",
        "00_tiny",
        cells={"ex0_1_tiny_test": CellScore(0.0, 2.0, "<script>x</script>")},
    )
    page = _page(tmp_path, outcome, [Answer("ex0_1_tiny", "tiny.py", HOSTILE_CODE, False, True)])
    assert active_content(page) == []
    assert "<b>eve" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page


def test_an_unanswered_exercise_is_named(tmp_path):
    """Does the page say which exercises are not answered yet?"""
    outcome = Outcome(
        "bob",
        "00_tiny",
        cells={"ex0_1_tiny_test": CellScore(0.0, 2.0, "Exercise 0.1 is not answered yet.")},
        unanswered=["ex0_1_tiny"],
    )
    page = _page(
        tmp_path,
        outcome,
        [Answer("ex0_1_tiny", "tiny.py", "raise NotImplementedError()", False, False)],
    )
    assert "Not answered yet: Exercise 0.1." in page


def test_manual_grading_says_why_without_a_score(tmp_path):
    """Does a submission that could not be read get a page with the reason and no total?"""
    outcome = Outcome(
        "cy",
        "00_tiny",
        status=Status.MANUAL,
        reasons=["the notebook is not valid JSON"],
        cells={"ex0_1_tiny_test": CellScore(None, 2.0)},
    )
    page = _page(tmp_path, outcome, None)
    assert "not valid JSON" in page and "not scored yet" in page


def test_the_release_notebook_of_the_tiny_course_has_no_hidden_code(tmp_path):
    """Is the tiny course's release notebook what students get (the fixture is sound)?"""
    course = tiny_course(tmp_path)
    text = course.release_notebook("00_tiny").read_text(encoding="utf-8")
    assert "42007" not in text and nbs.HIDDEN_BEGIN not in text
