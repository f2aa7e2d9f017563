"""Driving JupyterLab 4 through its UI with Playwright: menus, notebooks,
kernel status, explorer widgets.

Everything goes through what a user sees and does (menus, dialogs, the
keyboard); the kernel is known to be done from the status bar's text
("Python 3 (ipykernel) | Idle"), never from the toolbar's execution
indicator (design.md trap 13).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbformat.reader import NotJSONError
from playwright.sync_api import Locator, Page, expect

from course import notebooks

__all__ = [
    "Notebook",
    "check_explorers",
    "kernel_status",
    "load_lab",
    "menu",
    "notebook_problems",
    "open_notebook",
]

#: The kernel part of the status bar: "<kernel name> | <status>".
_KERNEL_STATUS = re.compile(r" \| \w+")
_CODE_PROMPT = re.compile(r"^\[\d+\]:$")


def load_lab(page: Page, url: str) -> None:
    """Load JupyterLab at ``url`` and wait until its menus and the file
    browser's listing (of a folder that is not empty) are there."""
    page.goto(url)
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=120_000)
    expect(page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$"))).to_be_visible(
        timeout=60_000
    )
    expect(page.locator(".jp-DirListing-item").first).to_be_visible(timeout=60_000)


def menu(page: Page, top: str, item: str) -> None:
    """Click ``top`` in the main menu bar, then its entry labelled ``item``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
    page.locator(".lm-Menu-item", has=label).first.click()


def kernel_status(page: Page) -> Locator:
    """The status bar's kernel item, for the active notebook."""
    return page.locator(".jp-StatusBar-TextItem", has_text=_KERNEL_STATUS)


@dataclass
class Notebook:
    """One notebook open in a JupyterLab page (a main-area tab)."""

    page: Page
    path: str  # relative to the server's root
    panel_id: str
    code_cells: int  # how many code cells the file holds
    started: float = field(default_factory=time.monotonic)

    @property
    def tab(self) -> Locator:
        return self.page.locator(f'#jp-main-dock-panel .lm-TabBar-tab[data-id="{self.panel_id}"]')

    @property
    def panel(self) -> Locator:
        return self.page.locator(f'[id="{self.panel_id}"]')

    def cell(self, index: int) -> Locator:
        """The cell at ``index`` in the notebook (all cells, not just code)."""
        return self.panel.locator(".jp-WindowedPanel-viewport > .jp-Cell").nth(index)

    def activate(self) -> None:
        self.tab.click()
        expect(self.tab).to_have_class(re.compile(r"\blm-mod-current\b"))

    def wait_idle(self, timeout: float = 120) -> None:
        """Wait for the status bar to say the kernel is idle (tab activated)."""
        self.activate()
        expect(kernel_status(self.page)).to_have_text(
            re.compile(r"\| Idle$"), timeout=timeout * 1000
        )

    def clear_and_run_all(self) -> None:
        """Clear every output, then Run > Run All Cells (kernel idle first)."""
        self.wait_idle()
        menu(self.page, "Edit", "Clear Outputs of All Cells")
        menu(self.page, "Run", "Run All Cells")
        self.started = time.monotonic()

    def _state(self) -> dict:
        return self.panel.evaluate(
            """panel => {
                const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .map(e => e.textContent.trim());
                const status = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                    .map(e => e.textContent).join(' ');
                return {prompts, idle: / \\| Idle/.test(status)};
            }"""
        )

    def wait_run_finished(self, timeout: float = 300) -> list[str]:
        """Wait until a run started on cleared outputs is over: every code
        cell rendered, the first one run, none queued or running (``[*]``),
        and the kernel idle, twice in a row. Returns the code cells' prompts."""
        self.activate()
        deadline = time.monotonic() + timeout
        calm = 0
        while True:
            state = self._state()
            prompts = state["prompts"]
            done = (
                state["idle"]
                and len(prompts) == self.code_cells
                and bool(_CODE_PROMPT.match(prompts[0]))
                and not any("*" in p for p in prompts)
            )
            calm = calm + 1 if done else 0
            if calm >= 2:
                return prompts
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.path}: the run did not finish within {timeout:.0f} s; "
                    f"prompts seen: {prompts}"
                )
            self.page.wait_for_timeout(500)

    def save(self) -> None:
        """File > Save (Ctrl+S) and wait until the tab is no longer dirty."""
        self.activate()
        self.panel.locator(".jp-Notebook").first.press("Control+s")
        expect(self.tab).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"), timeout=30_000)


def open_notebook(page: Page, path: str, root: Path) -> Notebook:
    """File > Open from Path… ``path`` (relative to the server root ``root``)."""
    menu(page, "File", "Open from Path…")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill(path)
    dialog.locator("input").press("Enter")
    tab = page.locator(
        "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current", has_text=Path(path).name
    )
    expect(tab).to_have_attribute(
        "title", re.compile(f"^Path: {re.escape(path)}$", re.M), timeout=120_000
    )
    panel_id = tab.get_attribute("data-id")
    assert panel_id, f"no panel id on the tab of {path}"
    nb = notebooks.read(root / path)
    return Notebook(page, path, panel_id, sum(c.cell_type == "code" for c in nb.cells))


def read_saved(path: Path, seconds: float = 30.0):
    """Read a notebook that JupyterLab may be saving right now.

    Jupyter's server writes a notebook in place (its "atomic" writing keeps a
    backup copy, not the reader's view), so a read during a save can see an
    empty or half-written file: such a read is retried for up to ``seconds``.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            return notebooks.read(path)
        except (NotJSONError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def notebook_problems(path: Path) -> list[str]:
    """What a saved, fully run notebook shows wrong: a code cell that did not
    run, or an error output in a cell not tagged ``raises-exception``."""
    problems = []
    for index, cell in enumerate(read_saved(path).cells):
        if cell.cell_type != "code":
            continue
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        where = f"{path.name} cell {index} ({first[:60]!r})"
        if cell.get("execution_count") is None:
            problems.append(f"{where} did not run")
        if "raises-exception" in cell.metadata.get("tags", []):
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                problems.append(f"{where} raised {output.ename}: {output.evalue}")
    return problems


# ------------------------------------------------------------ explorer widgets

#: The explorers' DOM contract (course/explore/__init__.py).
EXPLORER = ".course-explorer"
CONTROL = ".course-explorer-control"
RESULT = ".course-explorer-result"


def _change(control: Locator) -> str:
    """Change an ipywidgets control the way a user would; say what was done."""
    classes = control.get_attribute("class") or ""
    if "widget-dropdown" in classes:
        select = control.locator("select")
        current = select.input_value()
        values = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        other = next((v for v in values if v != current), None)
        assert other is not None, f"the dropdown offers nothing but {current!r}"
        select.select_option(other)
        return f"picked option {other!r} (was {current!r})"
    if "widget-toggle-buttons" in classes:
        button = control.locator("button:not(.mod-active)").first
        label = button.inner_text()
        button.click()
        return f"pressed toggle button {label!r}"
    if "widget-checkbox" in classes:
        box = control.locator("input[type=checkbox]")
        box.click()
        return f"{'ticked' if box.is_checked() else 'unticked'} the checkbox"
    if "widget-slider" in classes:
        handle = control.locator(".noUi-handle").first
        now, top = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
        key = "ArrowLeft" if now == top else "ArrowRight"
        handle.focus()
        handle.press(key)
        return f"moved the slider from {now} with {key}"
    if "widget-text" in classes:
        box = control.locator("input")
        current = box.input_value()
        new = "json" if current != "json" else "email"
        box.fill(new)
        box.press("Enter")
        return f"typed {new!r} (was {current!r})"
    raise AssertionError(f"no way to change a control with classes {classes!r}")


def check_explorers(scope: Locator, timeout: float = 60) -> tuple[int, list[str]]:
    """Check every explorer inside ``scope``: it is a rendered widget (not a
    text repr), and its result text changes when its control changes.

    Returns (explorers found, problems).
    """
    explorers = scope.locator(EXPLORER)
    problems = []
    count = explorers.count()
    for i in range(count):
        explorer = explorers.nth(i)
        explorer.scroll_into_view_if_needed()
        name = f"explorer {i + 1} of {count}"
        if "jupyter-widgets" not in (explorer.get_attribute("class") or ""):
            problems.append(f"{name} is not a rendered ipywidget")
            continue
        control, result = explorer.locator(CONTROL), explorer.locator(RESULT)
        if control.count() != 1 or result.count() != 1:
            problems.append(
                f"{name} has {control.count()} {CONTROL} and {result.count()} {RESULT} (want 1 each)"
            )
            continue
        before = _settled_text(result)
        action = _change(control)
        try:
            expect(result).not_to_have_text(before, timeout=timeout * 1000)
        except AssertionError:
            problems.append(f"{name}: {action}, but its result did not change in {timeout:.0f} s")
            continue
        # The result may change in steps (a "working" note first): judge the
        # text the explorer settles on, once the kernel is idle again.
        expect(kernel_status(scope.page)).to_have_text(
            re.compile(r"\| Idle$"), timeout=timeout * 1000
        )
        after = _settled_text(result)
        if after == before:
            problems.append(f"{name}: {action}; its result changed, then went back to {before!r}")
    return count, problems


def _settled_text(locator: Locator, timeout: float = 30) -> str:
    """The locator's text content once it is not empty and the same twice in
    a row, half a second apart."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        text = locator.text_content() or ""  # rendered or not (off-screen cells)
        if text.strip() and text == last:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"text did not settle in {timeout:.0f} s: {text!r}")
        last = text
        locator.page.wait_for_timeout(500)
