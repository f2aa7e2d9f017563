"""Every instructor notebook runs in JupyterLab (instructor set-up) from top
to bottom without an error output, and its explorer widgets render as
widgets and respond to their controls.

Notebooks are run two at a time: while one is checked, the next one's
kernel starts and runs (the machine's second core is not idle).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page

from course import notebooks
from course.coursedir import Course

from ..support import REPO
from .jupyterlab import Notebook, check_explorers, notebook_problems, open_notebook
from .server import LabServer
from .support import snap

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSONS = Course(REPO).lessons()
#: Notebooks run at once (one checked, the others running ahead).
AT_ONCE = 2


def shows_explorers(path: Path) -> bool:
    """Does a code cell of the notebook use ``course.lesson.explore``?"""
    return any(
        c.cell_type == "code" and "course.lesson.explore" in c.source
        for c in notebooks.read(path).cells
    )


class Runner:
    """Opens and runs notebooks in one page, a few ahead of the one asked for."""

    def __init__(self, page: Page, root: Path, paths: list[str]) -> None:
        self.page, self.root, self.paths = page, root, paths
        self.open: dict[str, Notebook] = {}

    def _start(self, path: str) -> None:
        if path not in self.open:
            nb = open_notebook(self.page, path, self.root)
            nb.clear_and_run_all()
            self.open[path] = nb

    def finish(self, path: str) -> Notebook:
        """Run ``path`` (if not already running), start the next ones, wait
        for ``path`` to finish, and save it."""
        self._start(path)
        at = self.paths.index(path) if path in self.paths else len(self.paths)
        for ahead in self.paths[at + 1 : at + AT_ONCE]:
            self._start(ahead)
        nb = self.open[path]
        nb.wait_run_finished()
        nb.save()
        return nb


@pytest.fixture(scope="module")
def runner(instructor_page: Page, instructor_server: LabServer) -> Runner:
    paths = [f"source/{lesson}/{lesson}.ipynb" for lesson in LESSONS]
    return Runner(instructor_page, instructor_server.root, paths)


@pytest.mark.parametrize("lesson", LESSONS)
def test_source_notebook_runs_in_the_browser(lesson, runner, request):
    """Does Run All in JupyterLab run every cell without an unexpected error,
    with every explorer rendered as a widget that responds to a change?"""
    path = f"source/{lesson}/{lesson}.ipynb"
    nb = runner.finish(path)
    problems = notebook_problems(runner.root / path)
    found, widget_problems = check_explorers(nb.panel)
    problems += widget_problems
    if shows_explorers(runner.root / path) and not found:
        problems.append(
            f"{path} uses course.lesson.explore, but no .course-explorer widget is shown"
        )
    if found:  # the evidence: the last explorer after its change
        nb.panel.locator(".course-explorer").last.scroll_into_view_if_needed()
    print(f"{path}: {found} explorer(s) checked")
    snap(nb.page, request)
    assert not problems, "\n".join(problems)


# ----------------------------------------------------- the check, on a probe

PROBE = """\
import ipywidgets as w

def explorer(control, respond=True):
    result = w.HTML(value=f"<b>{control.value!r}</b>")
    result.add_class("course-explorer-result")
    control.add_class("course-explorer-control")
    if respond:
        control.observe(lambda change: setattr(result, "value", f"<b>{change.new!r}</b>"), "value")
    box = w.VBox([control, result])
    box.add_class("course-explorer")
    return box
"""

CONTROLS = [
    'w.Dropdown(options=["json", "email", "csv"], value="json")',
    'w.Text(value="json", continuous_update=True)',
    "w.Checkbox(value=False, description='bytecode on')",
    'w.ToggleButtons(options=["tree", "table", "bars"])',
    "w.IntSlider(value=0, min=0, max=5)",
]


@pytest.fixture(scope="module")
def probe(runner: Runner) -> tuple[Notebook, int]:
    """A notebook of our own beside the course, in the same page: one
    explorer per kind of control, plus one that never responds."""
    folder = runner.root / "probe"
    folder.mkdir()
    cells = [nbformat.v4.new_code_cell(PROBE)]
    cells += [nbformat.v4.new_code_cell(f"explorer({control})") for control in CONTROLS]
    cells.append(nbformat.v4.new_code_cell("explorer(w.IntSlider(value=2, max=5), respond=False)"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebooks.write(nb, folder / "probe.ipynb")
    return runner.finish("probe/probe.ipynb"), len(cells) - 1


def test_explorer_check_sees_every_control_respond(probe, request):
    """Does the explorer check change each kind of control and see the result
    change, and does it catch an explorer whose result never changes?"""
    nb, explorers = probe
    found, problems = check_explorers(nb.panel, timeout=5)
    snap(nb.page, request)
    assert found == explorers
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"explorer {explorers} of {explorers}: moved the slider")
    assert problems[0].endswith("but its result did not change in 5 s")
