"""`course check`: is the course consistent?

The steps (:func:`steps`), cheapest first:

1. :func:`lint` — the conventions of design.md on each source notebook
   (:data:`RULES`, one small function each);
2. :func:`out_of_sync` — ``release/`` equals a fresh build of ``source/``;
3. :func:`readme_in_sync` — the README's generated parts are current;
4. :func:`references_pass` — every check passes with the reference answers
   run as the grader runs them (the test cells are self-contained);
5. :func:`validate` — nbgrader's Validator passes on each source notebook
   and fails every graded cell of each release notebook (used in code, since
   ``nbgrader validate`` exits 0 on failure: design.md trap 3).

Nothing here writes into the course: builds and validations run in
temporary folders.
"""

from __future__ import annotations

import ast
import builtins
import filecmp
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from nbformat import NotebookNode

from .. import notebooks as nbs
from ..coursedir import Course
from ..kernels import ipc_config, private_sockets
from .build import generate_release_tree, is_runtime
from .pacing import CORE_LIMIT, GOING_FURTHER, pace

__all__ = [
    "NBVAL_TAGS",
    "RULES",
    "lint",
    "lint_notebook",
    "out_of_sync",
    "readme_in_sync",
    "references_pass",
    "steps",
    "validate",
]

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
_EXERCISE_HEADING = re.compile(r"^#{2,4}\s*Exercise\s+\d+(\.\d+)*\s+[\u2014\u2013-]", re.MULTILINE)
_STATED_TIME = re.compile(r"\*\*Time:\*\*\s*about\s+(\d+)\s+minutes")
_BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "__builtins__"}


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


# --- rules: each takes the notebook and returns problems ("cell N: ...") -----

Problems = list[str]


def _where(index: int, cell: NotebookNode) -> str:
    gid = nbs.grade_id(cell)
    return f"cell {index}" + (f" ({gid})" if gid else "")


def _code(text: str) -> str:
    """A code cell's text as Python: cell magics' cells and IPython lines
    (``%``, ``!``) blanked, markers kept (they are comments)."""
    if text.lstrip().startswith("%%"):
        return ""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in text.splitlines())


def rule_setup_cell(nb: NotebookNode) -> Problems:
    """The first code cell is the locked set-up cell; there are graded tests."""
    problems = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not code_cells or nbs.grade_id(code_cells[0]) != "setup":
        problems.append("the first code cell must be the locked set-up cell (grade_id 'setup')")
    elif not code_cells[0].metadata.nbgrader.get("locked"):
        problems.append("the set-up cell must be locked")
    if not any(nbs.is_graded_test(c) for c in nb.cells):
        problems.append("no autograded test cell")
    return problems


def rule_stored_form(nb: NotebookNode) -> Problems:
    """The notebook is stored normalised (counts, metadata, widget state)."""
    if nb != nbs.normalise(nb):
        return ["not in stored form (counts, editor metadata, widget state); run `course record`"]
    return []


def rule_grade_ids(nb: NotebookNode) -> Problems:
    """Grade ids are readable snake_case and unique."""
    ids = Counter(nbs.grade_id(c) for c in nb.cells if nbs.grade_id(c))
    problems = []
    for index, cell in enumerate(nb.cells, start=1):
        gid = nbs.grade_id(cell)
        if gid is None:
            continue
        if _HEX_ID.match(gid) or not _READABLE_ID.match(gid):
            problems.append(
                f"{_where(index, cell)}: grade id is not readable (use lowercase snake_case, "
                "e.g. ex1_2_tally_test)"
            )
        if ids[gid] > 1:
            problems.append(f"{_where(index, cell)}: grade id is used more than once")
    return problems


def rule_markers(nb: NotebookNode) -> Problems:
    """Solution and hidden-test markers are balanced, in the right kind of cell."""
    problems = []
    for index, cell in enumerate(nb.cells, start=1):
        where, text = _where(index, cell), nbs.cell_text(cell)
        for begin, end in (
            (nbs.SOLUTION_BEGIN, nbs.SOLUTION_END),
            (nbs.HIDDEN_BEGIN, nbs.HIDDEN_END),
        ):
            problems += [f"{where}: {p}" for p in _marker_problems(text, begin, end)]
        if nbs.SOLUTION_BEGIN in text and not nbs.is_solution(cell):
            problems.append(
                f"{where}: solution markers in a cell that is not an nbgrader solution cell"
            )
        if nbs.HIDDEN_BEGIN in text and not nbs.is_graded_test(cell):
            problems.append(
                f"{where}: hidden-test markers in a cell that is not an autograded test cell"
            )
    return problems


def rule_answer_cells(nb: NotebookNode) -> Problems:
    """Every answer cell writes a module: ``%%writefile`` first, outside the markers."""
    problems = []
    for index, cell in enumerate(nb.cells, start=1):
        if not nbs.is_solution(cell):
            continue
        where, text = _where(index, cell), nbs.cell_text(cell)
        if cell.cell_type != "code":
            problems.append(f"{where}: answer cells are code cells that write a module")
            continue
        if nbs.SOLUTION_BEGIN not in text:
            problems.append(f"{where}: solution cell without ### BEGIN SOLUTION / ### END SOLUTION")
        first = text.splitlines()[0] if text else ""
        if not first.startswith("%%writefile"):
            problems.append(
                f"{where}: %%writefile must be the first line, outside the solution markers"
            )
    return problems


def rule_test_cells(nb: NotebookNode) -> Problems:
    """Each graded test cell says what it checks, has hidden tests and points,
    and is self-contained: plain Python that uses only its own names, the
    set-up cell's and builtins (the grader runs it in a fresh interpreter
    after the set-up cell alone)."""
    problems = []
    setup_names = _defined_names(
        next((nbs.cell_text(c) for c in nb.cells if nbs.grade_id(c) == "setup"), "")
    )
    for index, cell in enumerate(nb.cells, start=1):
        if not nbs.is_graded_test(cell):
            continue
        where, text = _where(index, cell), nbs.cell_text(cell)
        if not nbs.hidden_test_lines(cell):
            problems.append(f"{where}: graded test cell without hidden tests")
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        if not first.startswith(('"""', "'''", "#")):
            problems.append(
                f"{where}: a test cell's first line must say what it checks (a docstring)"
            )
        if not cell.metadata.get("nbgrader", {}).get("points"):
            problems.append(f"{where}: graded cell without points in its metadata")
        if _code(text) != text:
            problems.append(f"{where}: a test cell must be plain Python (no % or ! lines)")
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            problems.append(f"{where}: not valid Python ({exc.msg}, line {exc.lineno})")
            continue
        free = sorted(_free_names(tree) - setup_names - _BUILTINS)
        if free:
            problems.append(
                f"{where}: the test cell uses {', '.join(free)}, defined elsewhere in the notebook; "
                "test cells must be self-contained (move shared helpers into course.lesson)"
            )
    return problems


def rule_assert_messages(nb: NotebookNode) -> Problems:
    """Every ``assert`` (demos, visible and hidden tests) says what was
    expected and what was found: it has a message."""
    problems = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or nbs.is_solution(cell):
            continue
        try:
            tree = ast.parse(_code(nbs.cell_text(cell)))
        except SyntaxError:
            continue
        bare = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is None]
        if bare:
            lines = ", ".join(map(str, bare))
            problems.append(f"{_where(index, cell)}: assert without a message (line {lines})")
    return problems


def rule_exercises(nb: NotebookNode) -> Problems:
    """Answers and graded tests stand under an ``### Exercise N.M — ...``
    heading, never in a going-further section."""
    problems = []
    seen_exercise = False
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "markdown" and _EXERCISE_HEADING.search(nbs.cell_text(cell)):
            seen_exercise = True
        if nbs.is_solution(cell) or nbs.is_graded_test(cell):
            if not seen_exercise:
                problems.append(
                    f"{_where(index, cell)}: not under an '### Exercise N.M — title' heading"
                )
            if GOING_FURTHER in cell.metadata.get("tags", []):
                problems.append(
                    f"{_where(index, cell)}: an exercise cannot be in a going-further section"
                )
    return problems


def rule_points_and_directives(nb: NotebookNode) -> Problems:
    """Points live in metadata only; nbval directives are tags."""
    problems = []
    for index, cell in enumerate(nb.cells, start=1):
        where, text = _where(index, cell), nbs.cell_text(cell)
        if cell.cell_type == "markdown" and _POINTS_TEXT.search(text):
            problems.append(f"{where}: points written in the text: points live in metadata only")
        for line in text.splitlines():
            if _COMMENT_DIRECTIVE.match(line):
                problems.append(
                    f"{where}: nbval comment directive {line.strip()!r}: use a cell tag instead"
                )
        for tag in cell.metadata.get("tags", []):
            if (tag.startswith("nbval") or "exception" in tag) and tag not in NBVAL_TAGS:
                problems.append(f"{where}: unknown nbval tag {tag!r}")
    return problems


def rule_going_further(nb: NotebookNode) -> Problems:
    """A going-further section starts with a tagged heading that says it is
    optional."""
    problems = []
    previous = False
    for index, cell in enumerate(nb.cells, start=1):
        tagged = GOING_FURTHER in cell.metadata.get("tags", [])
        if tagged and not previous:
            text = nbs.cell_text(cell)
            if (
                cell.cell_type != "markdown"
                or not re.search(r"^#+ .*Going further", text, re.M)
                or "optional" not in text.lower()
            ):
                problems.append(
                    f"{_where(index, cell)}: a going-further section must start with a markdown "
                    "heading '... Going further ...' that says it is optional"
                )
        previous = tagged
    return problems


def rule_pacing(nb: NotebookNode) -> Problems:
    """The stated time is the formula's (course.authoring.pacing), and the
    core path fits the limit."""
    core = pace(nb)
    intro = "\n".join(nbs.cell_text(c) for c in nb.cells[:4] if c.cell_type == "markdown")
    stated = _STATED_TIME.search(intro)
    problems = []
    if core.minutes > CORE_LIMIT:
        problems.append(
            f"the core path takes {core.minutes} minutes by the formula (limit {CORE_LIMIT}): "
            f"{core.words} words, {core.code_cells} demo cells, {core.exercises} exercises; "
            "move asides into going-further sections"
        )
    if stated is None:
        problems.append("the introduction states no time ('**Time:** about N minutes')")
    elif int(stated.group(1)) != core.minutes:
        problems.append(
            f"the introduction says about {stated.group(1)} minutes; the formula gives "
            f"{core.minutes} for the core path"
        )
    return problems


#: The lint, in order: structure first, then cells, then pacing.
RULES = (
    rule_setup_cell,
    rule_stored_form,
    rule_grade_ids,
    rule_markers,
    rule_answer_cells,
    rule_test_cells,
    rule_assert_messages,
    rule_exercises,
    rule_points_and_directives,
    rule_going_further,
    rule_pacing,
)


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(_code(source))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _free_names(tree: ast.AST) -> set[str]:
    """Names a cell reads that it never binds (roughly: any binding anywhere counts)."""
    bound: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.alias) and node.name == "*":
            return set()  # cannot tell
    return used - bound


def lint_notebook(nb_path: Path) -> list[str]:
    """Problems with one source notebook, each as ``"<file>: ..."`` (see :data:`RULES`)."""
    nb = nbs.read(nb_path)
    problems: list[str] = []
    for rule in RULES:
        problems += rule(nb)
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


def references_pass(course: Course, lessons: list[str]) -> list[str]:
    """Every graded test cell passes with the reference answers when run as
    the grader runs it: in a fresh interpreter that has run only the set-up
    cell and written the lesson's files (given and answered); no demo cell
    runs. This proves the test cells are self-contained. Runs unsandboxed
    (the reference is the course's own code), in temporary folders."""
    from ..grading.answers import Answer
    from ..grading.execute import run_check
    from ..grading.sandbox import Unsandboxed
    from ..grading.spec import lesson_spec, writefile_body

    problems = []
    with Unsandboxed() as box:
        for lesson in lessons:
            spec = lesson_spec(course, lesson)
            source = {nbs.grade_id(c): c for c in nbs.read(course.source_notebook(lesson)).cells}
            answers = []
            for a in spec.answers:
                text = nbs.solution_as_student_writes_it(source[a.grade_id])
                body = writefile_body(text.split("\n", 1)[1] if "\n" in text else "")
                answers.append(Answer(a.grade_id, a.path, body, a.append, True))
            for check in spec.checks:
                verdict = run_check(box, 0, spec, answers, check, timeout=60)
                if not verdict.passed:
                    problems.append(
                        f"{course.source_notebook(lesson)}: {check.grade_id} fails with the "
                        f"reference answers in a clean interpreter: {verdict.message[:500]}"
                    )
    return problems


def readme_in_sync(course: Course, lessons: list[str]) -> list[str]:
    """The README's generated parts match the course (lessons, tree, limits)."""
    from .readme import update_readme

    if update_readme(course, write=False):
        return [
            f"{course.root / 'README.md'}: its generated parts are out of date; run `course build`"
        ]
    return []


def steps(*, validator: bool = True) -> list[tuple[str, object]]:
    """`course check`'s steps, cheapest first; each takes (course, lessons)
    and returns problems. The validator (slowest: it runs every notebook)
    comes last, when asked for."""
    found: list[tuple[str, object]] = [
        ("lint", lint),
        ("release in sync", out_of_sync),
        ("readme", readme_in_sync),
        ("tests self-contained", references_pass),
    ]
    if validator:
        found.append(("validator", validate))
    return found
