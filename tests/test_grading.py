"""Grading a synthetic class end to end with real nbgrader, real kernels and
the real SQLite gradebook, through the `course grade` command.

One class is graded once (module fixture) and examined by many tests:
the reference, the untouched release notebook, a "pass" submission (the
regression test for design.md trap 1), one student per mutant, and the
awkward cases: invalid JSON, an edited test cell, a deleted test cell, a
cell that hangs, and a missing notebook.
"""

from __future__ import annotations

import csv
import html
import re
import sqlite3
from pathlib import Path

import nbformat
import pytest

from course import notebooks as nbs
from course.grade import tampering
from course.synth import load_mutants, student_notebook, write_submission

from .conftest import copy_course, run_course

pytestmark = pytest.mark.slow

TIMEOUT = 5  # seconds per cell for this class: the hanging cell costs this much


def _first_test_cell(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if nbs.is_graded_test(c))


def _make_class(course) -> dict[str, dict]:
    """Write the class into submitted/; return what each student expects."""
    expect: dict[str, dict] = {}
    for lesson in course.lessons():
        tests = [
            nbs.grade_id(c)
            for c in nbs.read(course.source_notebook(lesson)).cells
            if nbs.is_graded_test(c)
        ]
        write_submission(course, "reference", lesson, student_notebook(course, lesson, "reference"))
        write_submission(course, "blank", lesson, student_notebook(course, lesson, "blank"))
        write_submission(course, "pass", lesson, student_notebook(course, lesson, "pass"))
        expect.setdefault("reference", {})[lesson] = {"full": set(tests), "zero": set()}
        expect.setdefault("blank", {})[lesson] = {"full": set(), "zero": set(tests)}
        expect.setdefault("pass", {})[lesson] = {"full": set(), "zero": set(tests)}
        for mutant in load_mutants(course, lesson):
            nb = student_notebook(course, lesson, "reference", mutant.replace)
            write_submission(course, mutant.student, lesson, nb)
            expect[mutant.student] = {
                lesson: {"full": set(tests) - set(mutant.fails), "below": set(mutant.fails)}
            }

    lesson = course.lessons()[0]
    folder = course.submitted / "invalid-json" / lesson
    folder.mkdir(parents=True)
    (folder / f"{lesson}.ipynb").write_text('{"cells": [', encoding="utf-8")

    blank = student_notebook(course, lesson, "blank")
    edited = nbformat.from_dict(blank)
    i = _first_test_cell(edited)
    edited.cells[i].source = '"""Check nothing."""\nassert True'
    write_submission(course, "edited-test", lesson, edited)

    deleted = nbformat.from_dict(student_notebook(course, lesson, "blank"))
    deleted_id = nbs.grade_id(deleted.cells.pop(_first_test_cell(deleted)))
    write_submission(course, "deleted-test", lesson, deleted)

    hang = student_notebook(course, lesson, "reference")
    hang.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
    write_submission(course, "hang", lesson, hang)

    crash = student_notebook(course, lesson, "reference")
    crash.cells.insert(2, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    write_submission(course, "crash", lesson, crash)

    (course.submitted / "missing" / lesson).mkdir(parents=True)
    return {"expect": expect, "deleted_id": deleted_id, "lesson": lesson}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("class"))
    made = _make_class(course)
    # A generous limit: a loaded machine can be several times slower than CI.
    result = run_course(
        "--root", str(course.root), "grade", "--timeout", str(TIMEOUT), timeout=3600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with open(course.reports / "outcomes.csv", encoding="utf-8") as f:
        outcomes = {(r["student"], r["lesson"]): r for r in csv.DictReader(f)}
    return {"course": course, "result": result, "outcomes": outcomes, **made}


def _scores(course, student: str, lesson: str) -> dict[str, tuple[float | None, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        nb = gb.find_submission_notebook(lesson, lesson, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades}


def test_expected_scores_for_reference_blank_pass_and_every_mutant(graded):
    """Does the reference get full marks, blank and pass 0 on every cell, and each mutant lose exactly its cells?"""
    course = graded["course"]
    checked = 0
    for student, lessons in graded["expect"].items():
        for lesson, want in lessons.items():
            assert graded["outcomes"][(student, lesson)]["status"] == "graded", student
            scores = _scores(course, student, lesson)
            for cell in want.get("full", ()):
                assert scores[cell][0] == scores[cell][1], f"{student}: {cell} should be full marks"
            for cell in want.get("zero", ()):
                assert scores[cell][0] == 0, f"{student}: {cell} should be 0"
            for cell in want.get("below", ()):
                assert scores[cell][0] < scores[cell][1], f"{student}: {cell} should lose points"
            checked += 1
    mutants = sum(len(load_mutants(course, lesson)) for lesson in course.lessons())
    assert checked == 3 * len(course.lessons()) + mutants


def test_every_graded_cell_has_at_least_two_mutants(graded):
    """Is every autograded test cell proven by at least two mutants?"""
    course = graded["course"]
    for lesson in course.lessons():
        tests = [
            nbs.grade_id(c)
            for c in nbs.read(course.source_notebook(lesson)).cells
            if nbs.is_graded_test(c)
        ]
        mutants = load_mutants(course, lesson)
        for test in tests:
            assert sum(test in m.fails for m in mutants) >= 2, (
                f"{lesson}: {test} has fewer than 2 mutants"
            )


def test_invalid_json_needs_manual_grading_with_a_reason(graded):
    """Is a notebook that is not JSON recorded as needing manual grading, with the reason?"""
    row = graded["outcomes"][("invalid-json", graded["lesson"])]
    assert row["status"] == "needs manual grading"
    assert "not valid JSON" in row["reason"]
    assert row["score"] == ""


def test_an_edited_test_cell_is_restored_and_graded(graded):
    """Is a test cell rewritten to `assert True` put back, so the blank work still scores 0?"""
    row = graded["outcomes"][("edited-test", graded["lesson"])]
    assert row["status"] == "graded"
    assert "edited locked cell" in row["reason"]
    assert all(
        s == 0 for s, _ in _scores(graded["course"], "edited-test", graded["lesson"]).values()
    )


def test_a_deleted_test_cell_is_put_back_and_graded(graded):
    """Is a deleted test cell added back and graded (0 for blank work), not skipped?"""
    row = graded["outcomes"][("deleted-test", graded["lesson"])]
    assert row["status"] == "graded"
    assert "deleted locked cell" in row["reason"]
    scores = _scores(graded["course"], "deleted-test", graded["lesson"])
    assert scores[graded["deleted_id"]][0] == 0


def test_a_hanging_cell_times_out_and_the_rest_is_graded(graded):
    """Does a cell that never ends time out, with the other cells still graded (full marks)?"""
    row = graded["outcomes"][("hang", graded["lesson"])]
    assert row["status"] == "graded"
    assert "timed out" in row["reason"]
    assert row["score"] == row["max_score"]


def test_a_crashed_kernel_needs_manual_grading(graded):
    """Is a notebook that kills its kernel recorded with that reason, and the run goes on?"""
    row = graded["outcomes"][("crash", graded["lesson"])]
    assert row["status"] == "needs manual grading"
    assert "kernel died" in row["reason"]


def test_a_missing_notebook_scores_zero(graded):
    """Is a submission folder without its notebook recorded as missing?"""
    row = graded["outcomes"][("missing", graded["lesson"])]
    assert row["status"] == "missing"
    assert row["score"] == "0"


def test_tampering_is_not_reported_for_honest_work(graded):
    """Is the reference submission free of tampering notes (hidden tests differ from release by design)?"""
    course = graded["course"]
    for lesson in course.lessons():
        path = course.submitted / "reference" / lesson / f"{lesson}.ipynb"
        assert tampering(course, lesson, path) == []


def _text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def _public_text(cell) -> str:
    """A cell's text without its hidden-test section."""
    hidden = set(nbs.hidden_test_lines(cell))
    return "\n".join(ln for ln in nbs.cell_text(cell).splitlines() if ln not in hidden)


def test_feedback_shows_each_check_but_no_hidden_test_code(graded):
    """Does every feedback page show each graded cell's score and none of the hidden test code?

    A hidden line counts as leaked when the page shows it although it stands
    nowhere else: not in the lesson's prose, visible code or solutions, nor in
    the student's own submission.
    """
    course = graded["course"]
    pages = sorted(course.feedback.glob("*/*/*.html"))
    graded_rows = [k for k, r in graded["outcomes"].items() if r["status"] == "graded"]
    assert len(pages) == len(graded_rows)
    checked = 0
    for lesson in course.lessons():
        source = nbs.read(course.source_notebook(lesson))
        public = "\n".join(_public_text(c) for c in source.cells)
        hidden = {ln.strip() for c in source.cells for ln in nbs.hidden_test_lines(c)} - {""}
        secret = {ln for ln in hidden if ln not in public}
        assert secret, f"{lesson}: every hidden line also stands in public text?"
        tests = [nbs.grade_id(c) for c in source.cells if nbs.is_graded_test(c)]
        for page in course.feedback.glob(f"*/{lesson}/*.html"):
            student = page.parent.parent.name
            handed_in = nbs.read(course.submitted / student / lesson / f"{lesson}.ipynb")
            own = "\n".join(nbs.cell_text(c) for c in handed_in.cells)
            text = _text(page)
            assert "HIDDEN TESTS" not in text
            for line in secret:
                if line not in own:
                    assert line not in text, f"{page}: hidden test code shown: {line}"
                    checked += 1
            for test in tests:
                assert f"Grade cell: {test}" in text
            assert len(re.findall(r"Score: [\d.]+ / [\d.]+", text)) >= len(tests)
    assert checked > 1000


def test_failed_hidden_checks_explain_themselves(graded):
    """Does a student who fails a hidden check see that a hidden check failed?"""
    course = graded["course"]
    pages = [_text(p) for p in course.feedback.glob("demo-*/*/*.html")]
    assert any("A hidden check failed." in t for t in pages)


def test_grades_csv_and_table_cover_everyone(graded):
    """Do grades.csv (nbgrader's format) and the printed table list every graded student?"""
    course = graded["course"]
    with open(course.root / "grades.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {"assignment", "student_id", "score", "max_score"} <= set(rows[0])
    students = {r["student_id"] for r in rows}
    assert {"reference", "blank", "pass", "hang", "edited-test", "deleted-test"} <= students
    table = graded["result"].stdout
    for student, _lesson in graded["outcomes"]:
        assert student in table


def test_progress_is_shown_for_each_submission(graded):
    """Is there one progress line per submission while grading runs?"""
    lines = [ln for ln in graded["result"].stderr.splitlines() if re.match(r"\[\s*\d+/\d+\]", ln)]
    assert len(lines) == len(graded["outcomes"])


def test_gradebook_is_intact(graded):
    """Does the gradebook pass SQLite's integrity check after the run?"""
    db = sqlite3.connect(graded["course"].gradebook)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()


def test_demo_class_scores_as_designed(course_copy):
    """Does `course demo` (one lesson, one worker) grade the demo class and confirm every student scored as designed?

    The class fixture above grades every lesson with parallel workers; this
    covers the demo command and the in-process grading path.
    """
    result = run_course(
        "--root", str(course_copy.root), "demo", course_copy.lessons()[0], "--jobs", "1"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo submissions scored as designed" in result.stdout
    assert (course_copy.root / "grades.csv").is_file()
    assert (course_copy.autograded / "demo-reference").is_dir()


def test_grading_in_process_gives_the_same_scores(course_copy):
    """Does `--jobs 1` (grading in the command's own process) give the reference full marks?"""
    lesson = course_copy.lessons()[0]
    write_submission(
        course_copy, "solo", lesson, student_notebook(course_copy, lesson, "reference")
    )
    result = run_course("--root", str(course_copy.root), "grade", lesson, "--jobs", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    scores = _scores(course_copy, "solo", lesson)
    assert scores and all(s == m for s, m in scores.values())
