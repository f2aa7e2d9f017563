"""Record the start and finish events of an import, cycle included.

Standard library only and self-contained: :mod:`course.lesson.explore.circular`
runs this file's source with ``python -c`` in the folder that holds the
modules (so ``sys.path[0]`` is ``''``, that folder) and reads the JSON it
prints last. The one argument is the module to import.

How: a finder put first on ``sys.meta_path`` asks the other finders for a
spec and, for modules whose file is in the folder, wraps the loader's
``exec_module`` to record "start", then "finish" or "fail"; a wrapper
around ``builtins.__import__`` records an import that finds a module of
the folder in ``sys.modules`` while that module is still running
("partial"). Every event carries each module's state and namespace (names
without ``__dunder__``) at that moment, and what the modules printed so
far (their output is captured, not shown). Bytecode writing is off, so
the folder is left as it was.
"""

import builtins
import contextlib
import importlib
import importlib.util
import io
import json
import linecache
import os
import sys

FOLDER = os.path.realpath(os.getcwd())
EVENTS = []
STATES = {}
MODULES = {}
OUTPUT = io.StringIO()


def _names(module):
    return sorted(n for n in vars(module) if not (n.startswith("__") and n.endswith("__")))


def record(kind, module, **extra):
    """Append one event with a snapshot of every module of the folder."""
    EVENTS.append(
        {
            "kind": kind,
            "module": module,
            "states": dict(STATES),
            "namespaces": {name: _names(m) for name, m in MODULES.items()},
            "printed": OUTPUT.getvalue().splitlines(),
            **extra,
        }
    )


def _line_in(module, traceback):
    """The last traceback line that ran in ``module``'s file: number and code."""
    file = getattr(module, "__file__", None)
    found = None
    while traceback is not None:
        if file and os.path.realpath(traceback.tb_frame.f_code.co_filename) == os.path.realpath(
            file
        ):
            number = traceback.tb_lineno
            found = {
                "file": os.path.basename(file),
                "line": number,
                "code": linecache.getline(file, number).strip(),
            }
        traceback = traceback.tb_next
    return found


def _inside(origin):
    """Is the file ``origin`` in the folder (or a folder below it)?"""
    if not origin or not os.path.isabs(origin):
        return False
    where = os.path.realpath(os.path.dirname(origin))
    return os.path.commonpath([FOLDER, where]) == FOLDER


def _wrap(name, loader):
    run = loader.exec_module

    def exec_module(module):
        MODULES[name] = module
        STATES[name] = "importing"
        record("start", name)
        try:
            run(module)
        except BaseException as exc:
            STATES[name] = "failed"
            record(
                "fail", name, error=type(exc).__name__, where=_line_in(module, exc.__traceback__)
            )
            raise
        STATES[name] = "done"
        record("finish", name)

    loader.exec_module = exec_module


class Recorder:
    """A meta path finder that wraps the loaders of the folder's modules."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is cls or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if _inside(spec.origin) and hasattr(spec.loader, "exec_module"):
            _wrap(name, spec.loader)
        return spec


_real_import = builtins.__import__


def _recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__")
    target = name
    if level:
        try:
            target = importlib.util.resolve_name(
                "." * level + name, (globals or {}).get("__package__")
            )
        except (ImportError, ValueError):
            target = None
    if importer in STATES and STATES.get(target) == "importing":
        statement = (
            f"from {'.' * level}{name} import {', '.join(fromlist)}"
            if fromlist
            else f"import {'.' * level}{name}"
        )
        record("partial", target, importer=importer, statement=statement)
    return _real_import(name, globals, locals, fromlist, level)


def main(entry):
    """Import ``entry`` while recording; return the events as a dict."""
    sys.dont_write_bytecode = True
    sys.meta_path.insert(0, Recorder)
    builtins.__import__ = _recording_import
    error = None
    try:
        with contextlib.redirect_stdout(OUTPUT):
            importlib.import_module(entry)
    except Exception as exc:
        error = type(exc).__name__
    finally:
        builtins.__import__ = _real_import
        sys.meta_path.remove(Recorder)
    return {"entry": entry, "events": EVENTS, "error": error, "order": list(MODULES)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
