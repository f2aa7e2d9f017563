"""What each `course lab` set-up shows: a student gets nbgrader's Validate
button and Assignment List only; an instructor also gets the formgrader,
Create Assignment and the course list. Neither gets a news pop-up.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from course.coursedir import Course

from .jupyterlab import kernel_status, menu, open_notebook
from .support import global_config_files, snap

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

STUDENT_ITEMS = ["Assignment List"]
INSTRUCTOR_ITEMS = [
    "Assignment List",
    "Course List",
    "Formgrader",
    "Create assignment",
]
CREATE_ASSIGNMENT_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="nbgrader-create_assignemnt"]'


def nbgrader_menu_items(page: Page) -> list[str]:
    """The labels of the visible entries of the Nbgrader menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
    items = page.locator("#jp-mainmenu-nbgrader .lm-Menu-item:visible .lm-Menu-itemLabel")
    expect(items.first).to_be_visible()
    labels = [label.strip() for label in items.all_inner_texts()]
    page.keyboard.press("Escape")
    expect(page.locator("#jp-mainmenu-nbgrader")).to_have_count(0)
    return labels


def no_news(page: Page) -> None:
    """No toast (news, update check or other) has popped up."""
    expect(page.locator(".Toastify__toast")).to_have_count(0)
    assert page.locator(".jp-Notification-Status").inner_text().strip() in ("", "0")


def test_student_sees_validate_and_assignment_list_only(student_page, student_server, request):
    """Does the student set-up offer the Assignment List but no formgrader,
    Create Assignment or course list, in the UI and on the server?"""
    page = student_page
    no_news(page)
    assert nbgrader_menu_items(page) == STUDENT_ITEMS
    menu(page, "Nbgrader", "Assignment List")
    assignments = page.locator("#nbgrader-assignment-list")
    expect(assignments).to_contain_text("Released assignments")
    expect(assignments).to_contain_text("There are no assignments to fetch")
    expect(assignments).not_to_contain_text("exchange directory does not exist")
    expect(page.locator(CREATE_ASSIGNMENT_TAB)).to_have_count(0)
    snap(page, request)
    assert student_server.get("formgrader") == 404
    assert student_server.get("formgraders") == 404


def test_student_notebook_has_validate_and_a_python_kernel(student_page, student_server, request):
    """Does a release notebook open with the Validate button and an idle
    Python 3 kernel?"""
    lesson = "02_what_import_does"  # not the one the student-flow tests edit
    nb = open_notebook(student_page, f"{lesson}/{lesson}.ipynb", student_server.root / "release")
    nb.wait_idle()
    validate = nb.panel.locator(".validate-button")
    expect(validate).to_be_visible()
    expect(kernel_status(student_page)).to_have_text("Python 3 (ipykernel) | Idle")
    snap(student_page, request)


def test_instructor_sees_every_nbgrader_panel(instructor_page, instructor_server, request):
    """Does the instructor set-up offer the formgrader, Create Assignment and
    the course list as well?"""
    page = instructor_page
    no_news(page)
    assert nbgrader_menu_items(page) == INSTRUCTOR_ITEMS
    expect(page.locator(CREATE_ASSIGNMENT_TAB)).to_have_count(1)
    menu(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator("#formgrader iframe, .nbgrader-mainarea-widget iframe").first
    expect(formgrader.locator("body")).to_contain_text("Manage Assignments", timeout=120_000)
    # It reads this course: its lessons (source/) are listed as assignments.
    first = Course(instructor_server.root).lessons()[0]
    expect(formgrader.locator("table").first).to_contain_text(first, timeout=120_000)
    expect(formgrader.locator("#warning-exchange")).to_have_count(0)  # release/collect work
    snap(page, request)
    assert instructor_server.get("formgrader") == 200
    assert instructor_server.get("formgraders") == 200


def test_global_jupyter_config_is_left_alone(
    student_page, instructor_page, global_config_before, lab_root
):
    """With both set-ups running, are the user's and the venv's Jupyter
    config untouched, and is each set-up's config in its own folder?"""
    assert global_config_files() == global_config_before
    for name in ("student", "instructor"):
        config = lab_root / ".lab" / name / "config"
        assert (config / "jupyter_server_config.json").is_file()
        assert (config / "labconfig" / "page_config.json").is_file()
