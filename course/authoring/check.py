"""`course check`: is the course consistent?

Three checks, cheapest first:

1. :func:`lint` — the conventions of design.md on each source notebook;
2. :func:`out_of_sync` — ``release/`` equals a fresh build of ``source/``;
3. :func:`validate` — nbgrader's Validator passes on each source notebook
   and fails every graded cell of each release notebook (used in code, since
   ``nbgrader validate`` exits 0 on failure: design.md trap 3).

Nothing here writes into the course: builds and validations run in
temporary folders.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from .. import notebooks as nbs
from ..coursedir import Course
from ..kernels import ipc_config, private_sockets
from .build import generate_release_tree, is_runtime

__all__ = ["NBVAL_TAGS", "lint", "lint_notebook", "out_of_sync", "validate"]

#: The nbval directives a cell may carry, as tags.
NBVAL_TAGS = {
    "nbval-ignore-output",
    "nbval-skip",
    "nbval-check-output",
    "nbval-raises-exception",
    "raises-exception",
}
_READABLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_HEX_ID = re.compile(r"^cell-[0-9a-f]{6,}$")
_POINTS_TEXT = re.compile(r"\(\s*\d+(\.\d+)?\s*(points?|pts?|marks?)\s*\)", re.IGNORECASE)
_COMMENT_DIRECTIVE = re.compile(r"^\s*#\s*(NBVAL_[A-Z_]+|PYTEST_VALIDATE_IGNORE_OUTPUT)")


def _marker_problems(text: str, begin: str, end: str) -> list[str]:
    depth, problems = 0, []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == begin:
            if depth:
                problems.append(f"nested {begin!r}")
            depth += 1
        elif stripped == end:
            if not depth:
                problems.append(f"{end!r} without {begin!r}")
            depth = max(0, depth - 1)
    if depth:
        problems.append(f"{begin!r} not closed in the same cell")
    return problems


def lint_notebook(nb_path: Path) -> list[str]:
    """Problems with one source notebook, each as ``"<file> cell N: ..."``."""
    nb = nbs.read(nb_path)
    problems: list[str] = []
    ids = Counter(nbs.grade_id(c) for c in nb.cells if nbs.grade_id(c))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not code_cells or nbs.grade_id(code_cells[0]) != "setup":
        problems.append("the first code cell must be the locked set-up cell (grade_id 'setup')")
    elif not code_cells[0].metadata.nbgrader.get("locked"):
        problems.append("the set-up cell must be locked")
    if not any(nbs.is_graded_test(c) for c in nb.cells):
        problems.append("no autograded test cell")
    if nb != nbs.normalise(nb):
        problems.append(
            "not in stored form (counts, editor metadata, widget state); run `course record`"
        )

    for index, cell in enumerate(nb.cells, start=1):
        where = f"cell {index}" + (f" ({nbs.grade_id(cell)})" if nbs.grade_id(cell) else "")
        text = nbs.cell_text(cell)
        gid = nbs.grade_id(cell)
        meta = cell.metadata.get("nbgrader", {})

        def say(msg: str, where: str = where) -> None:
            problems.append(f"{where}: {msg}")

        if gid is not None:
            if _HEX_ID.match(gid) or not _READABLE_ID.match(gid):
                say("grade id is not readable (use lowercase snake_case, e.g. ex1_2_tally_test)")
            if ids[gid] > 1:
                say("grade id is used more than once")
        for begin, end in (
            (nbs.SOLUTION_BEGIN, nbs.SOLUTION_END),
            (nbs.HIDDEN_BEGIN, nbs.HIDDEN_END),
        ):
            for p in _marker_problems(text, begin, end):
                say(p)
        has_solution_marker = nbs.SOLUTION_BEGIN in text
        if has_solution_marker and not nbs.is_solution(cell):
            say("solution markers in a cell that is not an nbgrader solution cell")
        if nbs.HIDDEN_BEGIN in text and not nbs.is_graded_test(cell):
            say("hidden-test markers in a cell that is not an autograded test cell")
        if nbs.is_solution(cell) and cell.cell_type == "code":
            if not has_solution_marker:
                say("solution cell without ### BEGIN SOLUTION / ### END SOLUTION")
            first = text.splitlines()[0] if text else ""
            if "%%writefile" in text and not first.startswith("%%writefile"):
                say("%%writefile must be the first line, outside the solution markers")
        if nbs.is_graded_test(cell):
            if not nbs.hidden_test_lines(cell):
                say("graded test cell without hidden tests")
            first = text.lstrip().splitlines()[0] if text.strip() else ""
            if not first.startswith(('"""', "'''", "#")):
                say("a test cell's first line must say what it checks (a docstring)")
            if not meta.get("points"):
                say("graded cell without points in its metadata")
        if cell.cell_type == "markdown" and _POINTS_TEXT.search(text):
            say("points written in the text: points live in metadata only")
        for line in text.splitlines():
            if _COMMENT_DIRECTIVE.match(line):
                say(f"nbval comment directive {line.strip()!r}: use a cell tag instead")
        for tag in cell.metadata.get("tags", []):
            if (tag.startswith("nbval") or "exception" in tag) and tag not in NBVAL_TAGS:
                say(f"unknown nbval tag {tag!r}")
    return [f"{nb_path}: {p}" for p in problems]


def lint(course: Course, lessons: list[str]) -> list[str]:
    """:func:`lint_notebook` over the source notebooks of ``lessons``."""
    problems: list[str] = []
    for lesson in lessons:
        problems += lint_notebook(course.source_notebook(lesson))
    return problems


def out_of_sync(course: Course, lessons: list[str]) -> list[str]:
    """The lessons whose ``release/`` differs from a fresh build, each as a
    message naming the source notebook to rebuild."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="course-check-") as tmp:
        out = Path(tmp) / "release"
        generate_release_tree(course, lessons, out)
        for lesson in lessons:
            fresh, stored = out / lesson, course.release / lesson
            names = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
            if stored.is_dir():
                names |= {
                    p.relative_to(stored)
                    for p in stored.rglob("*")
                    if p.is_file() and not is_runtime(p.relative_to(stored))
                }
            differs = [
                rel
                for rel in sorted(names)
                if not (
                    (fresh / rel).is_file()
                    and (stored / rel).is_file()
                    and filecmp.cmp(fresh / rel, stored / rel, shallow=False)
                )
            ]
            if differs:
                problems.append(
                    f"{course.source_notebook(lesson)}: release/{lesson} is out of date "
                    f"({', '.join(map(str, differs))}); run `course build`"
                )
    return problems


def _validate_copy(notebook: Path) -> dict:
    from nbgrader.validator import Validator

    with (
        tempfile.TemporaryDirectory(prefix="course-validate-") as tmp,
        private_sockets() as sockets,
    ):
        copy = Path(tmp) / notebook.name
        shutil.copyfile(notebook, copy)
        return Validator(config=ipc_config(sockets)).validate(str(copy))


def validate(course: Course, lessons: list[str]) -> list[str]:
    """Source notebooks must pass nbgrader's Validator; release notebooks
    must fail it on every graded test cell. Each runs in a temporary copy
    (nbgrader starts the kernel in the notebook's folder: trap 2)."""
    problems = []
    for lesson in lessons:
        src = course.source_notebook(lesson)
        result = _validate_copy(src)
        if result:
            kinds = ", ".join(f"{len(v)} {k}" for k, v in result.items())
            problems.append(f"{src}: the reference solution does not validate ({kinds})")
        rel = course.release_notebook(lesson)
        if not rel.is_file():
            problems.append(f"{rel}: missing; run `course build`")
            continue
        tests = sum(nbs.is_graded_test(c) for c in nbs.read(rel).cells)
        failed = len(_validate_copy(rel).get("failed", []))
        if failed != tests:
            problems.append(
                f"{rel}: the untouched student notebook fails {failed} of {tests} graded "
                "test cells (it must fail all of them)"
            )
    return problems
