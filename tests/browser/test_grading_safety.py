"""What an instructor's browser does with a hostile submission: no script of
the student's runs in the feedback page or in the formgrader, and the
formgrader cannot autograde (it would run student code as the server's user,
outside the sandbox).

A submission of the first lesson by ``mallory`` carries a ``<script>`` in a
markdown cell, a ``display(HTML(...))`` output with a script and an event
handler, and answer code that tries to close the page's ``<pre>``; it is
graded for real by ``course grade`` (sandboxed) in the lab's course.
"""

from __future__ import annotations

import json
import urllib.request

import nbformat
import pytest
from playwright.sync_api import Browser, Page, expect

from course.authoring.synth import student_notebook, write_submission
from course.coursedir import Course
from course.grading.spec import lesson_spec

from ..support import run_course
from .server import LabServer
from .support import snap

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

STUDENT = "mallory"
PAYLOAD = "window.__pwned = (window.__pwned || 0) + 1; document.title = 'pwned';"


@pytest.fixture(scope="module")
def mallory(instructor_server: LabServer) -> tuple[Course, str]:
    """Mallory's hostile submission, graded by `course grade` in the lab's course."""
    course = Course(instructor_server.root)
    lesson = course.lessons()[0]
    spec = lesson_spec(course, lesson)
    first = spec.answers[0]
    nb = nbformat.from_dict(
        student_notebook(
            course,
            lesson,
            "blank",
            {
                first.grade_id: f"%%writefile {first.path}\n'''</code></pre><script>{PAYLOAD}</script><img src=x onerror=\"{PAYLOAD}\">'''"
            },
        )
    )
    nb.cells.insert(
        1,
        nbformat.v4.new_markdown_cell(
            f'<script>{PAYLOAD}</script>\n\n<img src=x onerror="{PAYLOAD}">'
        ),
    )
    shown = nbformat.v4.new_code_cell("from IPython.display import HTML, display")
    shown.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": f'<script>{PAYLOAD}</script><b onmouseover="{PAYLOAD}">hover</b>',
                "text/plain": "HTML",
            },
        ),
        nbformat.v4.new_output(
            "display_data", data={"application/javascript": PAYLOAD, "text/plain": "JS"}
        ),
    ]
    nb.cells.insert(2, shown)
    write_submission(course, STUDENT, lesson, nb)
    result = run_course("--root", str(course.root), "grade", lesson, "--student", STUDENT)
    assert result.returncode == 0, result.stderr[-2000:]
    return course, lesson


def _watch(page: Page) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def test_no_script_runs_in_the_feedback_page(browser: Browser, mallory, request):
    """Opened in Chromium, does mallory's feedback page run none of her scripts or handlers?"""
    course, lesson = mallory
    page_path = course.feedback / STUDENT / lesson / f"{lesson}.html"
    context = browser.new_context()
    page = context.new_page()
    dialogs = _watch(page)
    page.goto(page_path.as_uri())
    page.mouse.move(100, 100)
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__pwned") is None
    assert page.title() != "pwned"
    assert dialogs == []
    expect(page.locator("body")).to_contain_text("</code></pre><script>")  # shown as text
    snap(page, request)
    context.close()


def test_no_script_runs_in_the_formgrader(
    instructor_page: Page, instructor_server: LabServer, mallory, request
):
    """Does the formgrader's view of mallory's graded notebook run none of her scripts or handlers?"""
    from nbgrader.api import Gradebook

    course, lesson = mallory
    with Gradebook(course.db_url) as gb:
        submission = gb.find_submission_notebook(lesson, lesson, STUDENT).id
    page = instructor_page.context.new_page()
    dialogs = _watch(page)
    page.goto(instructor_server.url(f"formgrader/submissions/{submission}/"))
    expect(page.locator("body")).to_contain_text(lesson, timeout=60_000)
    page.mouse.move(200, 200)
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__pwned") is None
    assert page.title() != "pwned"
    assert dialogs == []
    snap(page, request)
    page.close()


def test_the_formgraders_autograde_button_is_switched_off(
    instructor_page: Page, instructor_server: LabServer, mallory, request
):
    """Does pressing Autograde in the formgrader show the note that it is switched off, and run nothing?"""
    course, lesson = mallory
    graded = course.autograded / STUDENT / lesson / f"{lesson}.ipynb"
    before = graded.read_bytes()
    page = instructor_page.context.new_page()
    page.goto(instructor_server.url(f"formgrader/manage_submissions/{lesson}"))
    row = page.locator("tr", has_text=STUDENT)
    expect(row).to_be_visible(timeout=60_000)
    row.locator(".autograde a").click()
    modal = page.locator("#error-modal")
    expect(modal).to_be_visible(timeout=60_000)
    expect(modal).to_contain_text("switched off")
    expect(modal).to_contain_text("course grade")
    snap(page, request)
    page.close()
    assert graded.read_bytes() == before
    request_ = urllib.request.Request(
        instructor_server.url(f"formgrader/api/submission/{lesson}/{STUDENT}/autograde"),
        method="POST",
        data=b"",
    )
    with urllib.request.urlopen(request_, timeout=30) as response:
        answer = json.loads(response.read())
    assert answer["success"] is False and "switched off" in answer["error"]
