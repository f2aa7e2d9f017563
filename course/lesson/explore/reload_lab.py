"""Reload lab: version 1 and version 2 of a module, one reload, the results.

Pure part: :func:`prepare_versions` makes the two texts the same size or
not; :func:`run_reload` imports version 1 of ``lab_module`` in a fresh
interpreter in a throwaway folder, keeps ``X`` (``from lab_module import
X``) and an instance of ``Item``, writes version 2 with an explicit
modification time (``os.utime``: the same whole second as version 1, or
the next one), reloads, and returns a :class:`ReloadOutcome`;
:func:`report` and :func:`report_html` render it. The kernel is untouched.

Widget part: :func:`reload_explorer` (needs ipywidgets).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._ui import Explorer

from ._child import run_child

__all__ = [
    "DEFAULT_V1",
    "DEFAULT_V2",
    "ReloadOutcome",
    "prepare_versions",
    "reload_explorer",
    "report",
    "report_html",
    "run_reload",
]

DEFAULT_V1 = 'X = "one"\n\n\nclass Item:\n    pass\n'
DEFAULT_V2 = 'X = "two"\n\n\nclass Item:\n    pass\n'

#: A whole second (14 November 2023), in nanoseconds: version 1 is written
#: 0.1 s into it, version 2 at 0.9 s (same second) or 1.1 s (the next one).
SECOND_NS = 1_700_000_000 * 10**9
_V1_AT = SECOND_NS + 100_000_000
_SAME_SECOND_AT = SECOND_NS + 900_000_000
_NEXT_SECOND_AT = SECOND_NS + 1_100_000_000


@dataclass(frozen=True)
class ReloadOutcome:
    """What one experiment did and showed.

    Sizes are in bytes; ``x`` is ``repr(lab_module.X)`` after the reload and
    ``from_imported`` that of the ``X`` bound by ``from lab_module import X``
    before it (None: no ``X``); ``isinstance_old`` is
    ``isinstance(old_item, lab_module.Item)`` (None: no class ``Item``);
    ``reload_read`` is ``"pyc"`` when the reload ran the cached bytecode
    without reading the source, ``"source"`` when it compiled the source;
    ``stale`` is True when that bytecode came from version 1 and the texts
    differ; ``v1_error`` / ``v2_error`` name an exception that the import or
    the reload raised.
    """

    size1: int
    size2: int
    same_second: bool
    bytecode: bool
    v1_error: str | None = None
    v2_error: str | None = None
    pyc_written: bool = False
    x: str | None = None
    from_imported: str | None = None
    isinstance_old: bool | None = None
    reload_read: str | None = None
    stale: bool = False


def _pad(text: str, size: int) -> str:
    """``text`` (ending in a newline) made ``size`` bytes long with a comment line."""
    missing = size - len(text.encode())
    if missing <= 0:
        return text
    return text + ("#" * (missing - 1)) + "\n"


def prepare_versions(v1: str, v2: str, *, same_size: bool) -> tuple[str, str]:
    """The two texts as they will be written (pure).

    Each ends with a newline. With ``same_size`` the shorter one gets a
    comment line that makes both the same number of bytes; without it,
    equal sizes are made different by one more newline on version 2.
    """
    v1 = v1 if v1.endswith("\n") else v1 + "\n"
    v2 = v2 if v2.endswith("\n") else v2 + "\n"
    size1, size2 = len(v1.encode()), len(v2.encode())
    if same_size:
        return _pad(v1, size2), _pad(v2, size1)
    if size1 == size2:
        v2 += "\n"
    return v1, v2


def run_reload(
    v1: str,
    v2: str,
    *,
    same_size: bool,
    same_second: bool,
    bytecode: bool,
    timeout: float = 30,
) -> ReloadOutcome:
    """Run the experiment in a fresh interpreter in a throwaway folder.

    The child is ``python -S -c <experiment>`` (no ``site``: it needs only
    the standard library). Bytecode writing is set explicitly in it (never
    left to ``PYTHONDONTWRITEBYTECODE``). Side effects: a temporary folder
    is made and removed; nothing in this process changes.
    """
    text1, text2 = prepare_versions(v1, v2, same_size=same_size)
    config = {
        "v1": text1,
        "v2": text2,
        "mtime1_ns": _V1_AT,
        "mtime2_ns": _SAME_SECOND_AT if same_second else _NEXT_SECOND_AT,
        "bytecode": bytecode,
    }
    child = Path(__file__).with_name("_reload_child.py").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="course-reload-lab-") as folder:
        # -S: no site, so no .pth file of the student's environment can
        # interfere, and the child starts faster; it needs only the stdlib.
        raw = run_child(
            ["-S", "-c", child, json.dumps(config)],
            cwd=folder,
            timeout=timeout,
            what="the reload lab",
        )
    base = {
        "size1": len(text1.encode()),
        "size2": len(text2.encode()),
        "same_second": same_second,
        "bytecode": bytecode,
    }
    if raw["v1_error"]:
        return ReloadOutcome(**base, v1_error=raw["v1_error"])
    reads = raw["reads"]
    read = "source" if "source" in reads else "pyc" if "pyc" in reads else None
    return ReloadOutcome(
        **base,
        v2_error=raw["v2_error"],
        pyc_written=raw["pyc_after_v1"] is not None,
        x=raw["x"],
        from_imported=raw["from_imported"],
        isinstance_old=raw["isinstance"],
        reload_read=read,
        stale=read == "pyc" and text1 != text2,
    )


def _versions_line(out: ReloadOutcome) -> str:
    size = "same size" if out.size1 == out.size2 else "different sizes"
    when = (
        "0.8 s later, in the same whole second"
        if out.same_second
        else "1.0 s later, in the next second"
    )
    return f"v1: {out.size1} bytes; v2: {out.size2} bytes ({size}), written {when}"


def _what_ran(out: ReloadOutcome) -> str:
    if out.reload_read == "pyc":
        if out.stale:
            return "the STALE .pyc compiled from v1 (the source was not read): old code ran"
        return "the .pyc from v1 (the texts are identical, so no harm)"
    if out.reload_read == "source":
        return "v2's source, compiled afresh"
    return "nothing was read (the reload failed before loading)"


def _rows(out: ReloadOutcome) -> list[tuple[str, str]]:
    isinstance_text = "no class Item" if out.isinstance_old is None else str(out.isinstance_old)
    return [
        ("lab_module.X after the reload", out.x or "no X"),
        ("X from `from lab_module import X` (before)", out.from_imported or "no X"),
        ("isinstance(old_item, lab_module.Item)", isinstance_text),
        ("the reload ran", _what_ran(out)),
    ]


def report(out: ReloadOutcome) -> str:
    """The outcome as plain text (pure)."""
    pyc = (
        "on: importing v1 saved a .pyc in __pycache__"
        if out.pyc_written
        else "on, but importing v1 saved no .pyc"
        if out.bytecode
        else "off: no .pyc is written"
    )
    lines = [_versions_line(out), f"bytecode writing {pyc}"]
    if out.v1_error:
        return "\n".join([*lines, f"importing v1 raised {out.v1_error}"])
    if out.v2_error:
        lines.append(f"the reload raised {out.v2_error}")
    width = max(len(label) for label, _ in _rows(out))
    lines += [f"{label:<{width}}  {value}" for label, value in _rows(out)]
    return "\n".join(lines)


def report_html(out: ReloadOutcome) -> str:
    """The outcome as an HTML fragment for the widget (pure)."""
    head = (
        escape(_versions_line(out))
        + "<br>"
        + ("bytecode writing on" if out.bytecode else "bytecode writing off")
    )
    if out.v1_error:
        return f"<div>{head}<br><b>importing v1 raised {escape(out.v1_error)}</b></div>"
    error = f"<br><b>the reload raised {escape(out.v2_error)}</b>" if out.v2_error else ""
    rows = "".join(
        f"<tr><td><code>{escape(label)}</code></td><td>{escape(value)}</td></tr>"
        for label, value in _rows(out)
    )
    colour = "#fdecea" if out.stale else "#e6f4ea"
    return f"<div style='background:{colour}'>{head}{error}<table>{rows}</table></div>"


def reload_explorer(
    v1: str = DEFAULT_V1,
    v2: str = DEFAULT_V2,
    *,
    same_size: bool = True,
    same_second: bool = True,
    bytecode: bool = True,
) -> Explorer:
    """An explorer widget: edit v1 and v2, tick the options, see the reload.

    The main control is the "bytecode on" ``Checkbox``; every change reruns
    the experiment in a fresh interpreter (the text areas when they lose
    focus).
    """
    from ._ui import Explorer, widgets

    layout = widgets.Layout(width="45%", height="9em")
    box1 = widgets.Textarea(value=v1, description="v1", continuous_update=False, layout=layout)
    box2 = widgets.Textarea(value=v2, description="v2", continuous_update=False, layout=layout)
    size = widgets.Checkbox(value=same_size, description="same size")
    second = widgets.Checkbox(value=same_second, description="same second")
    code = widgets.Checkbox(value=bytecode, description="bytecode on")

    def compute() -> ReloadOutcome:
        return run_reload(
            box1.value,
            box2.value,
            same_size=size.value,
            same_second=second.value,
            bytecode=code.value,
        )

    return Explorer(
        control=code,
        inputs=[widgets.HBox([box1, box2]), widgets.HBox([size, second, code])],
        watch=[box1, box2, size, second, code],
        compute=compute,
        to_text=report,
        to_html=report_html,
    )
