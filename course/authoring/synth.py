"""Synthetic students: the reference, the blank, the "pass" and the mutants.

Mutants are plausible wrong answers, kept as data in
``mutants/<lesson>.toml``::

    [[mutant]]
    name = "tally_from_import"
    why = "from counter import count copies the value once"
    fails = ["ex1_2_tally_test"]      # test cells that must lose points
    wrong_on = "<3.14"                 # optional: wrong only on these Pythons
                                       # (full marks expected on the others)

    [[correct]]                        # a right answer written another way:
    name = "geometry_math_pow"         # full marks on every Python, always
    why = "math.pow is as good as x * x"
    [correct.replace]
    ...
    [mutant.replace]                   # solution grade id -> new cell source
    ex1_2_tally = '''
    %%writefile tally.py
    ...
    '''

A synthetic submission is the *release* notebook (what students get) with
its solution cells filled in. Only :func:`write_submission` touches the
disk.
"""

from __future__ import annotations

import copy
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .. import notebooks as nbs
from ..coursedir import Course, CourseError
from .build import RUNTIME_DIRS

__all__ = [
    "Mutant",
    "copy_course",
    "cycling_class",
    "demo_class",
    "lesson_kinds",
    "load_mutants",
    "student_notebook",
    "synthetic_class",
    "write_submission",
]


@dataclass(frozen=True)
class Mutant:
    """One plausible wrong answer for one lesson."""

    lesson: str
    name: str
    why: str
    fails: tuple[str, ...]
    replace: dict[str, str]
    wrong_on: str = ""  # a version specifier ("<3.14"); empty: wrong on every version

    @property
    def student(self) -> str:
        return f"demo-{self.lesson[:2]}-{self.name}"

    def is_wrong_on(self, version: str) -> bool:
        """Must this mutant lose its cells on Python ``version`` ("3.14")?
        Where it is not wrong (``wrong_on`` excludes the version), it must
        score full marks."""
        if not self.wrong_on:
            return True
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(self.wrong_on).contains(version)


def mutants_file(course: Course, lesson: str) -> Path:
    return course.root / "mutants" / f"{lesson}.toml"


def load_mutants(course: Course, lesson: str) -> list[Mutant]:
    """The lesson's mutants, checked against its source notebook, and its
    ``[[correct]]`` alternatives: answers written another way that must keep
    full marks (a Mutant with no ``fails``).

    Raises :class:`CourseError` for a malformed file, a duplicate name, or a
    grade id that is not a solution (``replace``) or test (``fails``) cell.
    """
    path = mutants_file(course, lesson)
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: not valid TOML: {exc}") from exc
    source = nbs.read(course.source_notebook(lesson))
    solutions = {nbs.grade_id(c) for c in source.cells if nbs.is_solution(c)}
    tests = {nbs.grade_id(c) for c in source.cells if nbs.is_graded_test(c)}
    mutants, seen = [], set()
    entries = [("mutant", e) for e in data.get("mutant", [])]
    entries += [("correct", e) for e in data.get("correct", [])]
    for kind, entry in entries:
        name = entry.get("name", "")
        where = f"{path}: {kind} {name!r}"
        if not name or name in seen:
            raise CourseError(f"{where}: missing or duplicate name")
        seen.add(name)
        fails = tuple(entry.get("fails", ()))
        replace = dict(entry.get("replace", {}))
        if kind == "correct":
            if fails or entry.get("wrong_on"):
                raise CourseError(f"{where}: a correct answer has no 'fails' and no 'wrong_on'")
        elif not fails or not set(fails) <= tests:
            raise CourseError(f"{where}: 'fails' must name test cells among {sorted(tests)}")
        if not replace or not set(replace) <= solutions:
            raise CourseError(
                f"{where}: 'replace' must name solution cells among {sorted(solutions)}"
            )
        wrong_on = str(entry.get("wrong_on", ""))
        if wrong_on:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                SpecifierSet(wrong_on)
            except InvalidSpecifier:
                raise CourseError(
                    f"{where}: 'wrong_on' is not a version specifier: {wrong_on!r}"
                ) from None
        mutants.append(Mutant(lesson, name, entry.get("why", ""), fails, replace, wrong_on))
    return mutants


def _pass_body(reference: str) -> str:
    first = reference.splitlines()[0] if reference else ""
    return f"{first}\npass" if first.startswith("%%") else "pass"


def student_notebook(course: Course, lesson: str, kind: str, replace: dict[str, str] | None = None):
    """A submission built from the release notebook.

    ``kind`` is ``"reference"`` (solutions filled in), ``"blank"`` (the
    untouched release notebook) or ``"pass"`` (every solution cell reduced
    to its ``%%writefile`` line and ``pass``). ``replace`` then overrides
    chosen solution cells by grade id.
    """
    if kind not in {"reference", "blank", "pass"}:
        raise ValueError(kind)
    release = nbs.read(course.release_notebook(lesson))
    source = nbs.read(course.source_notebook(lesson))
    reference = {
        nbs.grade_id(c): nbs.solution_as_student_writes_it(c)
        for c in source.cells
        if nbs.is_solution(c)
    }
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = nbs.grade_id(cell)
        if not nbs.is_solution(cell):
            continue
        if replace and gid in replace:
            cell.source = replace[gid].strip("\n")
        elif kind == "reference":
            cell.source = reference[gid]
        elif kind == "pass":
            cell.source = _pass_body(reference[gid])
    return nb


def write_submission(course: Course, student: str, lesson: str, nb) -> Path:
    """Write ``nb`` as ``submitted/<student>/<lesson>/<lesson>.ipynb``.

    Side effects: creates the folders and (over)writes that one file.
    """
    folder = course.submitted / student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lesson}.ipynb"
    nbs.write(nb, path)
    return path


def lesson_kinds(course: Course, lesson: str, *, with_pass: bool = False) -> dict[str, object]:
    """The kinds of work of one lesson, by name: ``reference``, ``blank``,
    ``pass`` (with ``with_pass``) and one per mutant (its student name).
    Raises :class:`CourseError` when the release notebook is missing."""
    if not course.release_notebook(lesson).is_file():
        raise CourseError(f"{course.release_notebook(lesson)} is missing: run `course build`")
    kinds = {
        "reference": student_notebook(course, lesson, "reference"),
        "blank": student_notebook(course, lesson, "blank"),
    }
    if with_pass:
        kinds["pass"] = student_notebook(course, lesson, "pass")
    for mutant in load_mutants(course, lesson):
        kinds[mutant.student] = student_notebook(course, lesson, "reference", mutant.replace)
    return kinds


def synthetic_class(
    course: Course, lessons: list[str], *, prefix: str = "", with_pass: bool = False
) -> dict[str, dict[str, object]]:
    """``{student: {lesson: notebook}}``: ``<prefix>reference`` and
    ``<prefix>blank`` (and ``<prefix>pass``) hand in every lesson; each
    mutant is a student of its own (``demo-NN-<name>``) who hands in its
    lesson only. The one builder of synthetic classes (demo, tests)."""
    students: dict[str, dict[str, object]] = {}
    for lesson in lessons:
        for kind, nb in lesson_kinds(course, lesson, with_pass=with_pass).items():
            name = f"{prefix}{kind}" if kind in ("reference", "blank", "pass") else kind
            students.setdefault(name, {})[lesson] = nb
    return students


def cycling_class(
    course: Course, lessons: list[str], per_lesson: int
) -> dict[tuple[str, str], object]:
    """``{(student, lesson): notebook}`` for benchmarks: students
    ``student-001`` … ``student-<per_lesson>`` each hand in every lesson,
    student k the k-th kind of work (reference, blank, then each mutant,
    cycling); so ``student-001`` is always the reference."""
    work: dict[tuple[str, str], object] = {}
    for lesson in lessons:
        kinds = list(lesson_kinds(course, lesson).values())
        for k in range(per_lesson):
            work[(f"student-{k + 1:03d}", lesson)] = kinds[k % len(kinds)]
    return work


def demo_class(course: Course, lessons: list[str]) -> dict[str, dict[str, object]]:
    """The demo class (:func:`synthetic_class` with the ``demo-`` prefix)."""
    return synthetic_class(course, lessons, prefix="demo-")


def copy_course(source: Course, dest: Path) -> Course:
    """Copy what a course root needs to be built and graded (its
    ``nbgrader_config.py``, ``source/``, ``release/`` and
    ``mutants/``) into ``dest``; run-time folders are left out.

    Side effects: creates ``dest`` and writes the copy there.
    """
    ignore = shutil.ignore_patterns(*RUNTIME_DIRS, "__pycache__")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source.root / "nbgrader_config.py", dest / "nbgrader_config.py")
    shutil.copytree(source.source, dest / "source", ignore=ignore)
    shutil.copytree(source.release, dest / "release", ignore=ignore)
    shutil.copytree(source.root / "mutants", dest / "mutants")
    return Course(dest)
