"""The `course` command: a thin CLI over one module per pipeline step.

Errors the user can fix are reported as one line on stderr with exit
status 1 (argparse's usage errors exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .coursedir import Course, CourseError, find_root
from .startup import prepare_process

__all__ = ["main"]


def _course(args: argparse.Namespace) -> Course:
    if args.root is not None:
        root = Path(args.root).resolve()
        if not (root / "nbgrader_config.py").is_file():
            raise CourseError(f"{root} is not a course root (no nbgrader_config.py)")
        return Course(root)
    return Course(find_root())


def _cmd_build(args: argparse.Namespace) -> int:
    from .authoring.build import build
    from .authoring.readme import update_readme

    course = _course(args)
    changed = build(course, args.lessons)
    if update_readme(course):
        changed.append(str(course.root / "README.md"))
    for path in changed:
        print(f"wrote {path}")
    print(f"release/ is up to date ({len(changed)} file(s) changed)")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .authoring.check import steps

    course = _course(args)
    lessons = course.resolve_lessons(args.lessons)
    problems = []
    for name, step in steps(validator=not args.no_validate):
        found = step(course, lessons)
        print(f"{name}: {'ok' if not found else f'{len(found)} problem(s)'}")
        problems += found
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def _cmd_record(args: argparse.Namespace) -> int:
    from .authoring.record import record

    course = _course(args)
    for lesson, seconds, changed in record(course, course.resolve_lessons(args.lessons)):
        print(
            f"{lesson}: executed in {seconds:.1f}s, {'outputs updated' if changed else 'unchanged'}"
        )
    return 0


def _print_results(outcomes, course: Course) -> None:
    from .grading.console import format_table, summary

    print(format_table(outcomes))
    print(f"\ngrades: {course.root / 'grades.csv'}")
    print(f"triage list: {course.reports / 'outcomes.csv'}")
    print(f"feedback: {course.feedback}/<student>/<lesson>/")
    print()
    print(summary(outcomes, course.reports))


def _cmd_grade(args: argparse.Namespace) -> int:
    from .grading.run import grade

    course = _course(args)
    _warn_unsafe(args)
    outcomes = grade(
        course,
        args.lessons,
        students=args.students,
        timeout=args.timeout,
        budget=args.budget,
        jobs=args.jobs,
        sandbox=not args.unsafe_no_sandbox,
        python=args.python,
    )
    _print_results(outcomes, course)
    return 0


def _warn_unsafe(args: argparse.Namespace) -> None:
    if args.unsafe_no_sandbox:
        print(
            "course: WARNING: --unsafe-no-sandbox: student code runs with your rights, "
            "unconfined (it can read source/, change the gradebook, use the network)",
            file=sys.stderr,
        )


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from .grading.sandbox import Sandbox
    from .pythons import find, host

    interpreter = find(args.python) if args.python else host()
    with Sandbox(1, interpreter=interpreter) as box:
        box.trial()
    print(
        f"the sandbox works here (Python {interpreter.version}): student code can be graded safely"
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .authoring.demo import demo

    course = _course(args)
    _warn_unsafe(args)
    outcomes, problems = demo(
        course,
        args.lessons,
        timeout=args.timeout,
        jobs=args.jobs,
        sandbox=not args.unsafe_no_sandbox,
        python=args.python,
    )
    _print_results(outcomes, course)
    if problems:
        print("\ndemo students that did not score as designed:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"\nall {len(outcomes)} demo submissions scored as designed")
    return 0


def _cmd_lab(args: argparse.Namespace) -> int:
    from .lab import LabSetup, exec_lab

    workspace = Path(args.workspace).resolve() if args.workspace else None
    if workspace is not None and args.instructor:
        raise CourseError(
            "--workspace is for the student set-up; the instructor's lab is the course root"
        )
    setup = LabSetup(_course(args), instructor=args.instructor, workspace=workspace)
    exec_lab(setup, port=args.port, ip=args.ip, open_browser=not args.no_browser)
    return 0  # not reached: exec_lab replaces this process


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="Build, check and grade the Python Modules, Hands-On course.",
    )
    parser.add_argument("--root", help="the course folder (default: found from the current folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument(
            "lessons", nargs="*", metavar="LESSON", help="lesson ids or numbers (default: all)"
        )
        return p

    add(
        "build",
        _cmd_build,
        "regenerate release/ from source/ (nbgrader), strip widget state, check for leaks",
    )
    p = add(
        "check", _cmd_check, "lint source/, check release/ is in sync, run nbgrader's validator"
    )
    p.add_argument("--no-validate", action="store_true", help="skip the (slow) validator step")
    add(
        "record",
        _cmd_record,
        "re-execute source notebooks in a scratch folder and store their outputs",
    )
    p = add(
        "grade", _cmd_grade, "autograde submitted/, write feedback, grades.csv and the triage list"
    )
    p.add_argument(
        "--student", dest="students", action="append", help="grade only this student (repeatable)"
    )
    _add_timeouts(p)
    p.add_argument(
        "--budget",
        type=_seconds,
        help="seconds all checks of one notebook may take together (default: 600)",
    )
    _add_jobs(p)
    _add_python(p)
    _add_unsafe(p)
    p = add("demo", _cmd_demo, "synthesise a demo class into submitted/ and grade it")
    _add_timeouts(p)
    _add_jobs(p)
    _add_python(p)
    _add_unsafe(p)
    help = "check that student code can be sandboxed on this machine (a trial run)"
    p = sub.add_parser("sandbox", help=help, description=help)
    p.set_defaults(func=_cmd_sandbox)
    _add_python(p)
    _add_lab(sub)
    return parser


def _add_lab(sub) -> None:
    help = "start JupyterLab set up for a student (their workspace) or, with --instructor, an instructor"
    p = sub.add_parser("lab", help=help, description=help)
    p.set_defaults(func=_cmd_lab)
    p.add_argument(
        "--instructor", action="store_true", help="course root, formgrader and all nbgrader panels"
    )
    p.add_argument(
        "--workspace",
        metavar="DIR",
        help="the student's own copies of the lessons (default: workspace/ in the course root)",
    )
    p.add_argument("--port", type=_positive, help="port to serve on (default: Jupyter's, 8888)")
    p.add_argument("--ip", help="address to serve on (default: Jupyter's, localhost)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")


def _add_timeouts(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        type=_seconds,
        help="seconds each check may run (default: Execute.timeout in nbgrader_config.py)",
    )


def _add_python(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--python",
        metavar="X.Y",
        help="run checks with this Python version (built by `make pythons`; default: the host's)",
    )


def _add_unsafe(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run student code without the sandbox, with your rights (trusted notebooks only)",
    )


def _add_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs",
        "-j",
        type=_positive,
        default=None,
        help="submissions graded at once, each in its own worker (default: the number of cores)",
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    prepare_process()
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"course: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("course: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
