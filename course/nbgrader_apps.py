"""Building and running nbgrader's apps the way every part of the course does.

nbgrader stays for what it does well: ``generate_assignment`` (release
notebooks and the gradebook's record of each lesson), the gradebook and the
exchange. :func:`run_nbgrader` runs a converter with its log captured, and
:func:`generate` records lessons in a gradebook.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from .coursedir import Course, CourseError

__all__ = ["generate", "run_nbgrader"]

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")


@contextmanager
def _captured(logger: logging.Logger) -> Iterator[io.StringIO]:
    """Send ``logger``'s records (INFO and up) to a buffer instead of stderr.

    Side effects: the logger's level, handlers and propagation are changed
    for the duration and restored afterwards.
    """
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    old = (logger.level, logger.propagate, list(logger.handlers))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield buffer
    finally:
        logger.setLevel(old[0])
        logger.propagate = old[1]
        logger.handlers[:] = old[2]


def run_nbgrader(app) -> str:
    """Run an nbgrader converter's ``start()``, returning its log.

    On failure raises :class:`CourseError` with the last error logged.
    """
    with _captured(app.log) as log:
        try:
            app.start()
        except Exception as exc:
            lines = log.getvalue().splitlines()
            errors = [ln[len("[ERROR] ") :] for ln in lines if ln.startswith("[ERROR]")]
            causes = [ln for ln in lines if _EXCEPTION_LINE.match(ln)]
            detail = " ".join(errors[:1] + causes[-1:]) or f"{type(exc).__name__}: {exc}"
            raise CourseError(f"nbgrader {type(app).__name__} failed: {detail}") from exc
    return log.getvalue()


def generate(course: Course, lessons: list[str], release_dir: Path, db_url: str) -> None:
    """Run nbgrader's GenerateAssignment for ``lessons`` into ``release_dir``,
    recording the assignments in the gradebook at ``db_url``.

    Side effects: writes ``release_dir/<lesson>/`` and the gradebook.
    """
    from nbgrader.converters import GenerateAssignment

    for lesson in lessons:
        config = course.nbgrader_config(
            CourseDirectory__release_directory=str(release_dir),
            CourseDirectory__db_url=db_url,
        )
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = lesson
        app = GenerateAssignment(coursedir=coursedir, config=config)
        app.force = True
        app.create_assignment = True
        run_nbgrader(app)
