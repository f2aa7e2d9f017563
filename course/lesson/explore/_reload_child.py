"""Import version 1 of ``lab_module``, rewrite it as version 2, reload it.

Standard library only and self-contained: :mod:`course.lesson.explore.reload_lab`
runs this file's source with ``python -c`` in a scratch folder and reads the
JSON it prints. The one argument is a JSON object: ``v1``, ``v2`` (texts),
``mtime1_ns``, ``mtime2_ns`` (modification times to give each version)
and ``bytecode`` (whether imports may write ``.pyc`` files; set here
explicitly, whatever the environment says).

Side effects (in the child's working folder only): writes ``lab_module.py``
and, with bytecode on, ``__pycache__/``.
"""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import struct
import sys

NAME = "lab_module"
SOURCE = NAME + ".py"
PYC = importlib.util.cache_from_source(SOURCE)
READS = []
_get_data = importlib.machinery.SourceFileLoader.get_data


def _recording_get_data(self, path):
    """SourceFileLoader.get_data, noting which kind of file was read."""
    data = _get_data(self, path)
    READS.append("pyc" if path.endswith(".pyc") else "source")
    return data


def write(text, mtime_ns):
    with open(SOURCE, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    os.utime(SOURCE, ns=(mtime_ns, mtime_ns))
    importlib.invalidate_caches()


def pyc_header():
    if not os.path.exists(PYC):
        return None
    with open(PYC, "rb") as file:
        flags, mtime, size = struct.unpack("<III", file.read(16)[4:16])
    return {"flags": flags, "mtime": mtime, "size": size}


def main(config):
    """Run the experiment; return what happened as a JSON-ready dict."""
    sys.dont_write_bytecode = not config["bytecode"]
    importlib.machinery.SourceFileLoader.get_data = _recording_get_data
    out = {"v1_error": None, "v2_error": None}
    write(config["v1"], config["mtime1_ns"])
    try:
        module = importlib.import_module(NAME)
    except Exception as exc:
        out["v1_error"] = type(exc).__name__
        return out
    missing = object()
    from_imported = getattr(module, "X", missing)
    item_class = getattr(module, "Item", None)
    old_item = item_class() if isinstance(item_class, type) else None
    out["pyc_after_v1"] = pyc_header()
    write(config["v2"], config["mtime2_ns"])
    READS.clear()
    try:
        importlib.reload(module)
    except Exception as exc:
        out["v2_error"] = type(exc).__name__
    out["reads"] = list(READS)
    x = getattr(module, "X", missing)
    out["x"] = None if x is missing else repr(x)
    out["from_imported"] = None if from_imported is missing else repr(from_imported)
    new_class = getattr(module, "Item", None)
    out["isinstance"] = (
        isinstance(old_item, new_class)
        if old_item is not None and isinstance(new_class, type)
        else None
    )
    out["pyc_after_v2"] = pyc_header()
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
