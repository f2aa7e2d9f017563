"""Grading a synthetic class end to end with real nbgrader, real kernels and
the real SQLite gradebook, through the `course grade` command.

One class is graded once, in one `course grade` run with the sandbox on
(module fixture), and examined by many tests: the reference, the untouched
release notebook, a "pass" submission (the regression test for design.md
trap 1), one student per mutant, the awkward cases (invalid JSON, an empty
file, an edited test cell, a deleted test cell, all nbgrader metadata
stripped, an answer whose ``__eq__`` is always true, a symbolic link, a
missing notebook) and the hostile ones of :mod:`tests.corpus` (hangs,
crashes, memory and fork bombs, attacks on the gradebook, source/, other
students, the network, the disk and the grader's memory).
"""

from __future__ import annotations

import csv
import html
import re
import time
from pathlib import Path

import nbformat
import pytest

from course import notebooks as nbs
from course.authoring.synth import load_mutants, student_notebook, write_submission
from course.grading.run import check_gradebook, tampering

from .conftest import copy_course, run_course
from .corpus import ATTACKS, write_attacks

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

    stripped = nbformat.from_dict(student_notebook(course, lesson, "reference"))
    for cell in stripped.cells:
        cell.metadata.pop("nbgrader", None)
    write_submission(course, "no-metadata", lesson, stripped)

    greeter = "%%writefile greeter.py\nclass Anything:\n    def __eq__(self, other):\n        return True\n\n\nGREETING = Anything()\n\n\ndef greet(name):\n    return Anything()"
    always = student_notebook(course, lesson, "reference", {"ex1_3_greeter": greeter})
    write_submission(course, "eq-always-true", lesson, always)

    folder = course.submitted / "empty-file" / lesson
    folder.mkdir(parents=True)
    (folder / f"{lesson}.ipynb").write_bytes(b"")

    linked = write_submission(
        course, "symlink", lesson, student_notebook(course, lesson, "reference")
    )
    (linked.parent / "answers.ipynb").symlink_to(course.source_notebook(lesson))

    (course.submitted / "missing" / lesson).mkdir(parents=True)
    write_attacks(course, lesson)
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
    time.sleep(6)  # the detached grandchild would strike 4 s after it started
    left = _leftovers(course.root)
    with open(course.reports / "outcomes.csv", encoding="utf-8") as f:
        outcomes = {(r["student"], r["lesson"]): r for r in csv.DictReader(f)}
    return {"course": course, "result": result, "outcomes": outcomes, "left": left, **made}


def _leftovers(root: Path) -> list[str]:
    """Command lines of processes still running that student code started:
    any that names the course root (the detached grandchild), and any run
    as a sandbox uid for a grading run whose sandbox folder is gone (other
    runs may be going on at the same time on a shared machine)."""
    from course.grading.sandbox import UID_BASE

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        line = " ".join(argv)
        runs = re.findall(r"(/\S*/course-sandbox-[^/\s]+)/", line)
        if str(root) in line or (uid >= UID_BASE and any(not Path(r).exists() for r in runs)):
            found.append(f"{entry.name} (uid {uid}): {line[:200]}")
    return found


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


def _outputs(course, student: str, lesson: str) -> str:
    path = course.autograded / student / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        return ""
    text = []
    for cell in nbs.read(path).cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", "") if out.get("output_type") == "stream" else "")
    return "\n".join(text)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.student)
def test_each_hostile_submission_gets_its_outcome(graded, attack):
    """Does each pathological submission end with the expected outcome, reason and printed markers?"""
    row = graded["outcomes"][(attack.student, graded["lesson"])]
    if attack.status:
        assert row["status"] == attack.status, row
    for words in attack.reason:
        assert words in row["reason"], row
    if attack.full_marks:
        assert row["score"] == row["max_score"], row
    shown = _outputs(graded["course"], attack.student, graded["lesson"])
    for marker in attack.printed:
        assert marker in shown, f"{attack.student}: {marker!r} not printed"
    assert "-ESCAPED" not in shown, f"{attack.student} got out of the sandbox"


def test_nothing_escaped_onto_the_disk(graded):
    """Are the gradebook, source/, other students' work and the course root untouched by the attacks?"""
    course = graded["course"]
    assert not (course.root / "escaped.txt").exists()
    assert not (course.root / "grandchild-was-here").exists()
    assert course.source_notebook(graded["lesson"]).is_file()
    for student in ("reference", "blank", "pass"):
        assert (course.autograded / student / graded["lesson"]).is_dir(), student
    assert not list(course.submitted.glob("*/*/filler*.bin"))


def test_no_student_process_outlives_grading(graded):
    """Is every process started by student code gone once grading ends (detached grandchild, fork bomb)?"""
    assert graded["left"] == []


def test_outputs_are_capped_in_bytes(graded):
    """Is a 100 MB single-line print cut to about 1 MB in the autograded notebook?"""
    course, lesson = graded["course"], graded["lesson"]
    path = course.autograded / "huge-line" / lesson / f"{lesson}.ipynb"
    assert path.stat().st_size < 3_000_000


def test_an_answer_equal_to_everything_does_not_pass(graded):
    """Does an answer object whose __eq__ always returns True lose the points of its exercise?"""
    scores = _scores(graded["course"], "eq-always-true", graded["lesson"])
    assert scores["ex1_3_greeter_test"][0] == 0
    assert scores["ex1_1_geometry_test"][0] == scores["ex1_1_geometry_test"][1]


def test_stripped_metadata_needs_manual_grading(graded):
    """Is a notebook with all nbgrader metadata stripped sent to manual grading, saying why?"""
    row = graded["outcomes"][("no-metadata", graded["lesson"])]
    assert row["status"] == "needs manual grading", row
    assert "nbgrader metadata of answer cell(s) ex1_1_geometry" in row["reason"], row


def test_an_empty_file_needs_manual_grading(graded):
    """Is a zero-byte notebook recorded as needing manual grading, with the reason?"""
    row = graded["outcomes"][("empty-file", graded["lesson"])]
    assert row["status"] == "needs manual grading"
    assert "not valid JSON" in row["reason"]


def test_a_symbolic_link_is_refused_unrun(graded):
    """Is a submission holding a symbolic link (to source/) refused without running it or copying its target?"""
    course, lesson = graded["course"], graded["lesson"]
    row = graded["outcomes"][("symlink", lesson)]
    assert row["status"] == "needs manual grading"
    assert "symbolic link" in row["reason"]
    assert not (course.autograded / "symlink" / lesson / "answers.ipynb").exists()


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
    pages = sorted(course.grading.feedback.glob("*/*/*.html"))
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
        for page in course.grading.feedback.glob(f"*/{lesson}/*.html"):
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
    pages = [_text(p) for p in course.grading.feedback.glob("demo-*/*/*.html")]
    assert any("A hidden check failed." in t for t in pages)


def test_grades_csv_and_table_cover_everyone(graded):
    """Do grades.csv (nbgrader's format) and the printed table list every graded student?"""
    course = graded["course"]
    with open(course.root / "grades.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {"assignment", "student_id", "score", "max_score"} <= set(rows[0])
    students = {r["student_id"] for r in rows}
    assert {"reference", "blank", "pass", "loop", "edited-test", "deleted-test"} <= students
    table = graded["result"].stdout
    for student, _lesson in graded["outcomes"]:
        assert student in table


def test_progress_is_shown_for_each_submission(graded):
    """Is there one progress line per submission while grading runs?"""
    lines = [ln for ln in graded["result"].stderr.splitlines() if re.match(r"\[\s*\d+/\d+\]", ln)]
    assert len(lines) == len(graded["outcomes"])


def test_gradebook_is_intact(graded):
    """Does the gradebook pass SQLite's integrity check after the run?"""
    assert check_gradebook(graded["course"]) == "ok"


def test_one_worker_gives_the_same_grades_as_two(graded, course_copy):
    """Does `course demo` with `--jobs 1` score lesson 01's demo class exactly as the two-worker class run did?

    The class fixture graded the same notebooks (reference, blank, every
    mutant) with two workers; the demo names its reference and blank
    students ``demo-reference`` and ``demo-blank``.
    """
    lesson = course_copy.lessons()[0]
    result = run_course("--root", str(course_copy.root), "demo", lesson, "--jobs", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo submissions scored as designed" in result.stdout
    names = {"demo-reference": "reference", "demo-blank": "blank"}
    students = [*names, *(m.student for m in load_mutants(course_copy, lesson))]
    for student in students:
        one = _scores(course_copy, student, lesson)
        two = _scores(graded["course"], names.get(student, student), lesson)
        assert one == two, student
    assert check_gradebook(course_copy) == "ok"


def test_the_report_covers_every_lesson_and_the_triage_list(graded):
    """Does grading write the instructor's report (a page per lesson with charts and the triage list) and print the summary?"""
    course = graded["course"]
    index = (course.reports / "index.html").read_text(encoding="utf-8")
    for lesson in course.lessons():
        page = (course.reports / f"{lesson}.html").read_text(encoding="utf-8")
        assert f"{lesson}.html" in index
        assert page.count("data:image/png;base64,") == 2, lesson
    page = (course.reports / f"{graded['lesson']}.html").read_text(encoding="utf-8")
    for student in ("loop-ignoring-sigint", "os-exit", "invalid-json", "missing", "symlink"):
        assert student in page, f"{student} missing from the triage list"
    assert "report: " in graded["result"].stdout
