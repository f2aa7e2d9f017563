"""The widget layer shared by the explorers: :class:`Explorer`.

Importing this module imports ipywidgets (the explorers' factories import
it only when called, so ``import course.lesson.explore`` stays cheap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import ipywidgets as widgets
from ipywidgets.widgets import widget as widget_module

__all__ = ["CONTROL_CLASS", "EXPLORER_CLASS", "RESULT_CLASS", "Explorer", "widgets"]

EXPLORER_CLASS = "course-explorer"
CONTROL_CLASS = "course-explorer-control"
RESULT_CLASS = "course-explorer-result"


def _free_model_id() -> str:
    """The first ``course-explorer-N`` that no live widget uses.

    The box's model id is the one widget id in the cell's stored output;
    a predictable one (a fresh kernel numbers its explorers 1, 2, ...)
    keeps the outputs that ``course record`` stores identical from run to
    run. Unique within the kernel, as a comm id must be.
    """
    live = getattr(widget_module, "_instances", {})  # ipywidgets' own registry
    number = 1
    while f"course-explorer-{number}" in live:
        number += 1
    return f"course-explorer-{number}"


class Explorer(widgets.VBox):
    """A VBox of input widgets above an ``HTML`` result, kept up to date.

    ``compute()`` returns the current state (it may run subprocesses);
    ``to_text(state)`` and ``to_html(state)`` render it. Every change of a
    widget in ``watch`` recomputes the state and rewrites the result at
    once. ``control`` is the main input (CSS class ``course-explorer-control``),
    the result has class ``course-explorer-result``, the box ``course-explorer``.

    Displayed, the explorer's mimebundle holds the widget view *and*, as
    ``text/plain``, ``to_text`` of the current state: front ends without
    widgets (nbval, nbgrader, terminals) show that static report.
    An exception in ``compute`` is shown in the result, never raised.
    """

    def __init__(
        self,
        *,
        control: widgets.Widget,
        inputs: Sequence[widgets.Widget],
        watch: Sequence[widgets.Widget],
        compute: Callable[[], Any],
        to_text: Callable[[Any], str],
        to_html: Callable[[Any], str],
    ) -> None:
        self.control = control
        self.result = widgets.HTML()
        self._compute, self._to_text, self._to_html = compute, to_text, to_html
        self.state: Any = None
        self.text = ""
        super().__init__(children=[*inputs, self.result], model_id=_free_model_id())
        self.add_class(EXPLORER_CLASS)
        control.add_class(CONTROL_CLASS)
        self.result.add_class(RESULT_CLASS)
        self.refresh()
        for widget in watch:
            widget.observe(self.refresh, names="value")

    def refresh(self, change: object = None) -> None:
        """Recompute the state and rewrite the result (and the text report)."""
        try:
            self.state = self._compute()
            self.text = self._to_text(self.state)
            html = self._to_html(self.state)
        except Exception as exc:  # shown to the student, not swallowed silently
            self.state = None
            self.text = f"explorer error: {type(exc).__name__}: {exc}"
            html = f"<pre style='color:#b00'>{escape(self.text)}</pre>"
        self.result.value = html

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = self.text
        return data
