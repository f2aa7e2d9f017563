"""Answers that reach for the kernel or the grader, flagged for review.

An answer in this course is a module about imports; none needs to touch
IPython, the interpreter's tracing machinery, other code's frames, the
garbage collector's object graph, the builtins or the file descriptors of
its own process. :func:`tripwires` reads an answer's syntax tree (nothing is
run) and names each such reach. A flag is a note for the instructor, not a
penalty: the checks decide the score (and the runner refuses the worst of
these outright). No reference answer or mutant may trip one
(``tests/unit/test_tripwires.py`` checks them all).
"""

from __future__ import annotations

import ast
import builtins

__all__ = ["NAMES", "tripwires"]

_BUILTIN_NAMES = frozenset(dir(builtins))

#: Names (as a variable, attribute or imported module) and why each is flagged.
NAMES: dict[str, str] = {
    "get_ipython": "the IPython shell",
    "IPython": "the IPython shell",
    "ipykernel": "the Jupyter kernel",
    "input_transformers_cleanup": "IPython's input transformers",
    "input_transformers_post": "IPython's input transformers",
    "ast_transformers": "IPython's AST transformers",
    "run_cell": "IPython's cell execution",
    "run_cell_async": "IPython's cell execution",
    "showtraceback": "IPython's error display",
    "displayhook": "the display hook",
    "excepthook": "the exception hook",
    "settrace": "tracing hooks",
    "setprofile": "profiling hooks",
    "monitoring": "sys.monitoring",
    "_getframe": "the caller's frames",
    "currentframe": "the caller's frames",
    "f_back": "the caller's frames",
    "f_locals": "a frame's variables",
    "f_globals": "a frame's variables",
    "f_code": "a frame's code",
    "tb_frame": "the frames of a traceback",
    "gi_frame": "a generator's frame",
    "__builtins__": "the builtins",
    "ctypes": "ctypes (raw memory)",
    "gc": "the garbage collector",
    "get_referrers": "the garbage collector's object graph",
    "addaudithook": "audit hooks",
    "_exit": "ending the process at once",
    "course": "the course's own helpers",
}

#: Attribute chains flagged only as a whole (each word alone is common).
CALLS: dict[tuple[str, str], str] = {
    ("events", "register"): "IPython's event hooks",
    ("os", "read"): "reading file descriptors directly",
    ("os", "write"): "writing file descriptors directly",
    ("os", "fdopen"): "opening file descriptors directly",
    ("sys", "stdin"): "the process's standard input",
    ("inspect", "stack"): "the caller's frames",
}

#: String constants flagged when they contain one of these.
STRINGS: dict[str, str] = {
    "/proc/self": "the process's own /proc entries",
    "/dev/fd": "the process's file descriptors",
    "get_ipython": "the IPython shell",
    "IPython": "the IPython shell",
    "ipykernel": "the Jupyter kernel",
    "ctypes": "ctypes (raw memory)",
    "settrace": "tracing hooks",
    "_getframe": "the caller's frames",
    "course.": "the course's own helpers",
}


def _names(node: ast.AST) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (node.attr,)
    if isinstance(node, ast.alias):
        return tuple(node.name.split("."))
    if isinstance(node, ast.ImportFrom) and node.module:
        return tuple(node.module.split("."))
    return ()


def _replaces_a_builtin(node: ast.AST) -> bool:
    """``builtins.len = ...``, ``setattr(builtins, "len", ...)`` (or with a
    computed name), ``builtins.__dict__[...] = ...``: a builtin replaced.
    Adding a new name to ``builtins`` is not flagged (an odd place for
    state, not a tamper)."""
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    for target in targets:
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "builtins"
            and target.attr in _BUILTIN_NAMES
        ):
            return True
        inner = target.value if isinstance(target, ast.Subscript) else None
        if (
            isinstance(inner, ast.Attribute)
            and inner.attr == "__dict__"
            and isinstance(inner.value, ast.Name)
            and inner.value.id == "builtins"
        ):
            return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
        args = node.args
        if len(args) >= 2 and isinstance(args[0], ast.Name) and args[0].id == "builtins":
            name = args[1]
            return not isinstance(name, ast.Constant) or name.value in _BUILTIN_NAMES
    return False


def tripwires(source: str) -> list[str]:
    """Why ``source`` (Python code) is flagged, one phrase per kind of
    reach, in the order first found; empty when it parses cleanly and
    reaches for none of them, or does not parse at all (then the checks
    fail on their own)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: dict[str, None] = {}

    def flag(word: str, why: str) -> None:
        found.setdefault(f"uses {word} ({why})")

    for node in ast.walk(tree):
        if _replaces_a_builtin(node):
            flag("builtins", "replacing a builtin")
        for name in _names(node):
            if name in NAMES:
                flag(name, NAMES[name])
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            if pair in CALLS:
                flag(".".join(pair), CALLS[pair])
        if isinstance(node, ast.Attribute) and node.attr == "register":
            inner = node.value
            if isinstance(inner, ast.Attribute) and inner.attr == "events":
                flag("events.register", CALLS[("events", "register")])
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for needle, why in STRINGS.items():
                if needle in node.value:
                    flag(repr(needle), why)
    return list(found)
