"""`course build`: regenerate ``release/`` from ``source/``.

The pipeline, in order:

1. nbgrader's ``GenerateAssignment`` writes the student notebooks into a
   temporary folder, with a temporary gradebook (building never touches the
   course's real ``gradebook.db``);
2. post-steps on each generated notebook: strip widget state (trap 9);
3. the leak check (:func:`find_leaks`): anything wrong stops the build and
   ``release/`` is left as it was;
4. sync: files whose bytes differ are written into ``release/``, stale ones
   removed. Building twice therefore changes no byte (nor any mtime).
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from .. import notebooks as nbs
from ..coursedir import LESSON_NAME, Course, CourseError
from ..lesson.scratch import SCRATCH_NAME
from ..nbgrader_apps import generate

__all__ = [
    "RUNTIME_DIRS",
    "build",
    "find_leaks",
    "generate_release_tree",
    "is_runtime",
]

# Lines shorter than this are too common ("return x", "pass") to count as a leak.
_MIN_LEAK_LINE = 12
# Run-time folders a student's (or instructor's) session may leave in release/;
# git ignores them and building leaves them alone.
RUNTIME_DIRS = (SCRATCH_NAME, ".ipynb_checkpoints")


def is_runtime(rel: Path) -> bool:
    """Is this path (relative to a lesson folder) inside a run-time folder?"""
    return any(part in RUNTIME_DIRS for part in rel.parts)


def _post_process(notebook: Path) -> None:
    nb = nbs.read(notebook)
    if nbs.strip_widget_state(nb):
        nbs.write(nb, notebook)


def find_leaks(course: Course, lesson: str, release_lesson_dir: Path) -> list[str]:
    """What in a generated lesson folder should not reach students.

    Checks: files other than the lesson's notebook; nbgrader's markers;
    saved widget state; any line of a solution or of a hidden test (unless
    the same line also stands outside the markers in the source).
    """
    problems: list[str] = []
    expected = f"{lesson}.ipynb"
    for path in sorted(release_lesson_dir.rglob("*")):
        if path.is_file() and path.relative_to(release_lesson_dir).as_posix() != expected:
            problems.append(f"unexpected file {path.relative_to(release_lesson_dir)} (a leak?)")
    notebook = release_lesson_dir / expected
    if not notebook.is_file():
        return [*problems, f"{expected} was not generated"]
    text = notebook.read_text(encoding="utf-8")
    for marker in (nbs.SOLUTION_BEGIN, nbs.SOLUTION_END, nbs.HIDDEN_BEGIN, nbs.HIDDEN_END):
        if marker in text:
            problems.append(f"marker {marker!r} is in the student notebook")
    released = nbs.read(notebook)
    if "widgets" in released.metadata:
        problems.append("saved widget state is in the student notebook")

    source = nbs.read(course.source_notebook(lesson))
    secret: set[str] = set()
    public: set[str] = set()
    for cell in source.cells:
        secret |= {ln.strip() for ln in nbs.solution_lines(cell) + nbs.hidden_test_lines(cell)}
        public |= {ln.strip() for ln in nbs.lines_outside_markers(cell)}
    secret = {ln for ln in secret - public if len(ln) >= _MIN_LEAK_LINE}
    released_lines = {
        ln.strip() for cell in released.cells for ln in nbs.cell_text(cell).splitlines()
    }
    for line in sorted(secret & released_lines):
        problems.append(f"solution or hidden-test line is in the student notebook: {line!r}")
    return problems


def generate_release_tree(course: Course, lessons: list[str], out: Path) -> None:
    """Generate, post-process and leak-check ``lessons`` into ``out``.

    Uses a throwaway gradebook inside ``out``'s parent. Raises
    :class:`CourseError` listing every leak found.
    """
    out.mkdir(parents=True, exist_ok=True)
    generate(course, lessons, out, f"sqlite:///{out.parent / 'build-gradebook.db'}")
    problems = []
    for lesson in lessons:
        _post_process(out / lesson / f"{lesson}.ipynb")
        problems += [f"{lesson}: {p}" for p in find_leaks(course, lesson, out / lesson)]
    if problems:
        raise CourseError("leak check failed:\n  " + "\n  ".join(problems))


def _sync(src: Path, dst: Path) -> list[str]:
    """Make ``dst`` hold exactly ``src``'s files, writing only what differs."""
    changed = []
    dst.mkdir(parents=True, exist_ok=True)
    wanted = {p.relative_to(src) for p in src.rglob("*") if p.is_file()}
    for rel in sorted(wanted):
        target = dst / rel
        if not (target.is_file() and filecmp.cmp(src / rel, target, shallow=False)):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, target)
            changed.append(str(target))
    for path in sorted(dst.rglob("*"), reverse=True):
        rel = path.relative_to(dst)
        if is_runtime(rel):
            continue
        if path.is_file() and rel not in wanted:
            path.unlink()
            changed.append(f"{path} (removed)")
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return changed


def build(course: Course, lessons: list[str] | None = None) -> list[str]:
    """Regenerate ``release/`` for ``lessons`` (all by default).

    Side effects: writes the changed student notebooks into ``release/``;
    when building every lesson, removes release folders of lessons that no
    longer exist in ``source/``. Returns the paths written or removed.
    """
    chosen = course.resolve_lessons(lessons)
    with tempfile.TemporaryDirectory(prefix="course-build-") as tmp:
        out = Path(tmp) / "release"
        generate_release_tree(course, chosen, out)
        changed = []
        for lesson in chosen:
            changed += _sync(out / lesson, course.release / lesson)
    if not lessons and course.release.is_dir():
        for stale in sorted(course.release.iterdir()):
            if stale.is_dir() and LESSON_NAME.match(stale.name) and stale.name not in chosen:
                shutil.rmtree(stale)
                changed.append(f"{stale} (removed)")
    return changed
