"""Look at a program from the outside: run it as ``python -m`` would, in a
fresh interpreter, and see what it imported and which files it opened.

Lesson 11 (the capstone) checks a student's package the way its users start
it. The plumbing for that would clutter the notebook's cells, so it lives
here:

* :func:`run_main` runs ``python -m PACKAGE ARGS`` in a fresh interpreter
  and also reports the modules that were in ``sys.modules`` when it ended
  (``python -X importtime`` cannot tell: it does not list modules imported
  with ``importlib.import_module``) and the files it opened;
* :func:`run_each` does the same for several command lines, one after the
  other in *one* fresh interpreter (one start-up instead of many), forgetting
  the program's modules between them;
* :func:`package_modules` lists the modules of a package folder from its
  files, without importing any of them, so that a test can import each one
  first in a fresh interpreter;
* :func:`summary` says what a finished program printed and how it exited,
  for a check's message.

Standard library only; side effects are stated in each docstring.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProgramRun", "package_modules", "run_each", "run_main", "summary"]

#: The child's code. ``sys.argv[1:]`` is the report file, the package, the
#: command lines as JSON and the mode. An audit hook (PEP 578) records the
#: paths of the files each run opens. Mode ``one``: run the package once, as
#: ``-m`` does (:func:`runpy.run_module` with ``run_name="__main__"`` and
#: ``alter_sys=True``), with the process's own output; however it ends, the
#: report is written and the ``SystemExit`` or exception then ends the child
#: as it would have ended ``python -m``. Mode ``each``: run every command line
#: in turn with its output captured and its exit status worked out as the
#: interpreter would; between two runs, the modules outside the standard
#: library that the run imported are removed from ``sys.modules`` and
#: ``sys.path`` is restored.
_CHILD = """\
import contextlib, importlib, io, json, runpy, sys, traceback
_report, _package, _commands, _mode = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
_stdlib = sys.stdlib_module_names
_opened = []


def _hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes)):
        _opened.append(args[0] if isinstance(args[0], str) else args[0].decode("utf-8", "replace"))


def _modules():
    return sorted(
        name for name in list(sys.modules)
        if name.partition(".")[0] not in _stdlib and name not in ("__main__", "__mp_main__")
    )


def _run(args):
    sys.argv = [_package, *args]
    runpy.run_module(_package, run_name="__main__", alter_sys=True)


def _write(results):
    with open(_report, "w", encoding="utf-8") as file:
        json.dump(results, file)


sys.addaudithook(_hook)
if _mode == "one":
    try:
        _run(_commands[0])
    finally:
        _write([{"modules": _modules(), "opened": list(_opened)}])
else:
    _before, _path, _results = set(_modules()), list(sys.path), []
    for _args in _commands:
        del _opened[:]
        _out, _err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(_out), contextlib.redirect_stderr(_err):
            try:
                _run(_args)
                _status = 0
            except SystemExit as _exit:
                _status = _exit.code if isinstance(_exit.code, int) else 0 if _exit.code is None else 1
                if not isinstance(_exit.code, int) and _exit.code is not None:
                    print(_exit.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
                _status = 1
        _results.append(
            {"returncode": _status, "stdout": _out.getvalue(), "stderr": _err.getvalue(),
             "modules": _modules(), "opened": list(_opened)}
        )
        for _name in set(_modules()) - _before:
            del sys.modules[_name]
        sys.path[:] = _path
        importlib.invalidate_caches()
    _write(_results)
"""


@dataclass(frozen=True)
class ProgramRun:
    """How one run of a program ended, what it had imported by then and
    which files it opened.

    ``returncode``, ``stdout`` and ``stderr`` are those of ``python -m``, as
    in :class:`subprocess.CompletedProcess`; ``modules`` holds the names in
    its ``sys.modules`` at the end, sorted, without the standard library's;
    ``opened`` the paths of the files it opened, in order (module source
    files included). Both are empty when the child ended before it could
    report them.
    """

    returncode: int
    stdout: str
    stderr: str
    modules: tuple[str, ...] = ()
    opened: tuple[str, ...] = ()

    def imported(self, package: str) -> tuple[str, ...]:
        """The modules *inside* ``package`` that were imported (its
        submodules and theirs, not ``package`` itself), sorted:
        ``run.imported("wordplay.plugins")`` may be
        ``("wordplay.plugins.upper",)``. No side effects."""
        return tuple(name for name in self.modules if name.startswith(package + "."))


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _probe(
    package: str,
    commands: list[list[str]],
    mode: str,
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
    timeout: float,
) -> tuple[object, list]:
    """Run the child; return the finished process and the report's list."""
    from . import run_python

    handle, report = tempfile.mkstemp(prefix="course-probe-", suffix=".json")
    os.close(handle)
    try:
        done = run_python(
            ["-B", "-c", _CHILD, report, package, json.dumps(commands), mode],
            cwd=cwd,
            env=env,
            timeout=timeout,
        )
        try:
            results = json.loads(Path(report).read_text(encoding="utf-8") or "[]")
        except (OSError, ValueError):
            results = []
    finally:
        Path(report).unlink(missing_ok=True)
    return done, results if isinstance(results, list) else []


def run_main(
    package: str,
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> ProgramRun:
    """Run ``python -B -m package *args`` in a fresh interpreter and return a
    :class:`ProgramRun` with the modules it had imported when it ended.

    The child is started by :func:`course.lesson.run_python` (this notebook's
    Python, the folder ``cwd``, a minimal environment plus ``env``, empty
    standard input, a timeout). It runs the package's ``__main__`` as ``-m``
    does, with :func:`runpy.run_module`; its exit status, standard output
    and standard error are those of ``python -m``. ``-B``: no
    ``__pycache__`` folders are written into the package.

    Side effects: a temporary report file is written and removed again
    (in :func:`tempfile.gettempdir`, not in ``cwd``).
    """
    done, results = _probe(package, [list(args)], "one", cwd, env, timeout)
    first = results[0] if results and isinstance(results[0], dict) else {}
    return ProgramRun(
        done.returncode,  # type: ignore[attr-defined]
        done.stdout,  # type: ignore[attr-defined]
        done.stderr,  # type: ignore[attr-defined]
        _strings(first.get("modules")),
        _strings(first.get("opened")),
    )


def run_each(
    package: str,
    commands: Iterable[Sequence[str]],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> list[ProgramRun]:
    """Run ``python -m package ARGS`` for each ``ARGS`` in ``commands``, one
    after the other in *one* fresh interpreter (started as :func:`run_main`
    starts it), and return a :class:`ProgramRun` per command line.

    Each run's standard output and error are captured in the child
    (``contextlib.redirect_stdout``/``redirect_stderr``), and its exit status
    is what the interpreter would make of how it ended (``sys.exit(n)``,
    an exception: 1 and its traceback). Between two runs, every module
    outside the standard library that the run imported is removed from the
    child's ``sys.modules`` and its ``sys.path`` is restored, so each run
    imports the program anew. When the child itself fails (a program that
    ends the process), each run it did not report gets the child's own exit
    status and output instead: the list always has one item per command line.

    Side effects: a temporary report file is written and removed again.
    """
    commands = [list(args) for args in commands]
    done, results = _probe(package, commands, "each", cwd, env, timeout)
    runs = [
        ProgramRun(
            int(item.get("returncode", 1)),
            str(item.get("stdout", "")),
            str(item.get("stderr", "")),
            _strings(item.get("modules")),
            _strings(item.get("opened")),
        )
        for item in results
        if isinstance(item, dict)
    ]
    child = ProgramRun(done.returncode or 1, done.stdout, done.stderr)  # type: ignore[attr-defined]
    return (runs + [child] * len(commands))[: len(commands)]


def package_modules(folder: str | os.PathLike[str], name: str | None = None) -> list[str]:
    """The dotted names of the modules in the package ``folder``, found from
    its files, sorted: ``"wordplay"`` for ``wordplay/__init__.py``,
    ``"wordplay.plugins.count"`` for ``wordplay/plugins/count.py``, and so
    on for every ``.py`` file below it (``__pycache__`` left out). ``name``
    is the package's name (default: the folder's). Nothing is imported; no
    side effects."""
    root = Path(folder)
    top = name or root.name
    found = set()
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts:
            continue
        parts = [top, *rel.parent.parts]
        if path.stem != "__init__":
            parts.append(path.stem)
        found.add(".".join(parts))
    return sorted(found)


def summary(result: object, *, lines: int = 12) -> str:
    """What a finished program did, as the end of a check's message: ``"it
    printed 'wordplay 1.0.0\\n' and exited with 0"``, followed by the last
    ``lines`` lines of its standard error when it wrote any. ``result`` is a
    :class:`ProgramRun` or a :class:`subprocess.CompletedProcess` with text
    output. No side effects."""
    stdout = getattr(result, "stdout", "")
    stderr = (getattr(result, "stderr", "") or "").rstrip("\n").splitlines()
    text = f"it printed {stdout!r} and exited with {getattr(result, 'returncode', None)}"
    if stderr:
        cut = ["..."] if len(stderr) > lines else []
        text += "; on standard error:\n" + "\n".join(cut + stderr[-lines:])
    return text
