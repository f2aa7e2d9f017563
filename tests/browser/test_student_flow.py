"""The student's path in JupyterLab (student set-up, their own workspace) on
the first lesson: type answers with the keyboard, run them, press Validate,
edit and run again without a restart, use ``check()``, and keep the work
through a rebuild of the course.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from course import notebooks
from course.authoring.synth import load_mutants
from course.coursedir import Course
from course.grading.answers import Answer
from course.grading.execute import run_check
from course.grading.sandbox import Unsandboxed
from course.grading.spec import Check, lesson_spec

from ..support import run_course
from .jupyterlab import Notebook, menu, notebook_problems, open_notebook, read_saved
from .server import LabServer
from .support import snap

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.kernel]


def _lesson(server: LabServer) -> str:
    return Course(server.root).lessons()[0]


def _workspace_notebook(server: LabServer):
    lesson = _lesson(server)
    return server.root / "workspace" / lesson / f"{lesson}.ipynb"


@pytest.fixture(scope="module")
def notebook(student_page: Page, student_server: LabServer) -> Notebook:
    lesson = _lesson(student_server)
    return open_notebook(
        student_page, f"{lesson}/{lesson}.ipynb", student_server.root / "workspace"
    )


def answers(course: Course, lesson: str) -> dict[str, str]:
    """The reference answer of each solution cell, as a student types it."""
    source = notebooks.read(course.source_notebook(lesson))
    return {
        notebooks.grade_id(c): notebooks.solution_as_student_writes_it(c)
        for c in source.cells
        if notebooks.is_solution(c)
    }


def _index(course: Course, lesson: str, grade_id: str) -> int:
    release = notebooks.read(course.release_notebook(lesson))
    return next(i for i, c in enumerate(release.cells) if notebooks.grade_id(c) == grade_id)


def type_answers(nb: Notebook, typed: dict[str, str], course: Course, lesson: str) -> None:
    """Replace each solution cell's text by ``typed[grade_id]``, through the
    keyboard: click into the cell's editor, select all, type."""
    for grade_id, text in typed.items():
        editor = nb.cell(_index(course, lesson, grade_id)).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        nb.page.keyboard.press("Control+a")
        nb.page.keyboard.insert_text(text)
        nb.page.keyboard.press("Escape")  # back to command mode


def run_cell(nb: Notebook, index: int) -> Locator:
    """Select the cell at ``index``, run it (Shift+Enter), wait for the
    kernel to be idle again; its output area."""
    cell = nb.cell(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").click()
    nb.page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=120_000)
    nb.wait_idle()
    return cell.locator(".jp-OutputArea")


def restart_and_run_all(nb: Notebook) -> None:
    """Clear outputs, then Kernel > Restart Kernel and Run All Cells…, confirmed."""
    nb.wait_idle()
    menu(nb.page, "Edit", "Clear Outputs of All Cells")
    menu(nb.page, "Kernel", "Restart Kernel and Run All Cells…")
    nb.page.locator(".jp-Dialog .jp-mod-accept").click()
    nb.wait_run_finished()


def validate(nb: Notebook) -> Locator:
    """Press Validate; the dialog's message, once shown."""
    nb.activate()
    nb.panel.locator(".validate-button").click()
    message = nb.page.locator(".jp-Dialog #validation-message")
    expect(message).to_be_visible(timeout=180_000)
    return message


def close_dialog(page: Page) -> None:
    page.locator(".jp-Dialog .jp-mod-accept").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def saved_sources(server: LabServer) -> dict[str, str]:
    nb = read_saved(_workspace_notebook(server))
    return {notebooks.grade_id(c): c.source for c in nb.cells if notebooks.is_solution(c)}


def _cells(path) -> list[tuple[str, str, str, dict]]:
    """A notebook's cells as (id, type, source, nbgrader metadata): what a student's copy must keep.

    Not the bytes: JupyterLab may save a notebook it opened (an earlier test
    opens one and starts its kernel), which rewrites its metadata and layout.
    """
    nb = read_saved(path)
    return [
        (c.get("id", ""), c.cell_type, c.source, dict(c.metadata.get("nbgrader", {})))
        for c in nb.cells
    ]


def test_the_student_works_in_their_own_copies(student_server):
    """Does the student lab serve a workspace holding a copy of every lesson, not release/?"""
    course = Course(student_server.root)
    for lesson in course.lessons():
        mine = student_server.root / "workspace" / lesson / f"{lesson}.ipynb"
        assert mine.resolve() != course.release_notebook(lesson).resolve(), (
            f"{lesson}: the workspace copy is release/ itself"
        )
        assert _cells(mine) == _cells(course.release_notebook(lesson)), (
            f"{lesson}: the workspace copy differs from release/"
        )


def test_reference_answers_typed_in_pass_validate(notebook, student_server, request):
    """Do the reference answers, typed into the exercise cells and run, make Validate report success?"""
    course = Course(student_server.root)
    lesson = _lesson(student_server)
    typed = answers(course, lesson)
    type_answers(notebook, typed, course, lesson)
    restart_and_run_all(notebook)
    message = validate(notebook)
    snap(notebook.page, request)
    expect(message).to_have_class(re.compile(r"\bvalidation-success\b"))
    close_dialog(notebook.page)
    assert saved_sources(student_server) == typed
    assert notebook_problems(_workspace_notebook(student_server)) == []


def test_after_validate_an_edited_answer_runs_and_passes_without_a_restart(
    notebook, student_server, request
):
    """After Validate (a second kernel on the same notebook), does editing an answer, running it and its test cell work in the student's own kernel, with no restart?"""
    course = Course(student_server.root)
    lesson = _lesson(student_server)
    spec = lesson_spec(course, lesson)
    first = spec.answers[0].grade_id
    exercise = spec.exercise_of(first)
    assert exercise is not None
    edited = answers(course, lesson)[first] + "\n# edited after Validate\n"
    type_answers(notebook, {first: edited}, course, lesson)
    output = run_cell(notebook, _index(course, lesson, first))
    expect(output).not_to_contain_text("Error")
    for answer in exercise.answers[1:]:
        run_cell(notebook, _index(course, lesson, answer))
    for test in exercise.checks:
        output = run_cell(notebook, _index(course, lesson, test))
        expect(output).not_to_contain_text("Error")
        expect(
            output.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
        ).to_have_count(0)
    snap(notebook.page, request)


def _visible_failure(course: Course, lesson: str) -> tuple[str, str, str] | None:
    """A mutant that fails its exercise's *visible* test with an assert
    message: (answer grade id, answer text, the message). Found by running
    the visible test cells as the grader would."""
    spec = lesson_spec(course, lesson)
    release = {
        notebooks.grade_id(c): c for c in notebooks.read(course.release_notebook(lesson)).cells
    }
    reference = answers(course, lesson)
    with Unsandboxed() as box:
        for mutant in load_mutants(course, lesson):
            if len(mutant.replace) != 1:
                continue
            ((gid, text),) = mutant.replace.items()
            given = []
            for a in spec.answers:
                body = (text.strip("\n") if a.grade_id == gid else reference[a.grade_id]).split(
                    "\n", 1
                )[1]
                given.append(Answer(a.grade_id, a.path, body, a.append, True))
            for check in spec.checks:
                visible = notebooks.cell_text(release[check.grade_id])
                result = run_check(
                    box, 0, spec, given, Check(check.grade_id, visible, 1, "", "", None), 30
                )
                if result.error == "AssertionError" and "no message" not in result.message:
                    return gid, text.strip("\n"), result.message.split("). ", 1)[-1]
    return None


def test_check_reports_a_wrong_answer_with_expected_and_got(notebook, student_server, request):
    """Does check("N.M") on a wrong answer print that exercise's failing check with its expected/got message first?"""
    course = Course(student_server.root)
    lesson = _lesson(student_server)
    found = _visible_failure(course, lesson)
    assert found is not None, "no mutant fails a visible check with a message"
    gid, text, message = found
    spec = lesson_spec(course, lesson)
    exercise = spec.exercise_of(gid)
    assert exercise is not None
    type_answers(notebook, {gid: text}, course, lesson)
    run_cell(notebook, _index(course, lesson, gid))
    notebook.save()
    last = notebook.cell(_count_cells(student_server) - 1)
    last.scroll_into_view_if_needed()
    last.locator(".jp-InputPrompt, .jp-InputArea").first.click()
    notebook.page.keyboard.press("Escape")
    notebook.page.keyboard.press("b")  # a new cell below
    notebook.page.keyboard.press("Enter")
    number = exercise.key.split()[-1]
    notebook.page.keyboard.insert_text(f'check("{number}")')
    notebook.page.keyboard.press("Shift+Enter")
    notebook.wait_idle()
    output = (
        notebook.panel.locator(".jp-Cell")
        .nth(_count_cells(student_server))
        .locator(".jp-OutputArea")
    )
    expect(output).to_contain_text(f"✗ {exercise.key}", timeout=60_000)
    expect(output).to_contain_text(message.strip().splitlines()[0][:60])
    snap(notebook.page, request)
    # leave the notebook as the student had it: the reference answer back, the extra cell gone
    notebook.page.keyboard.press("Escape")
    notebook.page.keyboard.press("d")
    notebook.page.keyboard.press("d")
    type_answers(notebook, {gid: answers(course, lesson)[gid]}, course, lesson)
    notebook.save()


def _count_cells(server: LabServer) -> int:
    return len(read_saved(_workspace_notebook(server)).cells)


def test_rebuilding_the_course_and_the_demo_keep_the_students_answers(
    notebook, student_server, request
):
    """After `course build` and `course demo` (what `make demo` runs) in the course, are the student's saved answers still in their notebook?"""
    notebook.save()
    before = saved_sources(student_server)
    lesson = _lesson(student_server)
    assert before == answers(Course(student_server.root), lesson)
    for args in (["build"], ["demo", lesson, "--unsafe-no-sandbox", "--jobs", "1"]):
        result = run_course("--root", str(student_server.root), *args, timeout=900)
        assert result.returncode == 0, result.stderr[-2000:]
    assert saved_sources(student_server) == before
    snap(notebook.page, request)
