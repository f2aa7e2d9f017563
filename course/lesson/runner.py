"""Run one graded check in a fresh interpreter: the grader's side of the sandbox.

The grader (:mod:`course.grading.execute`) starts ``python -m
course.lesson.runner`` in the sandbox for each graded test cell, with a
number of extra pipes: several *token* pipes, each holding a random secret,
and as many *result* pipes. Only one of each is real; the others are decoys.
It writes a *job* to the runner's standard input and closes it. The job is
JSON::

    {"setup": "<the lesson's set-up cell>",
     "answers": [["geometry.py", "<the student's cell body>", false], ...],
     "test": "<the test cell, hidden checks included>",
     "fds": [RESULT_FD, TOKEN_FD]}

The runner

1. reads the job, then points standard input at ``/dev/null``;
2. installs an audit hook (:pep:`578`; it cannot be removed) that refuses
   what no lesson needs and a tamperer would: tracing and profiling hooks
   (``sys.settrace``, ``sys.setprofile``, ``sys.monitoring``), ``ctypes``,
   the garbage collector's object graph, other threads' frames and the
   process's own memory (``/proc/self/mem``); and that
   refuses to hand out frame objects (``sys._getframe``, a traceback's or a
   generator's frame) while code from outside the interpreter's own files,
   the course and the test cell is on the stack, raising ``ValueError``
   (which the standard library's own uses, such as ``namedtuple`` and
   ``logging``, already handle). So the checked code cannot read which of
   the pipes are real from the runner's variables; signal handlers it sets
   receive no frame either;
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
   "token": ...}`` with the secret it reads from TOKEN_FD at that moment
   (signal handlers are reset first).

The grader gives points only for exactly one well-formed ``passed`` line on
the real result pipe carrying the real token, nothing on any decoy, from a
process that exited 0 and wrote nothing on standard error. Nothing the
student's code prints is read. Code that reads every pipe it can find gets
one secret per pipe and cannot tell the real one; a report on a decoy pipe,
or a wrong secret, is recorded as a forged report.

Limits, stated plainly: this is one process, and Python code in it can do
anything the interpreter allows. Code compiled under a forged file name of
the standard library escapes the frame guard; the tripwires
(:mod:`course.grading.tripwires`) flag the usual tools of such an attack for
an instructor's review. Standard library only: this runs on every supported
Python, inside the sandbox.
"""

from __future__ import annotations

import builtins
import contextlib
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


#: Attributes whose reading hands out a frame (audited as ``object.__getattr__``).
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
#: Frames with these file names belong to the check itself.
_CHECK_FILES = ("<test>", "<setup>")


class Refused(ValueError):
    """Raised by the audit hook for a blocked event. A ``ValueError``,
    because that is what the standard library already expects from
    ``sys._getframe`` (namedtuple, enum, typing, logging fall back)."""


def _trusted_roots() -> tuple[str, ...]:
    """Folders whose code is the interpreter's, its environment's or the
    course's own."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../course
    roots = {
        os.path.dirname(here),
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
    }
    return tuple(sorted(os.path.join(os.path.realpath(r), "") for r in roots if r))


_ROOTS = _trusted_roots()
_guard = {"busy": False}


def _trusted(filename: str) -> bool:
    return (
        filename.startswith("<frozen ") or filename in _CHECK_FILES or filename.startswith(_ROOTS)
    )


#: Files never opened while a check runs: a process's own memory.
_MEMORY_FILES = frozenset({"mem", "pagemap", "kcore"})


def _audit(event: str, args: tuple, _getframe: object = sys._getframe) -> None:
    """The runner's audit hook (module docstring)."""
    if event in BLOCKED_EVENTS:
        raise Refused(f"{event} is not allowed while a check runs")
    if event == "open" and args and isinstance(args[0], (str, bytes)):
        name = os.path.basename(os.fsdecode(args[0]).rstrip("/"))
        if name in _MEMORY_FILES:
            raise Refused("a process's memory is not readable while a check runs")
    frame_event = event == "sys._getframe" or (
        event == "object.__getattr__" and len(args) > 1 and args[1] in FRAME_ATTRIBUTES
    )
    if not frame_event or _guard["busy"]:
        return
    _guard["busy"] = True
    try:
        frame = _getframe(1)  # type: ignore[operator]
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename in _CHECK_FILES:
                break
            if not _trusted(filename):
                raise Refused("frames are not handed out to the checked code")
            frame = frame.f_back
    finally:
        _guard["busy"] = False


def _frameless_signals() -> object:
    """Make ``signal.signal`` give handlers no frame (a handler's frame
    argument would be the runner's). Returns the original C function."""
    import _signal
    import signal

    original = _signal.signal

    def guarded(signalnum: int, handler: object) -> object:
        if callable(handler):
            inner = handler

            def handler(signum: int, frame: object, _inner: object = inner) -> object:
                return _inner(signum, None)  # type: ignore[operator]

        else:
            plain = {int(_signal.SIG_DFL): _signal.SIG_DFL, int(_signal.SIG_IGN): _signal.SIG_IGN}
            handler = plain.get(int(handler), handler)  # type: ignore[call-overload]
        return original(int(signalnum), handler)

    signal.signal = guarded  # type: ignore[assignment]
    _signal.signal = guarded  # type: ignore[attr-defined]
    return original


def _reset_signals(original: object) -> None:
    """Put every catchable signal back to its default action."""
    import _signal
    import signal

    for number in range(1, signal.NSIG):
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            original(number, _signal.SIG_DFL)  # type: ignore[operator]


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


def main() -> None:
    """Run the job on standard input; see the module docstring. Never
    returns: ends the process with ``os._exit`` (status 0 when a result was
    reported, 3 when the job itself was unusable)."""
    exit_now, write_result = os._exit, _report  # kept before any student code runs
    try:
        job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        setup, answers, test = job["setup"], job["answers"], job["test"]
        result_fd, token_fd = (int(fd) for fd in job["fds"])
    except (ValueError, KeyError, TypeError) as exc:
        print(f"course.lesson.runner: unusable job: {exc}", file=sys.stderr)
        exit_now(3)
    del job
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.addaudithook(_audit)
    original_signal = _frameless_signals()
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
    _reset_signals(original_signal)
    replaced = changes(attrs, modules)
    if replaced:
        write_result(result_fd, {"status": "tampered", "changes": replaced[:20]})
        exit_now(0)
    write_result(result_fd, {"status": "passed", "token": _read_token(token_fd)})
    exit_now(0)


if __name__ == "__main__":
    main()
