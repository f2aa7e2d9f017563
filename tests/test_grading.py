"""Grading a whole synthetic class end to end with `course grade`: real
nbgrader gradebook (SQLite), the real sandbox, real interpreters.

One class is graded once, in one `course grade` run (module fixture), and
examined by many tests: for every lesson the reference, the untouched
release notebook, a "pass" submission (design.md trap 1) and one student per
mutant; for the first lesson also the awkward cases, the cheats and the
hostile submissions of :mod:`tests.corpus`, folders that are not valid
student ids, a misspelt lesson folder and active content in cells and
outputs.
"""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import nbformat
import pytest

from course import notebooks as nbs
from course.authoring.synth import (
    load_mutants,
    student_notebook,
    synthetic_class,
    write_submission,
)
from course.grading.export import neutralise
from course.grading.gradebook import integrity
from course.grading.spec import lesson_spec
from course.pythons import host

from .corpus import CHEATS, HOSTILE_IDS, ROBUSTNESS
from .support import active_content, copy_course, run_course

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.nbgrader]

TIMEOUT = 10  # seconds per check for this class: a hanging check costs this much


def _tests(course, lesson: str) -> list[str]:
    return [c.grade_id for c in lesson_spec(course, lesson).checks]


def _first_checks(course, lesson: str) -> set[str]:
    """The graded checks of the exercise of the lesson's first answer."""
    spec = lesson_spec(course, lesson)
    first = spec.answers[0].grade_id
    exercise = spec.exercise_of(first)
    assert exercise is not None and exercise.checks
    return set(exercise.checks)


ACTIVE_MARKDOWN = (
    "<script>document.title='pwned'</script>\n"
    '<img src=x onerror="alert(1)">\n[click](javascript:alert(1))'
)


def _active_content(nb) -> None:
    """Add a markdown cell with script and an HTML/JavaScript output to ``nb``."""
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(ACTIVE_MARKDOWN))
    code = nbformat.v4.new_code_cell("from IPython.display import HTML; HTML('...')")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": "<script>fetch('/api/contents')</script><b onmouseover=alert(1)>x</b>",
                "application/javascript": "alert('pwned')",
                "text/plain": "<IPython.core.display.HTML object>",
            },
        ),
        nbformat.v4.new_output("stream", name="stdout", text="All checks passed: 9/9\n"),
    ]
    nb.cells.insert(2, code)


def _make_class(course) -> dict:
    """Write the class into submitted/; return what each student expects."""
    expect: dict[str, dict] = {}
    version = host().version
    for student, work in synthetic_class(course, course.lessons(), with_pass=True).items():
        for lesson, nb in work.items():
            write_submission(course, student, lesson, nb)
    for lesson in course.lessons():
        tests = set(_tests(course, lesson))
        for kind, full in (("reference", tests), ("blank", set()), ("pass", set())):
            expect.setdefault(kind, {})[lesson] = {"full": full, "zero": tests - full}
        for mutant in load_mutants(course, lesson):
            wrong = set(mutant.fails) if mutant.is_wrong_on(version) else set()
            expect[mutant.student] = {lesson: {"full": tests - wrong, "below": wrong}}

    lesson = course.lessons()[0]
    spec = lesson_spec(course, lesson)
    tests = set(_tests(course, lesson))
    first = _first_checks(course, lesson)
    answers = [a.grade_id for a in spec.answers]

    for cheat in CHEATS:
        replace = {a.grade_id: f"%%writefile {a.path}\n{cheat.code}" for a in spec.answers}
        nb = student_notebook(course, lesson, "blank", replace)
        write_submission(course, cheat.student, lesson, nb)
        expect[cheat.student] = {lesson: {"full": set(), "zero": tests}}

    first_answer = spec.answers[0]
    for attack in ROBUSTNESS:
        reference = nbs.solution_as_student_writes_it(
            next(
                c
                for c in nbs.read(course.source_notebook(lesson)).cells
                if nbs.grade_id(c) == first_answer.grade_id
            )
        )
        head, body = reference.split("\n", 1)
        code = attack.code.replace("ROOT", str(course.root))
        nb = student_notebook(
            course, lesson, "reference", {first_answer.grade_id: f"{head}\n{code}\n{body}"}
        )
        write_submission(course, attack.student, lesson, nb)
        full = tests if attack.first_checks == "full" else tests - first
        expect[attack.student] = {lesson: {"full": full, "zero": tests - full}}

    awkward = {}
    folder = course.submitted / "invalid-json" / lesson
    folder.mkdir(parents=True)
    (folder / f"{lesson}.ipynb").write_text('{"cells": [', encoding="utf-8")
    folder = course.submitted / "empty-file" / lesson
    folder.mkdir(parents=True)
    (folder / f"{lesson}.ipynb").write_bytes(b"")

    edited = nbformat.from_dict(student_notebook(course, lesson, "blank"))
    test_index = next(i for i, c in enumerate(edited.cells) if nbs.is_graded_test(c))
    edited.cells[test_index].source = '"""Check nothing."""\nassert True, "nothing"'
    write_submission(course, "edited-test", lesson, edited)
    expect["edited-test"] = {lesson: {"full": set(), "zero": tests}}

    deleted = nbformat.from_dict(student_notebook(course, lesson, "reference"))
    awkward["deleted_id"] = nbs.grade_id(deleted.cells.pop(test_index))
    write_submission(course, "deleted-test", lesson, deleted)
    expect["deleted-test"] = {lesson: {"full": tests, "zero": set()}}

    stripped = nbformat.from_dict(student_notebook(course, lesson, "reference"))
    for cell in stripped.cells:
        cell.metadata.pop("nbgrader", None)
    write_submission(course, "no-metadata", lesson, stripped)

    duplicated = nbformat.from_dict(student_notebook(course, lesson, "reference"))
    answer_index = next(i for i, c in enumerate(duplicated.cells) if nbs.grade_id(c) == answers[0])
    copied = nbformat.from_dict(duplicated.cells[answer_index])
    copied.id = "copied-answer"
    duplicated.cells.insert(answer_index, copied)
    write_submission(course, "duplicated-answer", lesson, duplicated)

    renamed = nbformat.from_dict(student_notebook(course, lesson, "reference"))
    cell = next(c for c in renamed.cells if nbs.grade_id(c) == answers[0])
    cell.source = cell.source.replace(
        f"%%writefile {first_answer.path}", "%%writefile renamed_by_student.py", 1
    )
    write_submission(course, "renamed-file", lesson, renamed)
    expect["renamed-file"] = {lesson: {"full": tests, "zero": set()}}

    huge = nbformat.from_dict(student_notebook(course, lesson, "reference"))
    huge.cells += [nbformat.v4.new_code_cell(f"x = {i}") for i in range(20_000)]
    write_submission(course, "twenty-thousand-cells", lesson, huge)
    expect["twenty-thousand-cells"] = {lesson: {"full": tests, "zero": set()}}

    active = nbformat.from_dict(student_notebook(course, lesson, "blank"))
    _active_content(active)
    write_submission(course, "active-content", lesson, active)
    expect["active-content"] = {lesson: {"full": set(), "zero": tests}}

    linked = write_submission(
        course, "symlink", lesson, student_notebook(course, lesson, "reference")
    )
    (linked.parent / "answers.ipynb").symlink_to(course.source_notebook(lesson))

    (course.submitted / "missing" / lesson).mkdir(parents=True)

    write_submission(
        course, "dave", "02_what_imports_does", student_notebook(course, lesson, "reference")
    )
    for name in HOSTILE_IDS:
        folder = course.submitted / name / lesson
        folder.mkdir(parents=True)
        nbs.write(student_notebook(course, lesson, "reference"), folder / f"{lesson}.ipynb")
    (course.submitted / "stray-file.txt").write_text("not a folder", encoding="utf-8")
    return {"expect": expect, "lesson": lesson, "first": first, **awkward}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("class"))
    made = _make_class(course)
    started = time.monotonic()
    result = run_course(
        "--root", str(course.root), "grade", "--timeout", str(TIMEOUT), timeout=3600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seconds = time.monotonic() - started
    time.sleep(max(0.0, 6 - seconds))  # the detached grandchild would strike 4 s after it started
    left = _leftovers(course.root)
    with open(course.reports / "outcomes.csv", encoding="utf-8", newline="") as f:
        outcomes = {(r["student"], r["lesson"]): r for r in csv.DictReader(f)}
    return {"course": course, "result": result, "outcomes": outcomes, "left": left, **made}


def _leftovers(root: Path) -> list[str]:
    """Command lines of processes still running that student code started:
    any that names the course root (the detached grandchild), and any run
    as a sandbox uid of a grading run whose sandbox folder is gone."""
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


def test_every_student_scores_as_expected(graded):
    """Does the reference get full marks, blank and pass 0, each mutant lose exactly its cells, every cheat 0 and every contained attack full marks?"""
    course = graded["course"]
    problems = []
    for student, lessons in graded["expect"].items():
        for lesson, want in lessons.items():
            row = graded["outcomes"][(student, lesson)]
            if row["status"] != "graded":
                problems.append(f"{student} {lesson}: {row['status']}: {row['reason']}")
                continue
            scores = _scores(course, student, lesson)
            for cell in want.get("full", ()):
                if scores[cell][0] != scores[cell][1]:
                    problems.append(
                        f"{student} {lesson}: {cell} should be full marks: {row['reason']}"
                    )
            for cell in want.get("zero", ()):
                if scores[cell][0] != 0:
                    problems.append(f"{student} {lesson}: {cell} should be 0")
            for cell in want.get("below", ()):
                if not scores[cell][0] < scores[cell][1]:
                    problems.append(f"{student} {lesson}: {cell} should lose points")
    assert problems == [], "\n".join(problems)


def test_every_graded_cell_has_at_least_two_mutants(graded):
    """Is every graded test cell proven by at least two mutants?"""
    course = graded["course"]
    for lesson in course.lessons():
        mutants = load_mutants(course, lesson)
        for test in _tests(course, lesson):
            assert sum(test in m.fails for m in mutants) >= 2, (
                f"{lesson}: {test} has fewer than 2 mutants"
            )


@pytest.mark.parametrize("cheat", CHEATS, ids=lambda c: c.student)
def test_a_cheat_without_a_solution_scores_nothing(graded, cheat):
    """Does each cheat score 0, and is the cheat flagged for review when its code reaches for the kernel or the grader?"""
    row = graded["outcomes"][(cheat.student, graded["lesson"])]
    assert row["status"] == "graded" and float(row["score"]) == 0, row
    if cheat.flagged:
        assert "review " in row["reason"], row


@pytest.mark.parametrize("attack", ROBUSTNESS, ids=lambda a: a.student)
def test_each_hostile_submission_is_contained(graded, attack):
    """Does each attack get its outcome and reason, and cost at most the checks that imported it?"""
    row = graded["outcomes"][(attack.student, graded["lesson"])]
    assert row["status"] == attack.status, row
    for words in attack.reason:
        assert words in row["reason"], row


def test_invalid_json_and_empty_files_need_manual_grading(graded):
    """Is a notebook that is not JSON (or empty) recorded as needing manual grading, with the reason and no score?"""
    for student in ("invalid-json", "empty-file"):
        row = graded["outcomes"][(student, graded["lesson"])]
        assert row["status"] == "needs manual grading", row
        assert "not valid JSON" in row["reason"], row
        assert row["score"] == "", row


def test_edited_and_deleted_locked_cells_are_noted_and_ignored(graded):
    """Is a test cell rewritten to `assert True` (or deleted) noted, while grading uses the course's own checks?"""
    row = graded["outcomes"][("edited-test", graded["lesson"])]
    assert "edited locked cell" in row["reason"] and float(row["score"]) == 0, row
    row = graded["outcomes"][("deleted-test", graded["lesson"])]
    assert "deleted locked cell" in row["reason"], row
    assert row["score"] == row["max_score"], row


def test_stripped_or_duplicated_answer_cells_need_manual_grading(graded):
    """Is a notebook whose answer cells cannot be told apart sent to manual grading, saying why?"""
    row = graded["outcomes"][("no-metadata", graded["lesson"])]
    assert row["status"] == "needs manual grading" and "nbgrader metadata" in row["reason"], row
    row = graded["outcomes"][("duplicated-answer", graded["lesson"])]
    assert row["status"] == "needs manual grading" and "more than once" in row["reason"], row


def test_a_renamed_writefile_target_is_noted_and_graded_under_the_right_name(graded):
    """Does an answer whose %%writefile line names another file still get graded as the file the exercise asks for, with a note?"""
    row = graded["outcomes"][("renamed-file", graded["lesson"])]
    assert "renamed_by_student.py" in row["reason"] and row["score"] == row["max_score"], row


def test_a_symbolic_link_is_refused_unread(graded):
    """Is a submission holding a symbolic link (to source/) refused without reading anything?"""
    row = graded["outcomes"][("symlink", graded["lesson"])]
    assert row["status"] == "needs manual grading" and "symbolic link" in row["reason"], row


def test_a_missing_notebook_scores_zero(graded):
    """Is a submission folder without its notebook recorded as missing, scored 0?"""
    row = graded["outcomes"][("missing", graded["lesson"])]
    assert row["status"] == "missing" and float(row["score"]) == 0, row


def test_folders_that_are_not_submissions_are_reported_not_skipped(graded):
    """Are invalid student ids, a misspelt lesson folder and a stray file listed with a reason (did you mean ...?)?"""
    rows = [r for r in graded["outcomes"].values() if r["status"] == "not graded"]
    named = {r["student"] for r in rows}
    assert {neutralise(name) for name in HOSTILE_IDS} <= named, named
    dave = next(r for r in rows if r["student"] == "dave")
    assert dave["lesson"] == "02_what_imports_does"
    assert "did you mean 02_what_import_does?" in dave["reason"]
    assert "stray-file.txt" in named


def test_grades_csv_reads_back_with_the_csv_module_and_neutralises_formulas(graded):
    """Do grades.csv and the triage list parse with one field per column, no cell that a spreadsheet would run, and a status telling manual and missing apart from a real 0?"""
    course = graded["course"]
    for path in (course.root / "grades.csv", course.reports / "outcomes.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        width = len(rows[0])
        assert all(len(r) == width for r in rows), path
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path, cell)
    with open(course.root / "grades.csv", encoding="utf-8", newline="") as f:
        grades = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    lesson = graded["lesson"]
    assert grades[("invalid-json", lesson)]["status"] == "needs manual grading"
    assert grades[("invalid-json", lesson)]["score"] == ""
    assert grades[("missing", lesson)]["status"] == "missing"
    assert (
        grades[("blank", lesson)]["status"] == "graded"
        and float(grades[("blank", lesson)]["score"]) == 0
    )
    second = course.lessons()[1]
    assert (("cheat-sys-exit", second)) in grades and grades[("cheat-sys-exit", second)][
        "status"
    ] == "missing"


def test_the_terminal_gets_no_control_characters(graded):
    """Are escape sequences, bells and carriage returns in folder names shown escaped, never sent to the terminal?"""
    out = graded["result"].stdout + graded["result"].stderr
    assert "\x1b[31m" not in out and "\x07" not in out and "carriage\rreturn" not in out
    assert "\\x1b[31m" in out and "\\r" in out


def _pages(course) -> list[Path]:
    return sorted(course.feedback.glob("*/*/*.html")) + sorted(course.reports.glob("*.html"))


def test_no_page_carries_active_content(graded):
    """Do feedback pages and reports carry no script, event handler or javascript: URL, and forbid scripts by their Content-Security-Policy?"""
    pages = _pages(graded["course"])
    assert len(pages) > 100
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert active_content(text) == [], page
        assert "default-src 'none'" in text, page
    page = (
        graded["course"].feedback
        / "cheat-script-in-answer"
        / graded["lesson"]
        / f"{graded['lesson']}.html"
    )
    assert "&lt;script&gt;" in page.read_text(encoding="utf-8"), (
        "the student's code should be shown as text"
    )


def test_autograded_notebooks_hold_no_student_output_or_active_content(graded):
    """Does the formgrader's autograded notebook hold no output of any student cell, no student-added cell and no HTML or JavaScript output?"""
    course, lesson = graded["course"], graded["lesson"]
    path = course.autograded / "active-content" / lesson / f"{lesson}.ipynb"
    nb = nbs.read(path)
    assert ACTIVE_MARKDOWN not in json.dumps(nb)
    release = nbs.read(course.release_notebook(lesson))
    assert len(nb.cells) == len(release.cells)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] in ("stream", "error"), output
            assert "All checks passed" not in json.dumps(output)


def _text(path: Path) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_feedback_shows_each_check_but_no_hidden_test_code(graded):
    """Does every feedback page show each check's score and none of the hidden test code?

    A hidden line counts as leaked when the page shows it although it stands
    nowhere in the lesson's public text or in the student's own answers.
    """
    course = graded["course"]
    checked = 0
    for lesson in course.lessons():
        source = nbs.read(course.source_notebook(lesson))
        public = "\n".join("\n".join(nbs.lines_outside_markers(c)) for c in source.cells)
        secret = {ln.strip() for c in source.cells for ln in nbs.hidden_test_lines(c)} - {""}
        secret = {ln for ln in secret if ln not in public and len(ln) >= 12}
        assert secret, f"{lesson}: every hidden line also stands in public text?"
        for page in course.feedback.glob(f"*/{lesson}/*.html"):
            student = page.parent.parent.name
            handed_in = course.submitted / student / lesson / f"{lesson}.ipynb"
            try:
                own = "\n".join(nbs.cell_text(c) for c in nbs.read(handed_in).cells)
            except Exception:  # missing or broken: nothing of it is the student's to show
                own = ""
            text = _text(page)
            assert "HIDDEN TESTS" not in text
            for line in secret:
                if line not in own:
                    assert line not in text, f"{page}: hidden test code shown: {line}"
                    checked += 1
            assert len(re.findall(r"(?:\d+(?:\.\d+)?|-) / \d+(?:\.\d+)?", text)) >= len(
                _tests(course, lesson)
            )
    assert checked > 1000


def test_failed_checks_explain_themselves_and_unanswered_exercises_say_so(graded):
    """Does a failed hidden check say so with its message, and does the blank notebook's feedback say which exercises are not answered yet?"""
    course, lesson = graded["course"], graded["lesson"]
    pages = [_text(p) for p in course.feedback.glob("demo-*/*/*.html")] + [
        _text(p) for p in course.feedback.glob("*/*/*.html")
    ]
    assert any("A hidden check failed." in t for t in pages)
    blank = _text(course.feedback / "blank" / lesson / f"{lesson}.html")
    assert "Not answered yet: Exercise" in blank


def test_progress_and_table_cover_everyone(graded):
    """Is there one progress line per submission, and is every student in the printed table?"""
    course = graded["course"]
    graded_rows = [k for k, r in graded["outcomes"].items() if r["status"] != "not graded"]
    lines = [ln for ln in graded["result"].stderr.splitlines() if re.match(r"\[\s*\d+/\d+\]", ln)]
    on_disk = sum(1 for k in graded_rows if (course.submitted / k[0] / k[1]).is_dir())
    assert len(lines) == on_disk
    for student, _lesson in graded_rows:
        assert student in graded["result"].stdout


def test_nothing_escaped_onto_the_disk(graded):
    """Are the gradebook, source/, other students' work and the course root untouched by the attacks?"""
    course = graded["course"]
    assert not (course.root / "escaped.txt").exists()
    assert not (course.root / "grandchild-was-here").exists()
    assert course.source_notebook(graded["lesson"]).is_file()
    assert integrity(course) == "ok"


def test_no_student_process_outlives_grading(graded):
    """Is every process started by student code gone once grading ends (detached grandchild, fork bomb)?"""
    assert graded["left"] == []


def test_the_report_covers_the_class_and_grading_one_student_keeps_the_rest(graded, tmp_path):
    """Does the report cover every lesson with its triage list, and does grading one student of one lesson again keep everyone else in the report and the CSVs?"""
    course = graded["course"]
    index = (course.reports / "index.html").read_text(encoding="utf-8")
    for lesson in course.lessons():
        page = (course.reports / f"{lesson}.html").read_text(encoding="utf-8")
        assert f"{lesson}.html" in index
        assert page.count("data:image/png;base64,") == 2, lesson
    before = (course.reports / "outcomes.csv").read_text(encoding="utf-8")
    lesson = course.lessons()[1]
    result = run_course("--root", str(course.root), "grade", lesson, "--student", "reference")
    assert result.returncode == 0, result.stderr[-2000:]
    after = (course.reports / "outcomes.csv").read_text(encoding="utf-8")
    assert len(after.splitlines()) == len(before.splitlines())


def test_one_worker_gives_the_same_grades_as_two(graded, course_copy):
    """Does `course demo` with `--jobs 1` score the first lesson's demo class exactly as the two-worker class run did?"""
    lesson = course_copy.lessons()[0]
    result = run_course("--root", str(course_copy.root), "demo", lesson, "--jobs", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo submissions scored as designed" in result.stdout
    names = {"demo-reference": "reference", "demo-blank": "blank"}
    for student in [*names, *(m.student for m in load_mutants(course_copy, lesson))]:
        one = _scores(course_copy, student, lesson)
        two = _scores(graded["course"], names.get(student, student), lesson)
        assert one == two, student
    assert integrity(course_copy) == "ok"
