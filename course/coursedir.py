"""Where things are in a course folder, and how nbgrader is configured for it.

A course root is a folder holding ``nbgrader_config.py`` and ``source/``.
Nothing here writes to the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

__all__ = ["LESSON_NAME", "Course", "CourseError", "find_root"]

#: Lesson folders and notebooks are named ``NN_topic``.
LESSON_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")


class CourseError(Exception):
    """An error to report to the user as one line, with a non-zero exit."""


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding ``nbgrader_config.py``
    and ``source/``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir():
            return folder
    raise CourseError(
        f"no course here: no folder at or above {here} holds nbgrader_config.py and source/"
    )


@dataclass(frozen=True)
class Course:
    """The folders and files of one course root."""

    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        # Parallel graders share the gradebook: wait for a lock (up to 60 s)
        # rather than fail with "database is locked".
        return f"sqlite:///{self.gradebook}?timeout=60"

    def lessons(self) -> list[str]:
        """The lesson ids found in ``source/`` (folders named ``NN_topic``
        holding ``NN_topic.ipynb``), sorted."""
        if not self.source.is_dir():
            return []
        return sorted(
            d.name
            for d in self.source.iterdir()
            if d.is_dir() and LESSON_NAME.match(d.name) and (d / f"{d.name}.ipynb").is_file()
        )

    def source_notebook(self, lesson: str) -> Path:
        return self.source / lesson / f"{lesson}.ipynb"

    def release_notebook(self, lesson: str) -> Path:
        return self.release / lesson / f"{lesson}.ipynb"

    def resolve_lessons(self, names: list[str] | None) -> list[str]:
        """Check user-given lesson ids (or take all); unknown ids are an error.

        A bare number such as ``1`` or ``01`` selects that lesson.
        """
        known = self.lessons()
        if not names:
            if not known:
                raise CourseError(f"no lessons found in {self.source}")
            return known
        chosen = []
        for name in names:
            match = [
                k for k in known if k == name or (name.isdigit() and k[:2] == f"{int(name):02d}")
            ]
            if not match:
                raise CourseError(f"unknown lesson {name!r}; known: {', '.join(known) or 'none'}")
            chosen.extend(m for m in match if m not in chosen)
        return chosen

    def nbgrader_config(self, **overrides: object) -> Config:
        """nbgrader's configuration for this course: ``nbgrader_config.py``
        plus ``CourseDirectory`` paths made absolute, plus ``overrides``
        given as ``{"Section.trait": value}``-style keyword pairs with ``__``
        for the dot (``CourseDirectory__db_url=...``)."""
        loader = PyFileConfigLoader("nbgrader_config.py", path=str(self.root))
        config = loader.load_config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.db_url = self.db_url
        for key, value in overrides.items():
            section, trait = key.split("__", 1)
            setattr(getattr(config, section), trait, value)
        return config
