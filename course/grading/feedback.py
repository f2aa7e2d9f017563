"""Feedback pages for students, built from data.

Each page (``feedback/<student>/<lesson>/<lesson>.html``, where nbgrader's
``release_feedback`` looks for it) shows, per exercise by its title: the
student's answer as escaped text, each check's score and what it checks,
and for a failed check its message in full (wrapped, never cut). Nothing of
the submitted notebook is rendered: no output of any student cell, no
student-added cell, no hidden test code (a hidden check's failure says only
that a hidden check failed, and its message). Pages come from Jinja2
templates with autoescaping on, and carry a Content-Security-Policy that
allows no script, no external resource and no form, as a second line of
defence.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from ..coursedir import Course
from .answers import Answer
from .outcome import Outcome, Status
from .spec import LessonSpec

__all__ = ["environment", "render_feedback", "write_feedback"]


@functools.cache
def environment() -> jinja2.Environment:
    """The course's Jinja2 environment: templates in ``course/grading/templates``,
    autoescaping on for everything, undefined names an error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _num(value: float | None) -> str:
    return "-" if value is None else f"{round(value, 2):g}"


def render_feedback(spec: LessonSpec, outcome: Outcome, answers: list[Answer] | None) -> str:
    """The feedback page's HTML (module docstring). No side effects."""
    given = {a.grade_id: a for a in answers or []}
    exercises = []
    for ex in spec.exercises:
        checks = []
        for gid in ex.checks:
            check = spec.check(gid)
            cell = outcome.cells.get(gid)
            checks.append(
                {
                    "title": check.title,
                    "points": _num(check.points),
                    "score": _num(None if cell is None else cell.score),
                    "passed": bool(cell and cell.full),
                    "message": "" if cell is None else cell.message,
                }
            )
        exercises.append(
            {
                "key": ex.key,
                "title": ex.title,
                "unanswered": any(g in outcome.unanswered for g in ex.answers),
                "answers": [
                    {"path": given[g].path, "text": given[g].text} for g in ex.answers if g in given
                ],
                "checks": checks,
            }
        )
    unanswered = [
        ex.key for ex in spec.exercises if any(g in outcome.unanswered for g in ex.answers)
    ]
    return (
        environment()
        .get_template("feedback.html.j2")
        .render(
            title=f"Feedback: {spec.title}",
            lesson_title=spec.title,
            student=outcome.student,
            total=None if outcome.score is None else _num(outcome.score),
            max_score=_num(outcome.max_score),
            manual=outcome.status is Status.MANUAL,
            reasons=outcome.reasons,
            unanswered=unanswered,
            exercises=exercises,
        )
    )


def write_feedback(
    course: Course, spec: LessonSpec, outcome: Outcome, answers: list[Answer] | None
) -> Path:
    """Write the page. Side effects: replaces ``feedback/<student>/<lesson>/``
    with the page and, when the submission has them, its ``timestamp.txt``
    and ``submission_secret.txt`` (``nbgrader release_feedback`` needs
    both). Returns the page's path."""
    import shutil

    folder = course.feedback / outcome.student / spec.lesson
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    path = folder / f"{spec.lesson}.html"
    path.write_text(render_feedback(spec, outcome, answers), encoding="utf-8")
    # nbgrader's release_feedback finds a page by the submission's timestamp
    # and secret, which nbgrader's own feedback step copies next to it.
    submitted = course.submitted / outcome.student / spec.lesson
    for name in ("timestamp.txt", "submission_secret.txt"):
        source = submitted / name
        if source.is_file() and not source.is_symlink() and source.stat().st_size < 1000:
            shutil.copyfile(source, folder / name)
    return path
