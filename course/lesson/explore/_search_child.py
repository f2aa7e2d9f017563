"""Trace where ``import name`` would look, in the running interpreter.

Standard library only, and self-contained: :mod:`course.lesson.explore.search_order`
imports it to trace the kernel, and also runs this file's *source* as a
script in a fresh interpreter (started in the folder of the script being
imported for), where it prints the trace as JSON.

Nothing is imported: each finder is asked for a spec, as
``importlib.util.find_spec`` would, and no module code runs. Side effects:
``PathFinder`` fills ``sys.path_importer_cache`` for the entries it had not
met yet, exactly as a real import would. Finders that are not Python's own
(installed by tools such as setuptools) are listed but never asked, since
some of them act on the names they are asked about.
"""

import sys

#: Modules present before this file imported anything (in a child process:
#: what a script's first line sees in sys.modules).
AT_START = frozenset(sys.modules)

import importlib.machinery  # noqa: E402
import os  # noqa: E402
import sysconfig  # noqa: E402

_OWN_MODULES = ("_frozen_importlib", "_frozen_importlib_external")


def _finder_name(finder):
    return finder.__name__ if isinstance(finder, type) else type(finder).__name__


def _is_own(finder):
    owner = finder if isinstance(finder, type) else type(finder)
    return owner.__module__ in _OWN_MODULES


def _entry_spec(name, entry):
    """What PathFinder finds for ``name`` in the one entry ``entry``."""
    spec = importlib.machinery.PathFinder.find_spec(name, [entry])
    if spec is None:
        return None, None, []
    locations = list(spec.submodule_search_locations or [])
    if spec.origin is None or spec.origin == "namespace":
        return "namespace", None, locations
    return "module", spec.origin, locations


def trace(name, already_loaded=None):
    """A JSON-ready dict describing how ``import name`` would be resolved.

    ``name`` is a top-level module name. ``already_loaded`` is the set of
    names to report as cached in ``sys.modules`` (default: ``sys.modules``).
    """
    loaded = sys.modules if already_loaded is None else already_loaded
    finders, entries = [], []
    for finder in sys.meta_path:
        own = _is_own(finder)
        row = {"finder": _finder_name(finder), "own": own, "found": False, "origin": None}
        finders.append(row)
        if not own:
            continue
        if row["finder"] == "PathFinder":
            for entry in sys.path:
                kind, origin, locations = _entry_spec(name, entry)
                entries.append(
                    {
                        "entry": entry,
                        "absolute": os.path.abspath(entry or os.curdir),
                        "kind": kind,
                        "origin": origin,
                        "locations": locations,
                    }
                )
            modules = [e for e in entries if e["kind"] == "module"]
            portions = [loc for e in entries if e["kind"] == "namespace" for loc in e["locations"]]
            if modules:
                row["found"], row["origin"] = True, modules[0]["origin"]
            elif portions:
                row["found"], row["origin"] = True, None
        else:
            spec = finder.find_spec(name)
            if spec is not None:
                row["found"], row["origin"] = True, spec.origin
    return {
        "name": name,
        "in_sys_modules": name in loaded,
        "finders": finders,
        "entries": entries,
        "cwd": os.getcwd(),
        "stdlib": os.path.abspath(sysconfig.get_paths()["stdlib"]),
        "platstdlib": os.path.abspath(sysconfig.get_paths()["platstdlib"]),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(trace(sys.argv[1], AT_START)))
