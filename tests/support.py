"""Helpers shared by the test suites (not fixtures: those live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from course.authoring import synth
from course.coursedir import Course

__all__ = ["BIN", "DATA", "REPO", "active_content", "copy_course", "run_course"]

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


#: The course whose lessons the tests grade: this repository's, or (for a
#: developer whose checkout is mid-edit) a snapshot named by COURSE_TEST_DATA,
#: e.g. ``git archive HEAD nbgrader_config.py source release mutants | tar -x -C /tmp/snap``.
DATA = Path(os.environ.get("COURSE_TEST_DATA", REPO))


def copy_course(dest: Path) -> Course:
    """Copy the course under test (config, source/, release/, mutants)
    into ``dest``; run-time folders are left out."""
    return synth.copy_course(Course(DATA), dest)


def run_course(
    *args: str, cwd: Path | None = None, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `course` command; output captured as text; ``env``
    adds to (or overrides) the environment."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {}))
    return subprocess.run(
        [str(BIN / "course"), *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


_ACTIVE_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "frame",
    "frameset",
    "base",
    "form",
    "meta-refresh",
}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if (
                name in _URL_ATTRIBUTES
                and value
                and value.strip().lower().startswith(("javascript:", "vbscript:"))
            ):
                self.found.append(f"<{tag} {name}={value[:30]}>")
            if tag == "meta" and name == "http-equiv" and value and value.lower() == "refresh":
                self.found.append("<meta http-equiv=refresh>")


def active_content(page: str) -> list[str]:
    """Every element or attribute of ``page`` (HTML) that would run code or
    load anything when the page is opened: script-like tags, event-handler
    attributes, ``javascript:`` URLs. Text that merely looks like HTML (it
    was escaped) is not counted."""
    finder = _Finder()
    finder.feed(page)
    finder.close()
    return finder.found
