"""The instructor report (course.grading.report) on synthetic outcomes, with real
matplotlib; pages are read back with html.parser and their charts decoded."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from PIL import Image

from course import notebooks as nbs
from course.coursedir import Course
from course.grading.console import summary
from course.grading.outcome import CellScore, Outcome, Status
from course.grading.report import lesson_stats, write_reports

from .nbfactory import nbgrader

MANUAL, MISSING = Status.MANUAL, Status.MISSING
LESSON = "01_tiny"
OTHER = "02_other"
EVIL_ID = '<script>alert("pwned")</script>'
EVIL_REASON = "the kernel died [<img src=x onerror=alert(1)> & more]"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Tags, images, text and tables (by id, rows of cell texts) of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "a":
            self.links.append(attrs.get("href") or "")
        elif tag == "table":
            self._table = attrs.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _outcome(student: str, scores: dict[str, float | None], **kw) -> Outcome:
    tops = {"zeta_test": 2.0, "alpha_test": 3.0, "mid_test": 1.0}
    cells = {name: CellScore(score, tops[name]) for name, score in scores.items()}
    return Outcome(student, kw.pop("lesson", LESSON), cells=cells, **kw)


def _class() -> list[Outcome]:
    """Six submissions of LESSON and one of OTHER.

    Pass counts over the five that are not missing: zeta 3 of 4 scored
    (one None), alpha 1 of 5, mid 4 of 5.
    """
    return [
        _outcome("ann", {"zeta_test": 2, "alpha_test": 3, "mid_test": 1}),
        _outcome("bob", {"zeta_test": 2, "alpha_test": 0, "mid_test": 1}),
        _outcome("cy", {"zeta_test": 0, "alpha_test": 1.5, "mid_test": 1}),
        _outcome(
            "dee", {"zeta_test": 2, "alpha_test": 0, "mid_test": 0}, reasons=["1 cell(s) timed out"]
        ),
        _outcome(
            EVIL_ID,
            {"zeta_test": None, "alpha_test": 0, "mid_test": 1},
            status=MANUAL,
            reasons=[EVIL_REASON],
        ),
        _outcome(
            "gone",
            {"zeta_test": 0, "alpha_test": 0, "mid_test": 0},
            status=MISSING,
            reasons=["no notebook was submitted (scored 0)"],
        ),
        _outcome("ann", {"mid_test": 1}, lesson=OTHER),
    ]


def _course(root: Path) -> Course:
    """A course whose LESSON notebook has the cells in the order zeta,
    alpha, mid (not name order); OTHER has no notebook at all."""
    course = Course(root)
    cells = [
        new_code_cell("pass", metadata=nbgrader(name, grade=True, locked=True, points=1))
        for name in ("zeta_test", "alpha_test", "mid_test")
    ]
    path = course.source_notebook(LESSON)
    path.parent.mkdir(parents=True)
    nbs.write(new_notebook(cells=cells), path)
    return course


@pytest.fixture
def written(tmp_path: Path) -> tuple[Course, list[Path]]:
    course = _course(tmp_path / "course")
    return course, write_reports(course, _class())


def _page(course: Course, name: str) -> Page:
    return Page((course.reports / name).read_text(encoding="utf-8"))


def test_one_page_per_lesson_and_an_index_linking_them(written):
    """Is there a page per lesson, and does the index link each one?"""
    course, paths = written
    assert paths == [
        course.reports / f"{LESSON}.html",
        course.reports / f"{OTHER}.html",
        course.reports / "index.html",
    ]
    assert all(p.is_file() for p in paths)
    index = _page(course, "index.html")
    assert index.links == [f"{LESSON}.html", f"{OTHER}.html"]
    rows = index.tables["lessons"]
    assert rows[1][:5] == [LESSON, "6", "4", "1", "1"]


def test_charts_are_embedded_pngs_and_nothing_is_external(written):
    """Do the charts decode as PNG images, with no script and no external file?"""
    course, _ = written
    page = _page(course, f"{LESSON}.html")
    assert len(page.images) == 2
    for img in page.images:
        src = img["src"] or ""
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        data = base64.b64decode(src[len(prefix) :], validate=True)
        assert data.startswith(PNG_MAGIC)
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            assert image.format == "PNG"
            assert image.size[0] == 750  # fixed width: 7.5 in at 100 dpi
        assert img["alt"]
    assert "script" not in page.tags
    assert "link" not in page.tags
    assert page.links == ["index.html"]


def test_student_strings_are_escaped(written):
    """Are student ids and reasons shown as text, never as markup?"""
    course, _ = written
    raw = (course.reports / f"{LESSON}.html").read_text(encoding="utf-8")
    assert EVIL_ID not in raw
    assert "<img src=x" not in raw
    page = _page(course, f"{LESSON}.html")
    assert "script" not in page.tags
    assert len(page.images) == 2  # only the charts
    text = "".join(page.text)
    assert EVIL_ID in text
    assert EVIL_REASON in text


def test_pass_rates_per_cell_in_notebook_order(written):
    """Are pass rates right (missing left out, unscored cells not counted),
    with cells in the notebook's order?"""
    course, _ = written
    rows = _page(course, f"{LESSON}.html").tables["pass-rates"]
    assert rows[0] == ["cell", "points", "passed", "of", "pass rate"]
    assert rows[1:] == [
        ["zeta_test", "2", "3", "4", "75%"],
        ["alpha_test", "3", "1", "5", "20%"],
        ["mid_test", "1", "4", "5", "80%"],
    ]
    text = "".join(_page(course, f"{LESSON}.html").text)
    assert "Hardest for this class: alpha_test, passed by 1 of 5 (20%)" in text


def test_without_a_notebook_cells_are_in_name_order():
    """Without a course, are cells ordered by name?"""
    stats = lesson_stats(LESSON, _class())
    assert [c.name for c in stats.cells] == ["alpha_test", "mid_test", "zeta_test"]


def test_counts_mean_and_median(written):
    """Are the counts, mean and median over the scored submissions only?"""
    course, _ = written
    rows = dict(_page(course, f"{LESSON}.html").tables["counts-table"])
    # scored: ann 6, bob 3, cy 2.5, dee 2 (the manual one has a None, `gone` is missing)
    assert rows == {
        "submissions": "6",
        "graded": "4",
        "needs manual grading": "1",
        "missing": "1",
        "scored (in the statistics)": "4",
        "mean score": "3.38 / 6",
        "median score": "2.75 / 6",
    }


def test_triage_lists_manual_missing_and_graded_with_notes(written):
    """Does the triage list hold manual, missing and noted work, manual first?"""
    course, _ = written
    rows = _page(course, f"{LESSON}.html").tables["triage-table"]
    assert [r[:3] for r in rows[1:]] == [
        [EVIL_ID, MANUAL, "- / 6"],
        ["gone", MISSING, "0 / 6"],
        ["dee", "graded", "2 / 6"],
    ]
    assert rows[1][3] == EVIL_REASON
    other = _page(course, f"{OTHER}.html")
    assert "triage-table" not in other.tables
    assert "every submission was graded cleanly" in "".join(other.text)


def test_same_outcomes_give_the_same_bytes(tmp_path):
    """Does writing the same outcomes twice give identical files?"""
    first = write_reports(_course(tmp_path / "a"), _class())
    second = write_reports(_course(tmp_path / "b"), _class())
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_no_scored_submission_means_no_histogram(tmp_path):
    """With nothing scored, is the histogram replaced by a note?"""
    course = Course(tmp_path)
    outcomes = [
        _outcome("x", {"mid_test": None}, status=MANUAL, reasons=["not valid JSON"]),
        _outcome("y", {"mid_test": 0}, status=MISSING),
    ]
    write_reports(course, outcomes)
    page = _page(course, f"{LESSON}.html")
    assert page.images == []
    assert "nothing to plot" in "".join(page.text)
    assert page.tables["pass-rates"][1] == ["mid_test", "1", "0", "0", "-"]


def test_summary_fits_one_screen_with_the_key_figures():
    """Does the summary give one line per lesson with the key figures?"""
    text = summary(_class(), Path("/c/reports"))
    lines = text.splitlines()
    assert len(lines) <= 24
    assert lines[0].split() == [
        "lesson",
        "n",
        "graded/manual/missing",
        "mean",
        "triage",
        "hardest",
        "cell",
        "(pass",
        "rate)",
    ]
    assert lines[1].split() == [LESSON, "6", "4/1/1", "3.38/6", "3", "alpha_test", "(20%)"]
    assert lines[2].split() == [OTHER, "1", "1/0/0", "1/1", "0", "mid_test", "(100%)"]
    assert "/c/reports/index.html" in lines[-1]
