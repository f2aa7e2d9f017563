"""The instructor's report: what the class's grades mean, per lesson.

:func:`collect` gathers the whole class from the gradebook (scores, manual
grades included) and the outcome records beside the autograded notebooks
(status, reasons, flags), adds every lesson a known student never handed in
(missing; a demo class's mutant student belongs to its own lesson only) and every folder in ``submitted/`` that is not a submission; so
grading one lesson or one student never drops the others from the report.
:func:`write_reports` writes one self-contained HTML page per lesson,
``reports/<lesson>.html`` (score distribution, pass rate per graded cell,
the triage list, counts), with its charts embedded as PNG data URIs, and
``reports/index.html`` linking them: no external files, no JavaScript, from
Jinja2 templates with autoescaping. The same outcomes give the same bytes.

Definitions used throughout:

* a submission is *scored* when it was not missing and every cell has a
  score; the mean, the median and the histogram are over scored ones;
* a cell *passes* when it got its full points; its pass rate is over the
  submissions (not missing) in which that cell has a score;
* the *triage list* holds every submission that needs manual grading or is
  missing, and every graded one that came with a note (timeouts, locked
  cells restored).

Every string a student controls (student ids, reasons quoting their work)
is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .. import notebooks as nbs
from ..coursedir import Course
from .autograded import read_outcome
from .feedback import environment
from .gradebook import read_class
from .intake import scan_all
from .outcome import CellScore, Outcome, Status

__all__ = ["CellRate", "LessonStats", "collect", "lesson_stats", "write_reports"]

GRADED, MANUAL, MISSING = Status.GRADED, Status.MANUAL, Status.MISSING

# Chart sizes are fixed (inches at _DPI) so the same input gives the same bytes.
_DPI = 100
_WIDTH = 7.5
_GOOD, _FAIR, _HARD = "#2e8b57", "#e08a1e", "#c0392b"


@dataclass(frozen=True)
class CellRate:
    """How the class did on one graded cell."""

    name: str
    points: float
    passed: int
    attempted: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.attempted if self.attempted else None

    @property
    def percent(self) -> str:
        return "-" if self.rate is None else f"{self.rate:.0%}"


@dataclass(frozen=True)
class LessonStats:
    """The figures of one lesson's page (see the module docstring)."""

    lesson: str
    outcomes: tuple[Outcome, ...]
    cells: tuple[CellRate, ...]

    @property
    def n(self) -> int:
        return len(self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def scores(self) -> list[float]:
        return [o.score for o in self.outcomes if o.status != MISSING and o.score is not None]

    @property
    def max_score(self) -> float:
        return max((o.max_score for o in self.outcomes), default=0.0)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def hardest(self) -> CellRate | None:
        """The cell with the lowest pass rate (the first in order on a tie)."""
        rated = [c for c in self.cells if c.rate is not None]
        return min(rated, key=lambda c: c.rate or 0.0) if rated else None

    @property
    def triage(self) -> list[Outcome]:
        """Manual first, then missing, then graded with notes or flags; by student."""
        rank = {MANUAL: 0, MISSING: 1}
        flagged = [o for o in self.outcomes if o.status != GRADED or o.reasons or o.flags]
        return sorted(flagged, key=lambda o: (rank.get(o.status, 2), o.student))


def _cell_order(course: Course | None, lesson: str, names: Iterable[str]) -> list[str]:
    """``names`` in the order their cells stand in the lesson's notebook
    (source, else release); names not found there follow, sorted."""
    names = set(names)
    order: list[str] = []
    if course is not None:
        for path in (course.source_notebook(lesson), course.release_notebook(lesson)):
            try:
                nb = nbs.read(path)
            except (OSError, ValueError):
                continue
            order = [g for c in nb.cells if (g := nbs.grade_id(c)) in names]
            break
    return order + sorted(names - set(order))


def lesson_stats(lesson: str, outcomes: list[Outcome], course: Course | None = None) -> LessonStats:
    """The figures for ``lesson`` from its outcomes (others are ignored).
    With ``course``, cells are in notebook order; without, by name."""
    mine = tuple(o for o in outcomes if o.lesson == lesson and o.status is not Status.INVALID)
    names = {c for o in mine for c in o.cells}
    cells = []
    for name in _cell_order(course, lesson, names):
        points = max(o.cells[name].points for o in mine if name in o.cells)
        scored = [
            o.cells[name].score
            for o in mine
            if o.status != MISSING and name in o.cells and o.cells[name].score is not None
        ]
        passed = sum(1 for s in scored if s is not None and s >= points)
        cells.append(CellRate(name, points, passed, len(scored)))
    return LessonStats(lesson, mine, tuple(cells))


def _lessons(outcomes: list[Outcome]) -> list[str]:
    return sorted({o.lesson for o in outcomes if o.status is not Status.INVALID})


def _num(value: float | None) -> str:
    return "-" if value is None else f"{round(value, 2):g}"


# --- charts -----------------------------------------------------------------


def _png(fig) -> str:
    """The figure as a ``data:image/png;base64,`` URI (no Software/date
    metadata, so the bytes depend on the figure alone)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _charts(stats: LessonStats) -> tuple[str | None, str | None]:
    """The histogram and the pass-rate chart as data URIs (None: nothing to plot)."""
    import matplotlib
    import matplotlib.style
    from matplotlib.figure import Figure

    histogram = rates = None
    # The default style, whatever the user's matplotlibrc says; text is
    # drawn as given (a `$` in a name is not mathtext).
    with matplotlib.style.context("default"), matplotlib.rc_context({"text.parse_math": False}):
        if stats.scores:
            top = stats.max_score
            fig = Figure(figsize=(_WIDTH, 3.0))
            ax = fig.add_subplot()
            if top <= 40 and all(s == int(s) for s in stats.scores):
                bins = [b - 0.5 for b in range(int(top) + 2)]
            else:
                bins = [top * i / 20 for i in range(21)]
            ax.hist(stats.scores, bins=bins, color="#4a78b5", edgecolor="white")
            if stats.median is not None:
                ax.axvline(stats.median, color="#333333", linestyle="--", linewidth=1)
                ax.text(
                    stats.median,
                    1.0,
                    f" median {_num(stats.median)}",
                    transform=ax.get_xaxis_transform(),
                    va="top",
                    fontsize=9,
                )
            ax.set_xlim(-0.5 if top <= 40 else 0, top + (0.5 if top <= 40 else 0))
            ax.set_xlabel(f"score (out of {_num(top)})")
            ax.set_ylabel("submissions")
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.spines[["top", "right"]].set_visible(False)
            fig.tight_layout()
            histogram = _png(fig)
        rated = [c for c in stats.cells if c.rate is not None]
        if rated:
            fig = Figure(figsize=(_WIDTH, 0.9 + 0.32 * len(rated)))
            ax = fig.add_subplot()
            ys = list(range(len(rated)))[::-1]  # the first cell at the top
            values = [100 * (c.rate or 0.0) for c in rated]
            colours = [_HARD if v < 50 else _FAIR if v < 80 else _GOOD for v in values]
            ax.barh(ys, values, color=colours, height=0.7)
            for y, cell, value in zip(ys, rated, values, strict=True):
                ax.text(
                    min(value, 100) + 1,
                    y,
                    f"{cell.passed}/{cell.attempted}",
                    va="center",
                    fontsize=8,
                )
            ax.set_yticks(ys, [c.name for c in rated], fontsize=8)
            ax.set_xlim(0, 112)
            ax.set_xticks(range(0, 101, 20), [f"{v}%" for v in range(0, 101, 20)])
            ax.set_xlabel("submissions with full points on the cell")
            ax.spines[["top", "right"]].set_visible(False)
            fig.tight_layout()
            rates = _png(fig)
    return histogram, rates


# --- the whole class ----------------------------------------------------------


_DEMO_MUTANT = re.compile(r"demo-(\d\d)-")


def _in_lesson(student: str, lesson: str) -> bool:
    """Can ``student`` be missing from ``lesson``? Every student can, but a
    demo class's mutant student (``demo-NN-<mutant>``, made by
    :func:`course.authoring.synth.synthetic_class`) belongs to lesson NN
    only."""
    match = _DEMO_MUTANT.match(student)
    return match is None or lesson.startswith(match.group(1))


def collect(course: Course) -> list[Outcome]:
    """Every submission the course knows of (module docstring), by lesson
    then student. A lesson appears only once some submission of it was
    graded. No side effects."""
    from .spec import lesson_spec

    scores, students = read_class(course)
    found, invalid = scan_all(course)
    on_disk = set(found)
    everyone = sorted(set(students) | {student for _, student in found})
    outcomes: list[Outcome] = []
    for lesson in course.lessons():
        recorded: dict[str, Outcome] = {}
        for student in everyone:
            record = read_outcome(course, lesson, student)
            book = scores.get((lesson, student))
            if record is None and book is None:
                continue
            if record is None:
                record = Outcome(student, lesson)
            if book is not None:
                merged = {}
                for name, cell in book["cells"].items():
                    old = record.cells.get(name)
                    merged[name] = CellScore(
                        cell.score,
                        cell.points,
                        old.message if old else "",
                        old.hidden if old else False,
                    )
                record.cells = merged
                if record.status is MANUAL and all(c.score is not None for c in merged.values()):
                    record = replace(
                        record, status=GRADED, reasons=[*record.reasons, "graded by hand"]
                    )
            recorded[student] = record
        if not recorded:
            continue
        points = {c.grade_id: c.points for c in lesson_spec(course, lesson).checks}
        for student in everyone:
            if student in recorded:
                outcomes.append(recorded[student])
            elif (lesson, student) not in on_disk and _in_lesson(student, lesson):
                outcomes.append(
                    Outcome(
                        student,
                        lesson,
                        status=MISSING,
                        reasons=["nothing handed in (scored 0)"],
                        cells={g: CellScore(0.0, p) for g, p in points.items()},
                    )
                )
    return outcomes + invalid


# --- HTML ------------------------------------------------------------------------


def _lesson_page(stats: LessonStats, histogram: str | None, rates: str | None) -> str:
    top = stats.max_score
    mean = "-" if stats.mean is None else f"{_num(stats.mean)} / {_num(top)}"
    median = "-" if stats.median is None else f"{_num(stats.median)} / {_num(top)}"
    counts = [
        ("submissions", str(stats.n)),
        ("graded", str(stats.count(GRADED))),
        ("needs manual grading", str(stats.count(MANUAL))),
        ("missing", str(stats.count(MISSING))),
        ("scored (in the statistics)", str(len(stats.scores))),
        ("mean score", mean),
        ("median score", median),
    ]
    return (
        environment()
        .get_template("report_lesson.html.j2")
        .render(
            title=f"{stats.lesson}: grading report",
            s=stats,
            graded=stats.count(GRADED),
            manual=stats.count(MANUAL),
            missing=stats.count(MISSING),
            counts=counts,
            histogram=histogram,
            rates=rates,
            num=_num,
        )
    )


def write_reports(course: Course, outcomes: list[Outcome]) -> list[Path]:
    """Write ``reports/<lesson>.html`` for every lesson in ``outcomes`` and
    ``reports/index.html`` linking them (and listing the folders that are
    not submissions).

    Side effects: creates ``reports/`` and (over)writes those files; removes
    the pages of lessons no longer in ``outcomes`` (other files there are
    left alone); the first use of matplotlib in a process may build its font
    cache in its configuration folder. Returns the paths written, the index
    last.
    """
    course.reports.mkdir(parents=True, exist_ok=True)
    written = []
    all_stats = []
    lessons = _lessons(outcomes)
    for lesson in lessons:
        stats = lesson_stats(lesson, outcomes, course)
        all_stats.append(stats)
        path = course.reports / f"{lesson}.html"
        path.write_text(_lesson_page(stats, *_charts(stats)), encoding="utf-8")
        written.append(path)
    for old in course.lessons():
        if old not in lessons:
            (course.reports / f"{old}.html").unlink(missing_ok=True)
    index = course.reports / "index.html"
    index.write_text(
        environment()
        .get_template("report_index.html.j2")
        .render(
            title="Grading report",
            all_stats=all_stats,
            invalid=[o for o in outcomes if o.status is Status.INVALID],
            num=_num,
            GRADED=GRADED,
            MANUAL=MANUAL,
            MISSING=MISSING,
        ),
        encoding="utf-8",
    )
    written.append(index)
    return written
