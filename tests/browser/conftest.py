"""Fixtures for the browser tests: one throwaway course copy, one `course lab`
server per set-up (student, instructor) and one page on each, all for the
whole session; Debian's Chromium driven headless by Playwright.

Screenshots go to ``test-artifacts/browser/`` (git-ignored), emptied at the
start of a session: ``<test>.png`` at each test's key moment (see
:func:`snap`), ``<test>-FAILED-<page>.png`` for every page a failed test used.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ..support import copy_course
from .jupyterlab import load_lab
from .server import LabServer
from .support import ARTIFACTS, _file_name, global_config_files

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser(artifacts: Path) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"the browser tests need Debian's Chromium at {CHROMIUM}, which is missing: "
            "install it with `apt-get install chromium` (.ci/run does)",
            pytrace=False,
        )
    expect.set_options(timeout=60_000)  # a loaded machine is slow; failures say why
    manager = sync_playwright()
    playwright = manager.start()
    driver = _driver_popen(manager)
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        # Playwright closes its event loop without always collecting its
        # driver's exit status; the Popen would later warn "still running"
        # (an unraisable warning, an error under our pytest settings).
        if driver is not None and driver.returncode is None:
            driver.wait(timeout=30)


def _driver_popen(manager: object) -> subprocess.Popen | None:
    """The Popen of Playwright's driver process, if this version exposes it."""
    process = getattr(getattr(getattr(manager, "_client", None), "_transport", None), "_proc", None)
    popen = getattr(getattr(process, "_transport", None), "_proc", None)
    return popen if isinstance(popen, subprocess.Popen) else None


@pytest.fixture(scope="session")
def global_config_before() -> dict[str, tuple[int, int]]:
    return global_config_files()


@pytest.fixture(scope="session")
def lab_root(
    tmp_path_factory: pytest.TempPathFactory, global_config_before: dict[str, tuple[int, int]]
) -> Path:
    """A throwaway copy of the course that both servers serve."""
    root = tmp_path_factory.mktemp("lab-course")
    copy_course(root)
    return root


def _server(root: Path, artifacts: Path, instructor: bool) -> Iterator[LabServer]:
    name = "instructor" if instructor else "student"
    server = LabServer(root, instructor=instructor, log=artifacts / f"{name}-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def student_server(lab_root: Path, artifacts: Path, browser: Browser) -> Iterator[LabServer]:
    yield from _server(lab_root, artifacts, instructor=False)


@pytest.fixture(scope="session")
def instructor_server(lab_root: Path, artifacts: Path, browser: Browser) -> Iterator[LabServer]:
    yield from _server(lab_root, artifacts, instructor=True)


def _page(browser: Browser, server: LabServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    load_lab(page, server.url("lab"))
    yield page
    context.close()


@pytest.fixture(scope="session")
def student_page(browser: Browser, student_server: LabServer) -> Iterator[Page]:
    """JupyterLab's student set-up, loaded once for the session."""
    yield from _page(browser, student_server)


@pytest.fixture(scope="session")
def instructor_page(browser: Browser, instructor_server: LabServer) -> Iterator[Page]:
    """JupyterLab's instructor set-up, loaded once for the session."""
    yield from _page(browser, instructor_server)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """On a failure, screenshot every page the test used."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        seen: list[Page] = []
        for name, value in getattr(item, "funcargs", {}).items():
            page = value if isinstance(value, Page) else getattr(value, "page", None)
            if isinstance(page, Page) and page not in seen and not page.is_closed():
                seen.append(page)
                path = ARTIFACTS / f"{_file_name(item.name)}-FAILED-{name}.png"
                try:
                    page.screenshot(path=path)
                except Exception as exc:  # the page may be what broke
                    report.sections.append(("screenshot", f"could not save {path}: {exc}"))
                else:
                    report.sections.append(("screenshot", str(path)))
    return report
