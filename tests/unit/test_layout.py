"""The shape of the `course` package: no import cycles, and the run-time part
(course.lesson) standing on the standard library alone."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "course"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module of `course` that ``path`` imports, anywhere in the file
    (function-level imports included: they hold cycles together too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "course"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "course":
                continue
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if _exists(candidate) else module)
    return {m for m in found if m != name}


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_module_of_course_imports_itself_back():
    """Is the import graph of `course` (every import, function-level ones included) free of cycles?"""
    graph = _graph()
    assert len(graph) > 30
    # A package importing its own submodules (re-exports) is no cycle unless they import it back.
    assert _cycles(graph) == []


def test_the_lesson_runtime_uses_only_the_standard_library():
    """Does everything under course/lesson (what runs in kernels and in the grader's sandbox) import only the standard library and course.lesson itself (explorers may use ipywidgets)?"""
    allowed = set(sys.stdlib_module_names) | {"course", "ipywidgets", "IPython"}
    for path in (PACKAGE / "lesson").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in allowed, f"{path}: imports {name}"
                if name.startswith("course") and not name.startswith("course.lesson"):
                    raise AssertionError(f"{path}: imports {name}, outside the run-time part")


def test_the_scratch_folder_is_ignored_everywhere_it_must_be():
    """Do nbgrader's ignore list, .gitignore and the build's run-time folders all name the one scratch folder (design.md trap 1: a solution module there must never reach release/ or a submission)?"""
    from course.authoring.build import RUNTIME_DIRS
    from course.coursedir import Course
    from course.lesson.scratch import SCRATCH_NAME

    root = PACKAGE.parent
    assert SCRATCH_NAME in Course(root).nbgrader_config().CourseDirectory.ignore
    assert f"{SCRATCH_NAME}/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert SCRATCH_NAME in RUNTIME_DIRS


def test_every_test_file_belongs_to_a_stage_of_make_test():
    """Is every test file in one of the folders or files `make test` runs stage by stage (so none is silently left out)?"""
    root = PACKAGE.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    staged = [w for w in makefile.split() if w.startswith("tests/")]
    elsewhere = {"tests/hub", "tests/pythons"}  # make test-hub, make test-pythons
    for path in sorted((root / "tests").rglob("test_*.py")):
        rel = path.relative_to(root).as_posix()
        assert any(
            rel == s or rel.startswith(s.rstrip("/") + "/") for s in [*staged, *elsewhere]
        ), rel
