"""The student's flow in JupyterLab (student set-up) on lesson 01: type
answers into the exercise cells with the keyboard, restart and run all,
press Validate, read nbgrader's verdict.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from course import notebooks
from course.authoring.synth import load_mutants
from course.coursedir import Course

from ..conftest import REPO
from .conftest import snap
from .jupyterlab import Notebook, menu, notebook_problems, open_notebook
from .server import LabServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSON = Course(REPO).lessons()[0]
PATH = f"{LESSON}/{LESSON}.ipynb"  # relative to release/, the student's root


@pytest.fixture(scope="module")
def notebook(student_page: Page, student_server: LabServer) -> Notebook:
    return open_notebook(student_page, PATH, student_server.root / "release")


def answers(course: Course) -> dict[str, str]:
    """The reference answer of each solution cell, as a student types it."""
    source = notebooks.read(course.source_notebook(LESSON))
    return {
        notebooks.grade_id(c): notebooks.solution_as_student_writes_it(c)
        for c in source.cells
        if notebooks.is_solution(c)
    }


def type_answers(nb: Notebook, typed: dict[str, str], course: Course) -> None:
    """Replace each solution cell's text by ``typed[grade_id]``, through the
    keyboard: click into the cell's editor, select all, type."""
    release = notebooks.read(course.release_notebook(LESSON))
    for index, cell in enumerate(release.cells):
        grade_id = notebooks.grade_id(cell)
        if grade_id not in typed:
            continue
        editor = nb.cell(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        nb.page.keyboard.press("Control+a")
        nb.page.keyboard.insert_text(typed[grade_id])
        nb.page.keyboard.press("Escape")  # back to command mode


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


def saved_sources(course: Course) -> dict[str, str]:
    nb = notebooks.read(course.release_notebook(LESSON))
    return {notebooks.grade_id(c): c.source for c in nb.cells if notebooks.is_solution(c)}


def test_reference_answers_typed_in_pass_validate(notebook, student_server, request):
    """Do the reference answers, typed into the exercise cells and run, make
    Validate report success?"""
    course = Course(student_server.root)
    typed = answers(course)
    type_answers(notebook, typed, course)
    restart_and_run_all(notebook)
    message = validate(notebook)
    snap(notebook.page, request)
    expect(message).to_have_class(re.compile(r"\bvalidation-success\b"))
    expect(message).to_have_text("Success! Your notebook passes all the tests.")
    close_dialog(notebook.page)
    # Validate saved the notebook: what was typed is exactly what is stored,
    # and every cell ran in the browser without an error.
    assert saved_sources(course) == typed
    assert notebook_problems(course.release_notebook(LESSON)) == []


def test_a_wrong_answer_fails_validate(notebook, student_server, request):
    """With one plausible wrong answer (a mutant) among reference answers, does
    Validate report exactly that exercise's test cell as failed?"""
    course = Course(student_server.root)
    mutant = next(m for m in load_mutants(course, LESSON) if len(m.fails) == 1)
    typed = answers(course) | {k: v.strip("\n") for k, v in mutant.replace.items()}
    type_answers(notebook, typed, course)
    restart_and_run_all(notebook)
    message = validate(notebook)
    snap(notebook.page, request)
    expect(message).to_have_class(re.compile(r"\bvalidation-failed\b"))
    expect(message.locator("p", has_text="The following cell failed:")).to_have_count(1)
    source = notebooks.read(course.source_notebook(LESSON))
    test_cell = next(c for c in source.cells if notebooks.grade_id(c) == mutant.fails[0])
    expect(message).to_contain_text(test_cell.source.splitlines()[0])
    close_dialog(notebook.page)
    assert saved_sources(course) == typed
