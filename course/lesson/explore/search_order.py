"""Search-order explorer: where does ``import name`` look, and what wins?

Pure part: :func:`trace_kernel` traces the running interpreter,
:func:`trace_script` traces the ``sys.path`` of ``python script.py`` in a
fresh interpreter; both return a :class:`SearchTrace`, which
:func:`report` turns into text and :func:`report_html` into HTML. Nothing
is imported and no module code runs (see :mod:`._search_child`).

Widget part: :func:`search_order_explorer` (needs ipywidgets).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from . import _search_child
from ._child import ChildFailed, run_child

if TYPE_CHECKING:
    from ._ui import Explorer

__all__ = [
    "Candidate",
    "FinderStep",
    "SearchTrace",
    "describe_entry",
    "place",
    "report",
    "report_html",
    "search_order_explorer",
    "trace_kernel",
    "trace_script",
]


@dataclass(frozen=True)
class FinderStep:
    """One finder on ``sys.meta_path``, in order.

    ``own`` is False for finders installed by tools (never asked); ``found``
    says whether the finder has a module of that name.
    """

    finder: str
    own: bool
    found: bool
    origin: str | None


@dataclass(frozen=True)
class Candidate:
    """One ``sys.path`` entry as ``PathFinder`` sees it for the name.

    ``label`` names the entry without machine-specific paths; ``kind`` is
    ``"module"`` (a file or regular package), ``"namespace"`` (a folder
    without ``__init__.py``: a namespace portion) or None (nothing there);
    ``where`` is the origin relative to the entry (``"random.py"``).
    """

    entry: str
    label: str
    kind: str | None
    origin: str | None
    where: str | None


@dataclass(frozen=True)
class SearchTrace:
    """How ``import name`` would be resolved in one interpreter.

    ``how`` says which interpreter (``"this kernel"`` or ``"python
    script.py"``); ``winner_finder`` is the first finder that has the name
    (None: not found), ``winner`` its origin as a label (``"built-in"``,
    ``"frozen"``, ``"random.py in stdlib"``, ``"namespace package"``);
    ``reached`` is the number of ``candidates`` that ``PathFinder`` tries
    before it stops; ``shadowed`` lists the labels of the other modules of
    that name that the winner hides.
    """

    name: str
    how: str
    in_sys_modules: bool
    finders: tuple[FinderStep, ...]
    candidates: tuple[Candidate, ...]
    winner_finder: str | None
    winner: str | None
    reached: int
    shadowed: tuple[str, ...]
    error: str | None = None


def _home() -> Path:
    """The folder that labels are relative to: this kernel's scratch folder
    if a lesson was started (its own name, ``k<pid>``, never shows), else the
    current directory."""
    from ..scratch import scratch_folder

    try:
        return scratch_folder()
    except RuntimeError:
        return Path.cwd()


def describe_entry(entry: str, absolute: str, stdlib: str, platstdlib: str, home: Path) -> str:
    """A machine-independent label for one ``sys.path`` entry (no side effects)."""
    if entry == "":
        return "'' (the current directory)"
    path, std = Path(absolute), Path(stdlib)
    try:
        rel = path.resolve().relative_to(home.resolve())
    except ValueError:
        rel = None
    if rel is not None:
        return rel.as_posix()
    if path.suffix == ".zip" and path.parent == std.parent:
        return "stdlib zip"
    if path == std:
        return "stdlib"
    if path.name == "lib-dynload" and path.parent in (std, Path(platstdlib)):
        return "lib-dynload"
    if path.name in ("site-packages", "dist-packages"):
        return "site-packages"
    return str(path)


def _where(origin: str | None, absolute: str) -> str | None:
    if origin is None:
        return None
    try:
        return PurePath(origin).relative_to(absolute).as_posix()
    except ValueError:
        return PurePath(origin).name


def place(candidate: Candidate) -> str:
    """Where a candidate module is: ``"random.py in stdlib"`` (pure)."""
    return f"{candidate.where} in {candidate.label}"


def from_raw(raw: dict, how: str, home: Path | None = None) -> SearchTrace:
    """Build a :class:`SearchTrace` from the dict that ``_search_child.trace``
    returns (pure)."""
    home = _home() if home is None else home
    finders = tuple(
        FinderStep(f["finder"], f["own"], f["found"], f["origin"]) for f in raw["finders"]
    )
    candidates = tuple(
        Candidate(
            entry=e["entry"],
            label=describe_entry(e["entry"], e["absolute"], raw["stdlib"], raw["platstdlib"], home),
            kind=e["kind"],
            origin=e["origin"],
            where=_where(e["origin"], e["absolute"]),
        )
        for e in raw["entries"]
    )
    winner_finder = next((f.finder for f in finders if f.own and f.found), None)
    modules = [c for c in candidates if c.kind == "module"]
    winner: str | None = None
    reached = len(candidates)
    if winner_finder == "PathFinder":
        if modules:
            first = modules[0]
            winner = place(first)
            reached = candidates.index(first) + 1
        else:
            winner = "namespace package"
    elif winner_finder is not None:
        origin = next(f.origin for f in finders if f.finder == winner_finder)
        winner = origin or winner_finder
        reached = 0
    shadowed = tuple(place(c) for c in modules if place(c) != winner)
    return SearchTrace(
        name=raw["name"],
        how=how,
        in_sys_modules=raw["in_sys_modules"],
        finders=finders,
        candidates=candidates,
        winner_finder=winner_finder,
        winner=winner,
        reached=reached,
        shadowed=shadowed,
    )


def _check_name(name: str) -> str | None:
    """An error message if ``name`` is not a top-level module name."""
    if not name:
        return "type a module name"
    if not all(part.isidentifier() for part in name.split(".")):
        return f"{name!r} is not a module name"
    if "." in name:
        return (
            f"{name!r} is a submodule: import looks for it in its package's __path__, "
            f"not on sys.path; try {name.split('.')[0]!r}"
        )
    return None


def _failed(name: str, how: str, error: str) -> SearchTrace:
    return SearchTrace(name, how, False, (), (), None, None, 0, (), error)


def trace_kernel(name: str) -> SearchTrace:
    """Trace ``import name`` in this interpreter (the kernel).

    Side effects: none beyond a real import's (``sys.path_importer_cache``
    may gain entries); the module is not imported.
    """
    error = _check_name(name)
    if error:
        return _failed(name, "this kernel", error)
    return from_raw(_search_child.trace(name), "this kernel")


def trace_script(name: str, script: str | os.PathLike[str], *, timeout: float = 30) -> SearchTrace:
    """Trace ``import name`` as the first line of ``python script`` would.

    The trace runs in a fresh interpreter (``sys.executable``, minimal
    environment, timeout) started the way ``python script`` is: as a script
    in the script's folder, so that ``sys.path[0]`` is that folder. The
    script itself never runs.

    Side effects: a hidden file (``.course-trace-<random>.py``, a name no
    import can find) is written into the script's folder and deleted again.
    """
    how = f"python {PurePath(script).as_posix()}"
    error = _check_name(name)
    if error:
        return _failed(name, how, error)
    folder = Path(script).resolve().parent
    if not folder.is_dir():
        return _failed(name, how, f"no folder {folder.name!r} for the script")
    tracer = folder / f".course-trace-{secrets.token_hex(4)}.py"
    try:
        tracer.write_text(Path(_search_child.__file__).read_text(encoding="utf-8"), "utf-8")
        raw = run_child([tracer.name, name], cwd=folder, timeout=timeout, what="the trace")
    except OSError as exc:
        return _failed(name, how, f"could not run the trace: {exc}")
    except ChildFailed as exc:
        return _failed(name, how, str(exc))
    finally:
        tracer.unlink(missing_ok=True)
    return from_raw(raw, how)


def _not_found(trace: SearchTrace) -> str:
    others = [f.finder for f in trace.finders if not f.own]
    if others:
        return (
            f"Not found by Python's own finders. Other finders on sys.meta_path "
            f"({', '.join(others)}) were not asked: one of them may still provide "
            f"{trace.name}; if none does, import {trace.name} raises ModuleNotFoundError."
        )
    return f"Not found: import {trace.name} raises ModuleNotFoundError."


def report(trace: SearchTrace) -> str:
    """The trace as plain text, free of machine-specific paths (pure)."""
    lines = [f"import {trace.name}  ({trace.how})"]
    if trace.error:
        return "\n".join([*lines, trace.error])
    if trace.in_sys_modules:
        lines.append(
            f"sys.modules: {trace.name!r} is already there, so import returns it at once; "
            "a first import would ask:"
        )
    else:
        lines.append(f"sys.modules: no {trace.name!r} yet, so import asks the finders in turn:")
    own = [f for f in trace.finders if f.own]
    for number, step in enumerate(own, start=1):
        if step.finder == "PathFinder":
            lines.append(f"{number}. PathFinder tries each sys.path entry in order:")
            for index, cand in enumerate(trace.candidates):
                found = (
                    "-"
                    if cand.kind is None
                    else f"namespace portion {cand.where or ''}".rstrip()
                    if cand.kind == "namespace"
                    else cand.where or ""
                )
                if cand.kind == "module" and place(cand) == trace.winner:
                    found += "   <- wins"
                elif cand.kind == "module":
                    found += "   (shadowed)"
                note = "" if index < trace.reached else "   [not reached]"
                lines.append(f"   {cand.label:<30} {found}{note}")
        else:
            lines.append(f"{number}. {step.finder:<16} {'found it' if step.found else 'no'}")
        if step.finder == trace.winner_finder:
            break
    if trace.winner is None:
        lines.append(_not_found(trace))
    else:
        lines.append(f"Winner: {trace.winner} (found by {trace.winner_finder})")
    if trace.shadowed:
        lines.append("Shadowed: " + ", ".join(trace.shadowed))
    return "\n".join(lines)


def report_html(trace: SearchTrace) -> str:
    """The trace as an HTML fragment for the widget (pure)."""
    head = f"<b>import {escape(trace.name)}</b> &nbsp;<i>({escape(trace.how)})</i>"
    if trace.error:
        return f"<div>{head}<br><span style='color:#b00'>{escape(trace.error)}</span></div>"
    cached = (
        "already in <code>sys.modules</code>: import returns it at once; a first import would ask:"
        if trace.in_sys_modules
        else "not in <code>sys.modules</code> yet: import asks the finders in turn"
    )
    rows = []
    stopped = False
    for step in trace.finders:
        if not step.own:
            verdict = "<i>installed by a tool: not asked here</i>"
        elif stopped:
            verdict = "<span style='color:#888'>not asked: an earlier finder won</span>"
        elif step.finder == "PathFinder":
            verdict = "found it" if step.found else "no"
        else:
            verdict = f"found it ({escape(step.origin or '')})" if step.found else "no"
        style = " style='background:#e6f4ea'" if step.finder == trace.winner_finder else ""
        rows.append(f"<tr{style}><td>{escape(step.finder)}</td><td>{verdict}</td></tr>")
        if step.own and step.finder == trace.winner_finder:
            stopped = True
    entries = []
    for index, cand in enumerate(trace.candidates):
        label = place(cand)
        if cand.kind is None:
            what, style = "-", ""
        elif cand.kind == "namespace":
            what, style = f"namespace portion {escape(cand.where or '')}", ""
        elif label == trace.winner:
            what, style = f"<b>{escape(cand.where or '')}</b> &larr; wins", "#e6f4ea"
        else:
            what, style = f"{escape(cand.where or '')} (shadowed)", "#fdecea"
        reached = "" if index < trace.reached else " <span style='color:#888'>(not reached)</span>"
        bg = f" style='background:{style}'" if style else ""
        entries.append(
            f"<tr{bg}><td>{index}</td><td title='{escape(cand.entry)}'>{escape(cand.label)}</td>"
            f"<td>{what}{reached}</td></tr>"
        )
    winner = (
        f"<b>Winner:</b> {escape(trace.winner)} (found by {escape(trace.winner_finder or '')})"
        if trace.winner
        else escape(_not_found(trace))
    )
    shadowed = (
        "<br><b>Shadowed:</b> " + ", ".join(escape(s) for s in trace.shadowed)
        if trace.shadowed
        else ""
    )
    return (
        f"<div>{head}<br>{cached}"
        "<table><tr><th>sys.meta_path</th><th></th></tr>" + "".join(rows) + "</table>"
        "<table><tr><th>#</th><th>sys.path entry</th><th>holds</th></tr>"
        + "".join(entries)
        + f"</table>{winner}{shadowed}</div>"
    )


def search_order_explorer(
    name: str = "random", script: str = "script.py", mode: str = "kernel"
) -> Explorer:
    """An explorer widget: type a module name, see the search.

    ``mode`` is ``"kernel"`` (this kernel's ``sys.path``) or ``"script"``
    (``python script`` in a fresh interpreter; the script need not exist,
    only its folder). The main control is the name's ``Text``.
    """
    from ._ui import Explorer, widgets

    kinds = {"kernel": "this kernel", "script": "python script"}
    name_box = widgets.Text(value=name, description="module", continuous_update=True)
    mode_buttons = widgets.ToggleButtons(
        options=[(label, key) for key, label in kinds.items()], value=mode, description="path of"
    )
    script_box = widgets.Text(value=script, description="script", continuous_update=False)

    def compute() -> SearchTrace:
        if mode_buttons.value == "script":
            return trace_script(name_box.value.strip(), script_box.value.strip())
        return trace_kernel(name_box.value.strip())

    return Explorer(
        control=name_box,
        inputs=[widgets.HBox([name_box, mode_buttons]), script_box],
        watch=[name_box, mode_buttons, script_box],
        compute=compute,
        to_text=report,
        to_html=report_html,
    )
