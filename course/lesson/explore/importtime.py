"""Import-time tree: ``python -X importtime -c "import X"`` as a tree.

Pure part: :func:`parse_importtime` turns the report (stderr) into a list
of root :class:`ImportNode` trees with self and cumulative microseconds;
:func:`measure` runs the subprocess and parses it; :func:`rows` flattens a
tree (in import order or sorted); :func:`report` and :func:`report_html`
render it as a text table, an indented tree or HTML bars (no matplotlib).

Widget part: :func:`importtime_explorer` (needs ipywidgets).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._ui import Explorer

from ._child import run_child

__all__ = [
    "VIEWS",
    "ImportNode",
    "ImportTimes",
    "importtime_explorer",
    "measure",
    "parse_importtime",
    "report",
    "report_html",
    "rows",
]

#: The ways to show a measurement: key -> label.
VIEWS = {
    "tree": "tree",
    "cumulative": "sorted by cumulative",
    "self": "sorted by self",
    "bars": "bars",
}


@dataclass
class ImportNode:
    """One imported module: its own time and that of everything it imported
    (microseconds), and the modules it imported, in the order they finished."""

    name: str
    self_us: int
    cumulative_us: int
    children: list[ImportNode] = field(default_factory=list)

    def walk(self, depth: int = 0):
        """Yield ``(depth, node)`` for this node and its descendants, parents first."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


@dataclass(frozen=True)
class ImportTimes:
    """A measurement: the statement run and the trees it produced (the
    modules imported at start-up are roots too)."""

    statement: str
    roots: tuple[ImportNode, ...]

    def find(self, name: str) -> ImportNode | None:
        """The node of module ``name`` (None if it was not imported)."""
        for root in self.roots:
            for _, node in root.walk():
                if node.name == name:
                    return node
        return None


def parse_importtime(stderr: str) -> list[ImportNode]:
    """The trees of an ``-X importtime`` report, roots in import order (pure).

    Each line is ``import time: self | cumulative | <indent>name``; a
    module's line follows the lines of the modules it imported, which are
    one indentation step (two spaces) deeper. Other lines (the header,
    warnings) are skipped.
    """
    pending: list[tuple[int, ImportNode]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        self_us, cumulative_us, name = parts
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        node = ImportNode(name.strip(), int(self_us), int(cumulative_us))
        while pending and pending[-1][0] > depth:
            node.children.insert(0, pending.pop()[1])
        pending.append((depth, node))
    return [node for _, node in pending]


def measure(
    statement: str, *, cwd: str | os.PathLike[str] | None = None, timeout: float = 60
) -> ImportTimes:
    """Run ``python -X importtime -c statement`` in a fresh interpreter
    (``sys.executable``, ``cwd`` or the current folder, minimal environment,
    timeout) and parse its report. Raises RuntimeError if the statement
    fails. No side effects in this process."""
    result = run_child(
        ["-X", "importtime", "-c", statement],
        cwd=os.getcwd() if cwd is None else cwd,
        timeout=timeout,
        what=repr(statement),
        report="process",
        skip="import time:",
    )
    return ImportTimes(statement, tuple(parse_importtime(result.stderr)))


def rows(node: ImportNode, view: str = "tree") -> list[tuple[int, ImportNode]]:
    """``(depth, node)`` for ``node`` and its descendants (pure): parents
    first in import order for ``"tree"``, else sorted by ``"cumulative"`` or
    ``"self"`` time, largest first (depth then 0)."""
    everything = list(node.walk())
    if view == "tree":
        return everything
    key = "cumulative_us" if view in ("cumulative", "bars") else "self_us"
    ordered = sorted((n for _, n in everything), key=lambda n: getattr(n, key), reverse=True)
    return [(0, n) for n in ordered]


def report(times: ImportTimes, module: str, view: str = "tree", limit: int = 15) -> str:
    """Text: the tree under ``module`` (or a sorted table) (pure).

    Times are in seconds, cut to tenths (as lesson 10's own table), so the
    text reads the same from run to run and stored notebook outputs do not
    change at each recording; the widget shows milliseconds.
    """
    node = times.find(module)
    if node is None:
        return f"{times.statement}: no line for {module} (was it imported already at start-up?)"
    shown = rows(node, view)
    lines = [
        f"python -X importtime -c {times.statement!r}: {len(shown)} modules under {module}, "
        f"{VIEWS.get(view, view)}",
        f"{'cumulative':>10} {'self':>6}  module   (seconds, cut to tenths)",
    ]
    for depth, n in shown[:limit]:
        lines.append(
            f"{n.cumulative_us // 100_000 / 10:>10} {n.self_us // 100_000 / 10:>6}  "
            f"{'  ' * depth}{n.name}"
        )
    if len(shown) > limit:
        lines.append(f"... and {len(shown) - limit} more")
    return "\n".join(lines)


def report_html(times: ImportTimes, module: str, view: str = "tree", limit: int = 40) -> str:
    """HTML: a table, or bars whose widths show the times (pure)."""
    node = times.find(module)
    if node is None:
        return f"<div>{escape(report(times, module, view))}</div>"
    shown = rows(node, view)[:limit]
    total = max(node.cumulative_us, 1)
    head = f"<b>python -X importtime -c {escape(repr(times.statement))}</b>"
    if view == "bars":
        bars = []
        for _, n in shown:
            whole = 60 * n.cumulative_us / total  # the longest bar: 60% of the width
            own = 100 * n.self_us / max(n.cumulative_us, 1)  # share of the bar
            bars.append(
                "<div style='display:flex;align-items:center;font-family:monospace'>"
                f"<span style='width:16em;overflow:hidden'>{escape(n.name)}</span>"
                f"<span style='width:{whole:.1f}%;background:#9ecae1;height:1em;"
                f"position:relative'><span style='position:absolute;left:0;top:0;height:1em;"
                f"width:{min(own, 100):.1f}%;background:#3182bd'></span></span>"
                f"<span>&nbsp;{n.cumulative_us / 1000:.1f} ms</span></div>"
            )
        legend = "dark: self time; light: time in the modules it imported"
        return f"<div>{head}<br>{legend}{''.join(bars)}</div>"
    body = "".join(
        f"<tr><td style='text-align:right'>{n.cumulative_us / 1000:.1f}</td>"
        f"<td style='text-align:right'>{n.self_us / 1000:.1f}</td>"
        f"<td style='font-family:monospace;padding-left:{1.5 * depth:.1f}em'>{escape(n.name)}</td></tr>"
        for depth, n in shown
    )
    return (
        f"<div>{head}<table><tr><th>cumulative ms</th><th>self ms</th><th>module</th></tr>"
        f"{body}</table></div>"
    )


def importtime_explorer(
    modules: Sequence[str] = ("json", "email.message", "urllib.request"), view: str = "tree"
) -> Explorer:
    """An explorer widget: pick a module, see what importing it costs.

    The main control is the module ``Dropdown``; ``ToggleButtons`` switch
    between the tree, the two sorted tables and bars. Each module is
    measured in a fresh interpreter when it is first picked.
    """
    from ._ui import Explorer, widgets

    measured: dict[str, ImportTimes] = {}
    pick = widgets.Dropdown(options=list(modules), value=modules[0], description="import")
    show = widgets.ToggleButtons(
        options=[(label, key) for key, label in VIEWS.items()], value=view, description="show"
    )

    def compute() -> tuple[ImportTimes, str, str]:
        if pick.value not in measured:
            measured[pick.value] = measure(f"import {pick.value}")
        return measured[pick.value], pick.value, show.value

    return Explorer(
        control=pick,
        inputs=[pick, show],
        watch=[pick, show],
        compute=compute,
        to_text=lambda state: report(*state),
        to_html=lambda state: report_html(*state),
    )
