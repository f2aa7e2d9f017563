"""Every source notebook, and the graded demo class, on every supported Python.

For each version of :data:`course.pythons.SUPPORTED` (or each ``--python``):

(a) **notebooks**: each source notebook runs top to bottom in a real Jupyter
    kernel of that version (:func:`course.pythons.write_kernelspec`: Debian
    sid's interpreter under bwrap, or the host's 3.11 with its kernel
    environment) under nbval in lax mode (``--nbval-lax``: stored outputs
    are not compared, since they may differ between versions, but any error
    in any cell, such as a failing ``assert``, fails it). One pytest process
    per notebook, ``--jobs`` (2) at a time, with ``course.authoring.nbval_kernels``
    (IPC sockets, kernel stderr kept, one retry of a failed start), in a
    scratch copy of ``source/``: nbval starts kernels in the notebook's
    folder (design.md trap 2). nbval's strict comparison stays in
    ``make test``, on the host's version.
(b) **grading**: ``course demo LESSON --python X --jobs 2`` in a copy of the
    course (:func:`course.authoring.synth.copy_course`): the reference,
    blank, ``pass`` and every mutant student must score as designed. While
    ``course demo`` has no ``--python`` option, grading is reported as
    ``n/a`` (not available) and the run fails: it is never shown as ok.
    ``--skip-grading-on X.Y`` leaves one version's grading out (shown as
    skipped, with the reason): ``make test-pythons`` leaves out the host's
    3.11, whose grading of the same demo class ``make test`` runs.

Prints one table (version x lesson: notebook and grading, each ok or failed,
with seconds), then the first lines of every failing cell's error and of
every failed grading run, then the counts and the total time. Exits 0 only
if every notebook and every grading run passed; pytest's exit 5 (nothing
collected) is a failure. The whole output of each failed run is kept in
``test-artifacts/pythons/``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from course import pythons
from course.authoring.synth import copy_course
from course.coursedir import Course, CourseError

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = REPO / "test-artifacts" / "pythons"
#: nbval, lax, in a separate pytest; the kernel is chosen per version.
NBVAL_LAX = [
    *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "course.authoring.nbval_kernels"),
    *("-q", "--color=no", "--nbval-lax", "--nbval-cell-timeout", "300"),
]  # fmt: skip
NOTEBOOK_TIMEOUT = 1200  # seconds for one notebook's whole nbval run
GRADING_TIMEOUT = 1800  # seconds for one lesson's demo class
#: Terminal colours, raw or as pytest's junit XML escapes the ESC character.
ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*[A-Za-z]")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b(:|$)")


@dataclass
class Result:
    """One cell of the table: ``ok``, ``failed``, ``n/a`` (cannot be run
    here yet) or ``skipped`` (asked for), with what an author needs."""

    status: str
    seconds: float | None = None
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "ok"


def _clean(text: str) -> str:
    return ANSI.sub("", text)


def error_lines(text: str, keep: int = 3) -> list[str]:
    """The exception line of an nbval failure (plus up to ``keep - 1``
    lines after it, e.g. the rest of an assert message) and the source line
    the traceback points at; or the last lines if no exception line is found."""
    text = _clean(text)
    timeout = [line.strip() for line in text.splitlines() if "Timeout of" in line]
    if timeout:
        return timeout[:1]
    body = text.split("Traceback:", 1)[-1]
    lines = [line.rstrip() for line in body.splitlines() if line.strip()]
    arrows = [line.strip() for line in lines if line.lstrip().startswith("---->")]
    for at in range(len(lines) - 1, -1, -1):
        if EXCEPTION_LINE.match(lines[at]):
            found = lines[at : at + keep]
            return found + ([f"at: {arrows[-1]}"] if arrows else [])
    return lines[-keep:] or ["(no message)"]


def junit_failures(xml: Path) -> tuple[int, list[tuple[int, str]]]:
    """From a junit XML report: how many test cases ran, and each failed
    one's nbval code-cell number (-1 if not a cell) and failure text."""
    root = ET.parse(xml).getroot()
    cases = list(root.iter("testcase"))
    failed = []
    for case in cases:
        for problem in (*case.findall("failure"), *case.findall("error")):
            match = re.fullmatch(r"Cell (\d+)", case.get("name", ""))
            text = (problem.get("message") or "") + "\n" + (problem.text or "")
            failed.append((int(match.group(1)) if match else -1, text))
    return len(cases), failed


def cell_where(notebook: Path, code_cell: int) -> str:
    """``cell I (code cell N) `first line``` for nbval's code-cell number N."""
    if code_cell < 0:
        return "(not a cell: set-up or tear-down)"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    index = code[code_cell]
    source = cells[index]["source"]
    source = "".join(source) if isinstance(source, list) else source
    first = next((line for line in source.splitlines() if line.strip()), "")
    return f"cell {index} (code cell {code_cell}) `{first[:80]}`"


def run_notebook(notebook: Path, kernel: str, env: dict[str, str], log: Path) -> Result:
    """Run one notebook under nbval lax with ``kernel``; its folder is a scratch copy."""
    xml = notebook.parent / "nbval-junit.xml"
    cmd = [*NBVAL_LAX, "--nbval-kernel-name", kernel, f"--junitxml={xml}", notebook.name]
    started = time.monotonic()
    try:
        done = subprocess.run(
            cmd,
            cwd=notebook.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=NOTEBOOK_TIMEOUT,
            check=False,
        )
        output, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        output = (
            (exc.stdout or b"").decode(errors="replace")
            if isinstance(exc.stdout, bytes)
            else (exc.stdout or "")
        )
        code = None
    seconds = time.monotonic() - started
    log.write_text(_clean(output), encoding="utf-8")
    if code is None:
        return Result("failed", seconds, [f"no result after {NOTEBOOK_TIMEOUT} s (nbval killed)"])
    ran, failed = junit_failures(xml) if xml.is_file() else (0, [])
    xml.unlink(missing_ok=True)
    if code == 0 and ran and not failed:
        log.unlink()
        return Result("ok", seconds)
    details = []
    for cell, text in failed:
        details.append(f"{cell_where(notebook, cell)}:")
        details += [f"    {line[:300]}" for line in error_lines(text)]
    if not failed:
        why = "no tests collected (pytest exit 5)" if code == 5 else f"pytest exit {code}"
        tail = [line for line in _clean(output).splitlines() if line.strip()][-5:]
        details = [f"{why}:", *(f"    {line[:300]}" for line in tail)]
    return Result("failed", seconds, details)


def demo_has_python_option() -> bool:
    """Does ``course demo`` take ``--python`` yet?"""
    done = subprocess.run(
        [str(BIN / "course"), "demo", "--help"], capture_output=True, text=True, check=False
    )
    return "--python" in done.stdout


def run_grading(root: Path, lesson: str, version: str, log: Path) -> Result:
    """Grade the demo class of one lesson on ``version`` in the course copy ``root``."""
    cmd = [str(BIN / "course"), "--root", str(root), "demo", lesson, "--python", version]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*cmd, "--jobs", "2"],
            capture_output=True,
            text=True,
            timeout=GRADING_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Result(
            "failed", time.monotonic() - started, [f"no result after {GRADING_TIMEOUT} s"]
        )
    seconds = time.monotonic() - started
    if done.returncode == 0:
        return Result("ok", seconds)
    log.write_text(done.stdout + "\n" + done.stderr, encoding="utf-8")
    return Result(
        "failed",
        seconds,
        [f"course demo exit {done.returncode}:", *grading_lines(done.stderr or done.stdout)],
    )


def grading_lines(text: str, keep: int = 5) -> list[str]:
    """What a failed ``course demo`` says: the students that did not score as
    designed (one line each), else its error line, else its last lines."""
    lines = [line for line in _clean(text).splitlines() if line.strip()]
    marker = "did not score as designed"
    at = next((i for i, line in enumerate(lines) if marker in line), None)
    if at is not None:
        found = [line.strip() for line in lines[at + 1 :] if line.startswith("  demo-")]
    else:
        found = [line.strip() for line in lines if line.startswith("course: error:")]
    found = found or [line.rstrip() for line in lines[-keep:]]
    more = [f"... and {len(found) - keep} more"] if len(found) > keep else []
    return [f"    {line[:200]}" for line in found[:keep]] + more


def _fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f}"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def table(versions: list[str], lessons: list[str], notebooks: dict, grading: dict) -> list[str]:
    """The version x lesson table, as lines."""
    width = max(len(lesson) for lesson in lessons)
    head = f"{'python':<7} {'lesson':<{width}}  {'notebook':<8} {'s':>5}  {'grading':<8} {'s':>5}"
    lines = [head, "-" * len(head)]
    for version in versions:
        for lesson in lessons:
            nb, gr = notebooks[version, lesson], grading[version, lesson]
            lines.append(
                f"{version:<7} {lesson:<{width}}  {nb.status:<8} {_fmt(nb.seconds):>5}"
                f"  {gr.status:<8} {_fmt(gr.seconds):>5}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.pythons",
        description="Run every source notebook (nbval lax) and grade the demo class on each supported Python.",
    )
    parser.add_argument("lessons", nargs="*", metavar="LESSON", help="default: all")
    parser.add_argument(
        "--python", action="append", choices=pythons.SUPPORTED, help="repeatable (default: all)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at once (default: 2)")
    parser.add_argument(
        "--skip-grading", action="store_true", help="notebooks only (grading shown as skipped)"
    )
    parser.add_argument(
        "--skip-grading-on",
        action="append",
        default=[],
        choices=pythons.SUPPORTED,
        metavar="X.Y",
        help="no grading on this version (shown as skipped; repeatable): `make test` grades "
        "the same demo class on the host's version",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    course = Course(REPO)
    try:
        lessons = course.resolve_lessons(args.lessons)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    versions = args.python or list(pythons.SUPPORTED)
    found: dict[str, pythons.Interpreter] = {}
    missing: dict[str, str] = {}
    for version in versions:
        try:
            found[version] = pythons.find(version)
        except CourseError as exc:
            missing[version] = str(exc)
    notebooks: dict[tuple[str, str], Result] = {}
    grading: dict[tuple[str, str], Result] = {}
    for version, why in missing.items():
        for lesson in lessons:
            notebooks[version, lesson] = Result("failed", None, [why])
            grading[version, lesson] = Result("failed", None, [why])
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's outputs only
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="test-pythons-") as tmp:
        work = Path(tmp)
        lib = pythons.runtime_copy(work / "lib")
        share = work / "share"
        kernels = {v: pythons.write_kernelspec(i, share, lib) for v, i in found.items()}
        env = dict(os.environ)
        env["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(share), os.environ.get("JUPYTER_PATH")) if p
        )
        ignore = shutil.ignore_patterns("_scratch", ".ipynb_checkpoints", "__pycache__")
        jobs = []
        for version in found:
            copy = work / "notebooks" / version
            shutil.copytree(course.source, copy, ignore=ignore)
            jobs += [(version, lesson, copy / lesson / f"{lesson}.ipynb") for lesson in lessons]
        # Interleave the versions, so both processes do not start on one version's slowest lessons.
        jobs.sort(key=lambda job: (job[1], job[0]))
        print(f"notebooks: {len(jobs)} runs, {args.jobs} at a time", flush=True)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {
                pool.submit(
                    run_notebook, nb, kernels[v], env, ARTIFACTS / f"{v}-{lesson}-notebook.log"
                ): (v, lesson)
                for v, lesson, nb in jobs
            }
            for future in as_completed(futures):
                key = futures[future]
                notebooks[key] = result = future.result()
                print(
                    f"  {key[0]} {key[1]}: {result.status} ({_fmt(result.seconds)} s)", flush=True
                )
        notebook_time = time.monotonic() - started
        grading_note = ""
        if args.skip_grading:
            for version in found:
                for lesson in lessons:
                    grading[version, lesson] = Result("skipped")
        elif not demo_has_python_option():
            grading_note = (
                "grading n/a: `course demo` has no --python option yet, so the demo class "
                "cannot be graded on a chosen version; counted as not passed"
            )
            for version in found:
                for lesson in lessons:
                    grading[version, lesson] = Result("n/a")
        else:
            skipped = [v for v in found if v in args.skip_grading_on]
            for version in skipped:
                for lesson in lessons:
                    grading[version, lesson] = Result("skipped")
            if skipped:
                grading_note = (
                    f"grading skipped on {', '.join(skipped)} (asked for): "
                    "`make test` grades the same demo class on the host's version "
                    "(tests/test_grading.py)"
                )
            for version in (v for v in found if v not in skipped):
                root = copy_course(course, work / "courses" / version).root
                for lesson in lessons:
                    log = ARTIFACTS / f"{version}-{lesson}-grading.log"
                    grading[version, lesson] = result = run_grading(root, lesson, version, log)
                    print(
                        f"  grading {version} {lesson}: {result.status} ({_fmt(result.seconds)} s)",
                        flush=True,
                    )
    total = time.monotonic() - started
    print()
    for line in table(versions, lessons, notebooks, grading):
        print(line)
    problems = [
        (f"{what} {v} {lesson}", r.details)
        for what, results in (("notebook", notebooks), ("grading", grading))
        for (v, lesson), r in sorted(results.items())
        if r.details
    ]
    if problems:
        print("\nfailures (whole outputs in test-artifacts/pythons/):")
        for title, details in problems:
            print(f"{title}:")
            for line in details:
                print(f"  {line}")
    if grading_note:
        print(f"\n{grading_note}")
    counts = []
    for what, results in (("notebooks", notebooks), ("grading", grading)):
        statuses = [r.status for r in results.values()]
        parts = [f"{statuses.count('ok')} passed", f"{statuses.count('failed')} failed"]
        parts += [f"{statuses.count(s)} {s}" for s in ("n/a", "skipped") if s in statuses]
        counts.append(f"{what}: {', '.join(parts)}")
    print()
    print("; ".join(counts))
    print(
        f"total time: {_duration(total)} (notebooks {_duration(notebook_time)}, "
        f"{args.jobs} at a time; grading {_duration(total - notebook_time)})"
    )
    everything = [*notebooks.values(), *grading.values()]
    return 0 if all(r.passed or r.status == "skipped" for r in everything) else 1
