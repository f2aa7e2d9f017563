"""Grade the answers of independent review rounds and print their catch rates.

Each round (``tests/reviews/round<N>/<lesson>.toml``) holds the answers a
reviewer wrote for one lesson while seeing only ``release/`` (never
``source/``, ``mutants/`` or the tests), in the reviewers' format: a list of
``[[answer]]`` tables with ``name``, ``correct`` (bool), ``why`` and
``replace`` (answer cells by grade id; the first answer gives every cell and
the others start from it). The answers are kept verbatim, as written before
they were first graded, except for one added key: ``relabelled`` (a reason)
marks a correct answer that a later, stated change of the task text made
wrong; it is then graded as a wrong answer and listed with its reason.

``python -m tests.reviews [--python X.Y] [--round N] [LESSON ...]`` copies
the course to a temporary folder (:func:`course.authoring.synth.copy_course`;
nothing in the repository is written), builds one submission per answer,
grades them all in one ``course grade --jobs 2`` run and prints, per lesson,
how many wrong answers lost points and which correct answers lost any.
Exit status 0 only if every correct answer kept full marks and every wrong
answer lost points; the answers that got through are listed.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from course.authoring.synth import copy_course, student_notebook, write_submission
from course.coursedir import Course, CourseError

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Answer:
    """One reviewer answer: its student id, name, whether it is correct now,
    and why a correct one was relabelled wrong (empty if it was not)."""

    student: str
    lesson: str
    name: str
    correct: bool
    why: str
    relabelled: str = ""


def rounds() -> list[Path]:
    """The round folders, oldest first."""
    return sorted(p for p in HERE.glob("round*") if p.is_dir())


def load(path: Path, round_name: str) -> tuple[str, list[tuple[Answer, dict[str, str]]]]:
    """The answers of one lesson file, each with its full set of answer cells."""
    lesson = path.stem
    answers = tomllib.loads(path.read_text(encoding="utf-8"))["answer"]
    base = answers[0]["replace"]
    out = []
    for raw in answers:
        student = f"{round_name}-{lesson[:2]}-{raw['name'].replace('_', '-')}"[:64]
        relabelled = raw.get("relabelled", "")
        correct = bool(raw["correct"]) and not relabelled
        answer = Answer(student, lesson, raw["name"], correct, raw.get("why", ""), relabelled)
        out.append((answer, {**base, **raw["replace"]}))
    return lesson, out


def scores(course_root: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(lesson, student) -> (score, max score), from the course's grades.csv."""
    with (course_root / "grades.csv").open(newline="", encoding="utf-8") as f:
        return {
            (row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(f)
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reviews", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "lessons", nargs="*", metavar="LESSON", help="lesson numbers (default: all)"
    )
    parser.add_argument(
        "--python", metavar="X.Y", help="grade with this Python (default: the host's)"
    )
    parser.add_argument(
        "--round", action="append", metavar="N", help="only this round (repeatable)"
    )
    args = parser.parse_args(argv)
    chosen = [p for p in rounds() if not args.round or p.name.removeprefix("round") in args.round]
    if not chosen:
        print("tests.reviews: no review round found", file=sys.stderr)
        return 2
    try:
        wanted = set(Course(REPO).resolve_lessons(args.lessons))
    except CourseError as exc:
        print(f"tests.reviews: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-reviews-") as tmp:
        course = copy_course(Course(REPO), Path(tmp) / "course")
        everyone: list[Answer] = []
        students: set[str] = set()
        lessons: set[str] = set()
        for folder in chosen:
            for path in sorted(folder.glob("[0-9][0-9]_*.toml")):
                if path.stem not in wanted:
                    continue
                lesson, answers = load(path, folder.name)
                lessons.add(lesson)
                for answer, cells in answers:
                    if answer.student in students:
                        print(
                            f"tests.reviews: two answers make the student {answer.student}",
                            file=sys.stderr,
                        )
                        return 2
                    write_submission(
                        course,
                        answer.student,
                        lesson,
                        student_notebook(course, lesson, "blank", cells),
                    )
                    everyone.append(answer)
                    students.add(answer.student)
        if not everyone:
            print("tests.reviews: no answer matches these lessons", file=sys.stderr)
            return 2
        command = [str(BIN / "course"), "grade", *sorted(lessons), "--jobs", "2"]
        if args.python:
            command += ["--python", args.python]
        done = subprocess.run(command, cwd=course.root, capture_output=True, text=True)
        if done.returncode != 0 and not (course.root / "grades.csv").exists():
            print(
                f"tests.reviews: course grade failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}",
                file=sys.stderr,
            )
            return 1
        got = scores(course.root)
    failures: list[str] = []
    version = args.python or f"{sys.version_info.major}.{sys.version_info.minor}"
    print(f"review answers graded on Python {version} ({', '.join(p.name for p in chosen)})")
    print(f"{'lesson':40} {'wrong caught':>13} {'correct kept':>13}")
    totals = [0, 0, 0, 0]
    for lesson in sorted(lessons):
        mine = [a for a in everyone if a.lesson == lesson]
        wrong = [a for a in mine if not a.correct]
        right = [a for a in mine if a.correct]
        caught = kept = 0
        for a in mine:
            score = got.get((lesson, a.student))
            if score is None:
                failures.append(f"{lesson} {a.name}: not graded")
                continue
            full = score[0] == score[1]
            if a.correct and full:
                kept += 1
            elif a.correct:
                failures.append(
                    f"{lesson} {a.name}: a correct answer scored {score[0]:g}/{score[1]:g}"
                )
            elif not full:
                caught += 1
            else:
                failures.append(f"{lesson} {a.name}: a wrong answer got full marks ({a.why[:150]})")
        totals = [
            totals[0] + caught,
            totals[1] + len(wrong),
            totals[2] + kept,
            totals[3] + len(right),
        ]
        print(f"{lesson:40} {caught:>6}/{len(wrong):<6} {kept:>6}/{len(right):<6}")
    rate = 100 * totals[0] / totals[1] if totals[1] else 100.0
    print(
        f"{'total':40} {totals[0]:>6}/{totals[1]:<6} {totals[2]:>6}/{totals[3]:<6}  ({rate:.1f}% of wrong answers caught)"
    )
    for line in failures:
        print(f"  {line}")
    for a in everyone:
        if a.relabelled:
            print(
                f"  relabelled wrong (graded as a wrong answer): {a.lesson} {a.name}: {a.relabelled}"
            )
    print(f"{len(everyone)} answers in {time.monotonic() - started:.0f} s")
    return 1 if failures else 0
