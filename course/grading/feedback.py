"""Feedback for students without the hidden test code (design.md trap 4).

nbgrader's feedback is rendered from the autograded notebook, which holds
the hidden tests in full, and a failing test's traceback quotes the line
that failed. :class:`HideHiddenTests` runs before the HTML export: in each
autograded test cell it replaces the hidden section with one comment line
and each error's traceback with one line saying whether a visible or a
hidden check failed, and its message. Scores (pass/fail per cell) are still
shown by nbgrader's template.
"""

from __future__ import annotations

import os
import re

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbconvert.writers import FilesWriter
from nbgrader.converters import GenerateFeedback
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor

from .. import notebooks as nbs

__all__ = ["FastHTMLExporter", "Feedback", "HideHiddenTests", "hide_hidden_tests"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_LINE = re.compile(r"(?:Cell In\s*\[\d*\]|<ipython-input-[^>]*>),\s*line (\d+)")


def _hidden_range(lines: list[str]) -> tuple[int, int] | None:
    """1-based first and last line numbers of the hidden section."""
    stripped = [ln.strip() for ln in lines]
    if nbs.HIDDEN_BEGIN not in stripped:
        return None
    begin = stripped.index(nbs.HIDDEN_BEGIN) + 1
    end = stripped.index(nbs.HIDDEN_END) + 1 if nbs.HIDDEN_END in stripped else len(lines)
    return begin, end


def _summarise_error(output, lines: list[str], hidden: tuple[int, int] | None) -> list[str]:
    traceback = _ANSI.sub("", "\n".join(output.get("traceback", [])))
    found = _CELL_LINE.search(traceback)
    line_no = int(found.group(1)) if found else None
    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
    if hidden and line_no is not None and hidden[0] <= line_no <= hidden[1]:
        return [f"A hidden check failed. {message}"]
    if line_no is not None and 1 <= line_no <= len(lines):
        return [f"This check failed (line {line_no}: {lines[line_no - 1].strip()}). {message}"]
    return [f"This check failed. {message}"]


def hide_hidden_tests(cell) -> None:
    """Rewrite one autograded test cell in place (see the module docstring)."""
    lines = nbs.cell_text(cell).splitlines()
    hidden = _hidden_range(lines)
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            output["traceback"] = _summarise_error(output, lines, hidden)
    if hidden:
        note = "# (hidden checks ran here; their code is not shown)"
        kept = [*lines[: hidden[0] - 1], note, *lines[hidden[1] :]]
        cell["source"] = "\n".join(kept)


class HideHiddenTests(NbGraderPreprocessor):
    """nbconvert preprocessor: :func:`hide_hidden_tests` on every autograded
    test cell of the notebook."""

    def preprocess_cell(self, cell, resources, index):
        if nbs.is_graded_test(cell):
            hide_hidden_tests(cell)
        return cell, resources


_NO_ALT = re.compile(r"<img(?![^>]*\balt=)")
_FOCUSABLE = re.compile(
    r'<div class="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*"(?![^>]*\btabindex=)'
)


class FastHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter, with its accessibility touches (alt text
    on images that have none, input and output areas focusable) made with
    two regular expressions instead of a BeautifulSoup parse of the whole
    page, which cost 0.2-0.8 s per feedback page."""

    def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[override]
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        page = _NO_ALT.sub('<img alt="No description has been provided for this image"', page)
        page = _FOCUSABLE.sub(lambda m: m.group(0) + ' tabindex="0"', page)
        return page, resources


class Feedback(GenerateFeedback):
    """nbgrader's GenerateFeedback with :class:`HideHiddenTests` in its
    pipeline, and one HTML exporter per process.

    nbgrader builds a new exporter, and with it nbconvert's template
    environment, for every run; a grading worker renders hundreds of pages,
    so the first exporter is kept (in this class) and reused. Everything
    that differs between submissions reaches the preprocessors through
    per-call resources (student, notebook, gradebook), not through the
    exporter.
    """

    _exporter = None
    exporter_class = FastHTMLExporter

    def __init__(self, coursedir=None, **kwargs):
        super().__init__(coursedir=coursedir, **kwargs)
        # NB: HideHiddenTests must come after GetGrades, which reads the
        # grades by cell id, and before the HTML export.
        self.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

    def start(self) -> None:
        # BaseConverter.start, with the exporter built once per process.
        self.init_notebooks()
        self.writer = FilesWriter(parent=self, config=self.config)
        if Feedback._exporter is None:
            exporter = self.exporter_class(parent=self, config=self.config)
            for pp in self.preprocessors:
                exporter.register_preprocessor(pp)
            Feedback._exporter = exporter
        self.exporter = Feedback._exporter
        currdir = os.getcwd()
        os.chdir(self.coursedir.root)
        try:
            self.convert_notebooks()
        finally:
            os.chdir(currdir)
