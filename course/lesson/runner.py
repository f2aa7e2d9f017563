"""Run one graded check in a fresh interpreter: the grader's side of the sandbox.

The grader (:mod:`course.grading.execute`) starts ``python -m
course.lesson.runner RESULT_FD TOKEN_FD`` in the sandbox for each graded
test cell, writes a *job* to its standard input and closes it. The job is
JSON::

    {"setup": "<the lesson's set-up cell>",
     "answers": [["geometry.py", "<the student's cell body>", false], ...],
     "test": "<the test cell, hidden checks included>"}

The runner

1. reads the job, then points standard input at ``/dev/null``;
2. installs an audit hook (:pep:`578`; it cannot be removed) that refuses
   what no lesson needs and a tamperer would: tracing and profiling hooks
   (``sys.settrace``, ``sys.setprofile``, ``sys.monitoring``), ``ctypes``,
   the garbage collector's object graph and other threads' frames;
3. runs the set-up cell in a fresh ``__main__`` namespace, as a kernel would
   (so ``start_lesson`` makes the scratch folder and works in it);
4. writes each answer into the scratch folder as ``%%writefile`` would
   (``append`` for ``-a``);
5. takes a snapshot of every callable in ``builtins``, the standard library's
   loaded modules and ``course``'s, and of which module object each name maps
   to in ``sys.modules``;
6. runs the test cell (compiled as ``<test>``) in the same namespace;
7. reports on RESULT_FD, as one JSON line: ``{"status": "failed", ...}``
   with the exception's type, message and line in the test cell; or
   ``{"status": "tampered", ...}`` when something of the snapshot was
   replaced; or, only when the cell ran to its end, ``{"status": "passed",
   "token": ...}`` with the per-run secret it reads from TOKEN_FD at that
   moment (the grader wrote it there; it is in no code, file or argument).

The grader gives points only for one well-formed ``passed`` line carrying its
secret, from a process that exited 0 and wrote nothing on standard error.
Nothing the student's code prints is read. Standard library only: this runs
on every supported Python, inside the sandbox.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import sys
import types

__all__ = ["BLOCKED_EVENTS", "main"]

#: Audit events refused while a check runs. No lesson, test or reference
#: answer uses them; each is a way to change how the test cell runs (skip
#: its asserts, rewrite its frames) or to read the grader's state.
BLOCKED_EVENTS = frozenset(
    {
        "sys.settrace",
        "sys.setprofile",
        "sys.monitoring.register_callback",
        "sys._current_frames",
        "sys._current_exceptions",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.dlsym/handle",
        "ctypes.addressof",
        "ctypes.call_function",
        "ctypes.cdata",
        "ctypes.cdata/buffer",
        "ctypes.string_at",
        "ctypes.wstring_at",
        "ctypes.PyObj_FromPtr",
    }
)

#: Longest exception message reported (characters); longer ones are cut
#: with a note. Messages are shown to the student in full up to this size.
MESSAGE_LIMIT = 20_000


class Refused(PermissionError):
    """Raised by the audit hook for a blocked event."""


def _audit(event: str, args: tuple) -> None:
    if event in BLOCKED_EVENTS:
        raise Refused(f"{event} is not allowed while a check runs")


def _write_answers(folder: str, answers: list) -> None:
    """Write each ``[path, text, append]`` under ``folder`` as ``%%writefile``
    does (UTF-8, the cell body as it is). Paths come from the instructor's
    notebook; anything that would leave ``folder`` is refused."""
    root = os.path.realpath(folder)
    for path, text, append in answers:
        target = os.path.realpath(os.path.join(root, path))
        if os.path.commonpath([root, target]) != root:
            raise ValueError(f"answer path {path!r} leaves the scratch folder")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)


def _like_a_kernel_path() -> None:
    """``sys.path`` as in a Jupyter kernel: ``-m`` put the working folder
    first; a kernel has ``''`` after the standard library instead."""
    if sys.path and sys.path[0] in (os.getcwd(), ""):
        del sys.path[0]
    for i, entry in enumerate(sys.path):
        if entry.endswith(("site-packages", "dist-packages")):
            sys.path.insert(i, "")
            break
    else:
        sys.path.append("")


def _snapshot() -> tuple[dict, dict]:
    """Every callable attribute of ``builtins``, loaded standard-library
    modules and ``course`` modules; and the module object of each of those
    names in ``sys.modules``."""
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    attrs: dict[str, dict[str, object]] = {}
    modules: dict[str, object] = {}
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or name == "__main__":
            continue
        top = name.partition(".")[0]
        if top not in stdlib and top not in ("course", "builtins"):
            continue
        modules[name] = module
        attrs[name] = {
            key: value
            for key, value in list(vars(module).items())
            if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type))
        }
    return attrs, modules


def _changes(
    attrs: dict,
    modules: dict,
    _sys_modules: dict = sys.modules,
    _sys: types.ModuleType = sys,
    _vars: object = vars,
    _get: object = dict.get,
) -> list[str]:
    """What of the snapshot is no longer the same object. Uses only objects
    bound when this module was imported, before any student code ran."""
    found = []
    if _get(_vars(_sys), "modules") is not _sys_modules:  # type: ignore[operator]
        found.append("sys.modules was replaced")
    for name, module in modules.items():
        if _get(_sys_modules, name, module) is not module:  # type: ignore[operator]
            found.append(f"sys.modules[{name!r}] was replaced")
            continue
        namespace = _vars(module)  # type: ignore[operator]
        for key, value in attrs[name].items():
            if _get(namespace, key, value) is not value:  # type: ignore[operator]
                found.append(f"{name}.{key} was replaced")
    return found


def _safe_text(obj: object) -> str:
    try:
        text = str(obj)
    except BaseException as exc:  # a hostile __str__
        return f"(the message could not be read: {type(exc).__name__})"
    if not isinstance(text, str):
        return "(the message is not text)"
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + f"\n[... {len(text) - MESSAGE_LIMIT} more characters]"
    return text


def _failure(exc: BaseException, where: str) -> dict:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<test>":
            line = tb.tb_lineno
        tb = tb.tb_next
    kind = type(exc)
    return {
        "status": "failed",
        "where": where,
        "type": kind.__name__ if isinstance(kind.__name__, str) else "Exception",
        "builtin": kind.__module__ == "builtins",
        "message": _safe_text(exc),
        "line": line,
    }


def _report(fd: int, result: dict, _dumps: object = json.dumps, _write: object = os.write) -> None:
    """Write ``result`` as one JSON line (functions bound at import time)."""
    data = (_dumps(result) + "\n").encode("utf-8")  # type: ignore[operator]
    while data:
        data = data[_write(fd, data) :]  # type: ignore[operator]


def _read_token(fd: int, _read: object = os.read) -> str:
    """The grader's secret for this run, read only once the test has ended."""
    chunks = []
    while True:
        chunk = _read(fd, 256)  # type: ignore[operator]
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("ascii", "replace").strip()


_STREAMS = (sys.stdout, sys.stderr)  # the real ones, whatever the test rebinds


def _flush(_streams: tuple = _STREAMS, _flush_method: object = io.TextIOWrapper.flush) -> None:
    """Flush the process's own standard output and error (by the type's
    method: an object a student put in ``sys.stdout`` is not called)."""
    for stream in _streams:
        try:
            if type(stream) is io.TextIOWrapper:
                _flush_method(stream)  # type: ignore[operator]
        except BaseException:
            pass


def main(argv: list[str]) -> None:
    """Run the job on standard input; see the module docstring. Never
    returns: ends the process with ``os._exit`` (status 0 when a result was
    reported, 3 when the job itself was unusable)."""
    result_fd, token_fd = int(argv[0]), int(argv[1])
    for fd in (result_fd, token_fd):
        os.set_inheritable(fd, False)
    exit_now, write_result = os._exit, _report  # kept before any student code runs
    try:
        job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        setup, answers, test = job["setup"], job["answers"], job["test"]
    except (ValueError, KeyError, TypeError) as exc:
        print(f"course.lesson.runner: unusable job: {exc}", file=sys.stderr)
        exit_now(3)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.addaudithook(_audit)
    _like_a_kernel_path()
    main_module = types.ModuleType("__main__")
    main_module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main_module
    sys.argv = [""]
    namespace = main_module.__dict__
    try:
        exec(compile(setup, "<setup>", "exec"), namespace)
        from course.lesson import scratch_folder

        _write_answers(str(scratch_folder()), answers)
        import importlib

        importlib.invalidate_caches()
    except BaseException as exc:
        _flush()
        write_result(result_fd, _failure(exc, "setup"))
        exit_now(0)
    attrs, modules = _snapshot()
    changes = _changes
    try:
        exec(compile(test, "<test>", "exec"), namespace)
    except BaseException as exc:
        _flush()
        write_result(result_fd, _failure(exc, "test"))
        exit_now(0)
    _flush()
    replaced = changes(attrs, modules)
    if replaced:
        write_result(result_fd, {"status": "tampered", "changes": replaced[:20]})
        exit_now(0)
    write_result(result_fd, {"status": "passed", "token": _read_token(token_fd)})
    exit_now(0)


if __name__ == "__main__":
    main(sys.argv[1:])
