"""Circular-import stepper: the events of a real import cycle, one by one.

Pure part: :func:`record_cycle` imports a module of a folder in a fresh
interpreter, recording every start, finish and failure of the folder's
modules and every import that finds one of them still running (see
:mod:`._cycle_child`), and returns a :class:`CycleTrace`;
:func:`describe` says what one event means; :func:`report` and
:func:`report_html` render the trace at one step.

Widget part: :func:`circular_stepper` (needs ipywidgets).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._ui import Explorer

from ._child import run_child

__all__ = [
    "CycleEvent",
    "CycleTrace",
    "circular_stepper",
    "describe",
    "record_cycle",
    "report",
    "report_html",
]


@dataclass(frozen=True)
class CycleEvent:
    """One step of the import.

    ``kind`` is ``"start"`` (the module's code starts running), ``"finish"``,
    ``"fail"`` (an exception left the module's code: ``error`` names it and
    ``where`` is ``(file, line number, code)`` of its last line that ran), or
    ``"partial"`` (``importer`` ran ``statement`` and got ``module`` from
    ``sys.modules`` while its code was still running). ``states`` and
    ``namespaces`` give every module seen so far: ``"importing"``,
    ``"done"`` or ``"failed"``, and its names without ``__dunder__``s;
    ``printed`` is what the modules have printed so far.
    """

    kind: str
    module: str
    states: dict[str, str]
    namespaces: dict[str, list[str]]
    printed: tuple[str, ...] = ()
    error: str | None = None
    where: tuple[str, int, str] | None = None
    importer: str | None = None
    statement: str | None = None


@dataclass(frozen=True)
class CycleTrace:
    """The events of ``import entry`` run in ``folder`` (a label, relative to
    the current directory), in order, and the exception it raised (None if
    it worked)."""

    folder: str
    entry: str
    events: tuple[CycleEvent, ...]
    error: str | None


def from_raw(raw: dict, folder: str) -> CycleTrace:
    """Build a :class:`CycleTrace` from the child's JSON dict (pure)."""
    events = tuple(
        CycleEvent(
            kind=e["kind"],
            module=e["module"],
            states=dict(e["states"]),
            namespaces={k: list(v) for k, v in e["namespaces"].items()},
            printed=tuple(e["printed"]),
            error=e.get("error"),
            where=(e["where"]["file"], e["where"]["line"], e["where"]["code"])
            if e.get("where")
            else None,
            importer=e.get("importer"),
            statement=e.get("statement"),
        )
        for e in raw["events"]
    )
    return CycleTrace(folder=folder, entry=raw["entry"], events=events, error=raw["error"])


def record_cycle(folder: str | os.PathLike[str], entry: str, *, timeout: float = 30) -> CycleTrace:
    """Run ``import entry`` in a fresh interpreter in ``folder`` and record it.

    The child is ``python -c <recorder> entry`` with ``cwd=folder``, a
    minimal environment and a timeout; bytecode writing is off in it, so
    ``folder`` is left unchanged. No side effects in this process.
    """
    if not entry.replace(".", "_").isidentifier():
        raise ValueError(f"{entry!r} is not a module name")
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"no folder {os.fspath(folder)!r}")
    child = Path(__file__).with_name("_cycle_child.py").read_text(encoding="utf-8")
    raw = run_child(
        ["-c", child, entry],
        cwd=path,
        timeout=timeout,
        what="recording the import",
        report="last-json",
    )
    return from_raw(raw, PurePath(folder).as_posix())


def describe(event: CycleEvent) -> str:
    """One sentence about one event (pure)."""
    if event.kind == "start":
        return f"{event.module} starts: it is in sys.modules now, and its code runs"
    if event.kind == "finish":
        return f"{event.module} finishes: its code ran to the end"
    if event.kind == "partial":
        names = ", ".join(event.namespaces.get(event.module, [])) or "nothing yet"
        return (
            f"{event.importer} runs `{event.statement}`: {event.module} is in sys.modules "
            f"but still running, so {event.importer} gets it partially initialised "
            f"(so far: {names})"
        )
    where = f" at {event.where[0]} line {event.where[1]}: {event.where[2]}" if event.where else ""
    return f"{event.module} fails with {event.error}{where}"


def _failing(trace: CycleTrace) -> CycleEvent | None:
    return next((e for e in trace.events if e.kind == "fail"), None)


def report(trace: CycleTrace, step: int) -> str:
    """All events, the current one marked, and the modules at that step (pure)."""
    lines = [
        f"import {trace.entry}, in a fresh Python in {trace.folder}/: {len(trace.events)} steps"
    ]
    for index, event in enumerate(trace.events):
        mark = ">" if index == step else " "
        lines.append(f"{mark} {index:>2}. {describe(event)}")
    if trace.events:
        current = trace.events[step]
        lines.append(f"At step {step}:")
        width = max(len(name) for name in current.states)
        for name, state in current.states.items():
            names = ", ".join(current.namespaces.get(name, [])) or "(empty)"
            lines.append(f"  {name:<{width}}  {state:<9}  {names}")
    failing = _failing(trace)
    if failing is not None and failing.where:
        lines.append(
            f"Failing line: {failing.where[0]} line {failing.where[1]}: {failing.where[2]}"
        )
    lines.append(
        f"Result: import {trace.entry} worked"
        if trace.error is None
        else f"Result: import {trace.entry} raised {trace.error}"
    )
    return "\n".join(lines)


_COLOURS = {"importing": "#fff4ce", "done": "#e6f4ea", "failed": "#fdecea"}


def report_html(trace: CycleTrace, step: int) -> str:
    """The modules at one step, as an HTML fragment for the widget (pure)."""
    head = f"<b>import {escape(trace.entry)}</b> in <code>{escape(trace.folder)}/</code>"
    if not trace.events:
        return f"<div>{head}: no module of the folder was imported</div>"
    current = trace.events[step]
    rows = "".join(
        f"<tr style='background:{_COLOURS.get(state, '#fff')}'><td><b>{escape(name)}</b></td>"
        f"<td>{escape(state)}</td>"
        f"<td>{escape(', '.join(current.namespaces.get(name, [])) or '(empty)')}</td></tr>"
        for name, state in current.states.items()
    )
    printed = escape("\n".join(current.printed)) or "(nothing yet)"
    result = (
        ""
        if step < len(trace.events) - 1
        else f"<br><b>Result:</b> import {escape(trace.entry)} "
        + ("worked" if trace.error is None else f"raised {escape(trace.error)}")
    )
    return (
        f"<div>{head}<br><b>Step {step} of {len(trace.events) - 1}:</b> "
        f"{escape(describe(current))}"
        "<table><tr><th>module</th><th>state</th><th>namespace at this step</th></tr>"
        f"{rows}</table>printed so far:<pre>{printed}</pre>{result}</div>"
    )


def circular_stepper(folders: Sequence[str] = ("step",), entry: str = "a") -> Explorer:
    """An explorer widget: step through ``import entry`` in one of ``folders``.

    The main control is the step ``IntSlider`` (with Previous / Next
    buttons); a ``Dropdown`` picks the folder when there are several. Each
    folder's import is recorded once, in a fresh interpreter, when it is
    first shown.
    """
    from ._ui import Explorer, widgets

    traces: dict[str, CycleTrace] = {}
    choose = widgets.Dropdown(options=list(folders), value=folders[0], description="folder")

    def current() -> CycleTrace:
        if choose.value not in traces:
            traces[choose.value] = record_cycle(choose.value, entry)
        return traces[choose.value]

    slider = widgets.IntSlider(
        value=0, min=0, max=max(len(current().events) - 1, 0), description="step"
    )
    back = widgets.Button(description="◀ previous", layout=widgets.Layout(width="auto"))
    forward = widgets.Button(description="next ▶", layout=widgets.Layout(width="auto"))
    back.on_click(lambda _: setattr(slider, "value", max(slider.min, slider.value - 1)))
    forward.on_click(lambda _: setattr(slider, "value", min(slider.max, slider.value + 1)))
    inputs = [widgets.HBox([back, slider, forward])]
    if len(folders) > 1:
        inputs.insert(0, choose)
    explorer = Explorer(
        control=slider,
        inputs=inputs,
        watch=[slider],
        compute=lambda: (current(), min(slider.value, len(current().events) - 1)),
        to_text=lambda state: report(*state),
        to_html=lambda state: report_html(*state),
    )

    def new_folder(change: object) -> None:
        slider.value = 0
        try:
            slider.max = max(len(current().events) - 1, 0)
        except Exception:  # refresh() shows the error in the result
            slider.max = 0
        explorer.refresh()

    choose.observe(new_folder, names="value")
    return explorer
