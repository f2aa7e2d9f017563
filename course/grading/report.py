"""The instructor's report: what a grading run means, per lesson.

:func:`write_reports` writes one self-contained HTML page per lesson,
``reports/<lesson>.html`` (score distribution, pass rate per graded cell,
the triage list, counts), with its charts embedded as PNG data URIs, and
``reports/index.html`` linking them: no external files, no JavaScript.
The same outcomes give the same bytes. :func:`summary` is the one-screen
text version for the terminal.

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
import html
import io
import statistics
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import notebooks as nbs
from ..coursedir import Course
from .run import GRADED, MANUAL, MISSING, Outcome

__all__ = ["CellRate", "LessonStats", "lesson_stats", "summary", "write_reports"]

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
        """Manual first, then missing, then graded with notes; by student."""
        rank = {MANUAL: 0, MISSING: 1}
        flagged = [o for o in self.outcomes if o.status != GRADED or o.reasons]
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
    mine = tuple(o for o in outcomes if o.lesson == lesson)
    names = {c for o in mine for c in o.cells}
    cells = []
    for name in _cell_order(course, lesson, names):
        points = max(o.cells[name][1] for o in mine if name in o.cells)
        scored = [
            o.cells[name][0]
            for o in mine
            if o.status != MISSING and name in o.cells and o.cells[name][0] is not None
        ]
        passed = sum(1 for s in scored if s is not None and s >= points)
        cells.append(CellRate(name, points, passed, len(scored)))
    return LessonStats(lesson, mine, tuple(cells))


def _lessons(outcomes: list[Outcome]) -> list[str]:
    return sorted({o.lesson for o in outcomes})


def _num(value: float | None) -> str:
    return "-" if value is None else f"{round(value, 2):g}"


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


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


# --- HTML -------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.lede { font-size: 1.1em; } .note { color: #555; }
.hard { color: #c0392b; font-weight: bold; }
img { max-width: 100%; }
ul.reasons { margin: 0; padding-left: 1.2em; }
"""


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _row(cells: list[str], numeric: Collection[int] = (), tag: str = "td") -> str:
    """One table row; ``cells`` are already HTML (escape before)."""
    parts = [
        f'<{tag} class="num">{c}</{tag}>' if i in numeric else f"<{tag}>{c}</{tag}>"
        for i, c in enumerate(cells)
    ]
    return "<tr>" + "".join(parts) + "</tr>"


def _lesson_page(stats: LessonStats, histogram: str | None, rates: str | None) -> str:
    e = html.escape
    top = stats.max_score
    graded, manual, missing = stats.count(GRADED), stats.count(MANUAL), stats.count(MISSING)
    body = [
        '<p><a href="index.html">All lessons</a></p>',
        f"<h1>{e(stats.lesson)}</h1>",
        f'<p class="lede">{stats.n} submission(s): {graded} graded, {manual} need(s) manual '
        f"grading, {missing} missing; {len(stats.triage)} in the triage list.</p>",
        '<h2 id="counts">Counts</h2>',
        '<table id="counts-table">',
    ]
    mean = "-" if stats.mean is None else f"{_num(stats.mean)} / {_num(top)}"
    median = "-" if stats.median is None else f"{_num(stats.median)} / {_num(top)}"
    for label, value in [
        ("submissions", str(stats.n)),
        ("graded", str(graded)),
        ("needs manual grading", str(manual)),
        ("missing", str(missing)),
        ("scored (in the statistics)", str(len(stats.scores))),
        ("mean score", mean),
        ("median score", median),
    ]:
        body.append(_row([e(label), e(value)], {1}))
    body.append("</table>")

    body.append('<h2 id="distribution">Score distribution</h2>')
    if histogram:
        body.append(
            f'<img alt="Histogram of the scores of {len(stats.scores)} scored submissions" '
            f'src="{histogram}">'
        )
    else:
        body.append('<p class="note">No scored submission: nothing to plot.</p>')
    body.append(
        '<p class="note">Scored submissions only (not missing, every cell scored); '
        "the dashed line is the median.</p>"
    )

    body.append('<h2 id="cells">Pass rate per graded cell</h2>')
    hardest = stats.hardest
    if hardest is not None:
        body.append(
            f'<p>Hardest for this class: <span class="hard">{e(hardest.name)}</span>, '
            f"passed by {hardest.passed} of {hardest.attempted} ({_pct(hardest.rate)}).</p>"
        )
    if rates:
        body.append(f'<img alt="Pass rate of each graded cell, in notebook order" src="{rates}">')
    body.append(
        '<p class="note">A cell passes with full points. Cells in notebook order; red under '
        "50%, orange under 80%. Missing submissions are left out.</p>"
    )
    body.append('<table id="pass-rates">')
    body.append(_row(["cell", "points", "passed", "of", "pass rate"], {1, 2, 3, 4}, "th"))
    for c in stats.cells:
        body.append(
            _row(
                [e(c.name), _num(c.points), str(c.passed), str(c.attempted), _pct(c.rate)],
                {1, 2, 3, 4},
            )
        )
    body.append("</table>")

    body.append(f'<h2 id="triage">Triage ({len(stats.triage)})</h2>')
    if stats.triage:
        body.append(
            '<p class="note">Needs manual grading, missing, and graded work that came '
            "with a note (timeouts, locked cells restored).</p>"
        )
        body.append('<table id="triage-table">')
        body.append(_row(["student", "status", "score", "reasons"], {2}, "th"))
        for o in stats.triage:
            reasons = "".join(f"<li>{e(r)}</li>" for r in o.reasons) or "<li>-</li>"
            score = f"{_num(o.score)} / {_num(o.max_score)}"
            body.append(
                _row(
                    [e(o.student), e(o.status), e(score), f'<ul class="reasons">{reasons}</ul>'],
                    {2},
                )
            )
        body.append("</table>")
    else:
        body.append('<p class="note">Nothing to look at: every submission was graded cleanly.</p>')
    return _page(f"{stats.lesson}: grading report", body)


def _index_page(all_stats: list[LessonStats]) -> str:
    e = html.escape
    body = [
        "<h1>Grading report</h1>",
        f'<p class="lede">{sum(s.n for s in all_stats)} submission(s) in '
        f"{len(all_stats)} lesson(s).</p>",
        '<table id="lessons">',
        _row(
            [
                "lesson",
                "submissions",
                "graded",
                "manual",
                "missing",
                "mean",
                "hardest cell",
                "triage",
            ],
            {1, 2, 3, 4, 5, 7},
            "th",
        ),
    ]
    for s in all_stats:
        hardest = s.hardest
        hard = "-" if hardest is None else f"{e(hardest.name)} ({_pct(hardest.rate)})"
        mean = "-" if s.mean is None else f"{_num(s.mean)} / {_num(s.max_score)}"
        link = f'<a href="{e(s.lesson)}.html">{e(s.lesson)}</a>'
        body.append(
            _row(
                [
                    link,
                    str(s.n),
                    str(s.count(GRADED)),
                    str(s.count(MANUAL)),
                    str(s.count(MISSING)),
                    e(mean),
                    hard,
                    str(len(s.triage)),
                ],
                {1, 2, 3, 4, 5, 7},
            )
        )
    body.append("</table>")
    return _page("Grading report", body)


def write_reports(course: Course, outcomes: list[Outcome]) -> list[Path]:
    """Write ``reports/<lesson>.html`` for every lesson in ``outcomes`` and
    ``reports/index.html`` linking them.

    Side effects: creates ``reports/`` and (over)writes those files (other
    files there are left alone); the first use of matplotlib in a process
    may build its font cache in its configuration folder. Returns the paths
    written, the index last.
    """
    course.reports.mkdir(parents=True, exist_ok=True)
    written = []
    all_stats = []
    for lesson in _lessons(outcomes):
        stats = lesson_stats(lesson, outcomes, course)
        all_stats.append(stats)
        path = course.reports / f"{lesson}.html"
        path.write_text(_lesson_page(stats, *_charts(stats)), encoding="utf-8")
        written.append(path)
    index = course.reports / "index.html"
    index.write_text(_index_page(all_stats), encoding="utf-8")
    written.append(index)
    return written


def summary(outcomes: list[Outcome], reports: Path | None = None) -> str:
    """A one-screen summary, one line per lesson: submissions, graded /
    manual / missing, mean score, the number in triage, the hardest cell and
    its pass rate; then where the report is (``reports``, by default
    ``reports/``). Cells tie by name here (no notebook order)."""
    folder = Path("reports") if reports is None else reports
    header = ["lesson", "n", "graded/manual/missing", "mean", "triage", "hardest cell (pass rate)"]
    rows = [header]
    for lesson in _lessons(outcomes):
        s = lesson_stats(lesson, outcomes)
        hardest = s.hardest
        rows.append(
            [
                lesson,
                str(s.n),
                f"{s.count(GRADED)}/{s.count(MANUAL)}/{s.count(MISSING)}",
                "-" if s.mean is None else f"{_num(s.mean)}/{_num(s.max_score)}",
                str(len(s.triage)),
                "-" if hardest is None else f"{hardest.name} ({_pct(hardest.rate)})",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    numeric = {1, 2, 3, 4}
    lines = [
        "  ".join(
            v.rjust(w) if i in numeric else v.ljust(w)
            for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]
    lines.append("")
    lines.append(
        f"{len(outcomes)} submission(s); report: {folder / 'index.html'}, "
        f"one page per lesson ({folder / '<lesson>.html'})"
    )
    return "\n".join(lines)
