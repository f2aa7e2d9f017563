"""Run one graded check and decide, from outside, whether it passed.

A check is one graded test cell of the instructor's notebook (hidden checks
included), run by :mod:`course.lesson.runner` in a fresh process that has
run only the lesson's set-up cell and written the student's answers into
its scratch folder: no cell of the student's notebook runs, ever.

The verdict (:func:`verdict`) is strict: full points only for exactly one
``passed`` report that carries this run's secret token, from a process
that exited with status 0 within the time allowed and wrote nothing on
standard error. Anything else is 0 points with the reason in the student's
words: the failed check's message (a hidden check's message with any line
of hidden test code taken out), a timeout, a crash, output on standard
error, or something of the interpreter replaced while the check ran. Only
a failure of the set-up itself (the course's fault, not the student's)
sends the submission to manual grading.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from .answers import Answer
from .sandbox import Box, Completed
from .spec import Check, GivenFile, LessonSpec

__all__ = ["Verdict", "build_job", "run_check", "verdict"]

#: Hidden-test lines shorter than this are too common ("x = 1") to scrub.
_MIN_SECRET_LINE = 12


@dataclass(frozen=True)
class Verdict:
    """The result of one check, in the student's terms."""

    passed: bool
    message: str = ""
    hidden: bool = False  # a hidden check failed
    setup_failed: bool = False  # the course's set-up failed: manual grading
    tampered: bool = False  # something of the interpreter was replaced
    error: str = ""  # the exception type that failed the check, if one did
    seconds: float = 0.0
    notes: tuple[str, ...] = ()  # sandbox limits hit


def build_job(spec: LessonSpec, answers: list[Answer], check: Check) -> dict:
    """The runner's job: the set-up cell, the files (the lesson's given
    files and the student's answers, in notebook order), the test cell."""
    given = {a.grade_id: a for a in answers}
    files = []
    for item in spec.files:
        if isinstance(item, GivenFile):
            files.append([item.path, item.text, item.append])
        elif item.grade_id in given:
            answer = given[item.grade_id]
            files.append([answer.path, answer.text, answer.append])
    return {"setup": spec.setup, "answers": files, "test": check.source}


def _scrub(message: str, check: Check) -> str:
    """``message`` with every line of hidden test code that it quotes
    replaced (a student's code could read the running check and put its
    text into a value that an assert message shows). Lines that students
    can read anyway (in their notebook) are left alone."""
    for line in check.secrets:
        if len(line) >= _MIN_SECRET_LINE and line in message:
            message = message.replace(line, "[hidden check code]")
    return message


def _first_lines(data: bytes, n: int = 3) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    shown = "\n".join(lines[-n:])
    return shown if len(lines) <= n else "...\n" + shown


def verdict(check: Check, done: Completed, timeout: float) -> Verdict:
    """Decide ``check``'s result from what its process did (module docstring)."""
    common = {"seconds": done.seconds, "notes": tuple(done.notes)}
    if done.decoy_written:
        return Verdict(
            False,
            "The check did not complete: a report was written where the grader's runner never writes (a forged report).",
            tampered=True,
            **common,
        )
    if done.timed_out:
        return Verdict(
            False, f"The check did not finish within {timeout:g} s (timed out).", **common
        )
    reports = []
    for line in done.result.decode("utf-8", "replace").splitlines():
        try:
            report = json.loads(line)
        except ValueError:
            report = None
        reports.append(report if isinstance(report, dict) else {})
    if len(reports) != 1:
        why = (
            f"the check's process ended without reporting (exit status {done.returncode})"
            if not reports
            else "the check's process reported more than once (something else wrote its report)"
        )
        extra = f": {_first_lines(done.stderr)}" if done.stderr.strip() else ""
        return Verdict(False, f"The check did not complete: {why}{extra}.", **common)
    report = reports[0]
    status = report.get("status")
    if status == "passed":
        if not secrets.compare_digest(str(report.get("token", "")), done.token):
            return Verdict(
                False,
                "The check did not complete: its report was not the grader's.",
                tampered=True,
                **common,
            )
        if done.returncode != 0:
            return Verdict(
                False, f"The check's process exited with status {done.returncode}.", **common
            )
        if done.stderr.strip():
            return Verdict(
                False,
                "The check wrote to standard error (a warning or an error message), "
                f"which counts as a failure:\n{_first_lines(done.stderr)}",
                **common,
            )
        return Verdict(True, **common)
    if status == "tampered":
        changes = [str(c) for c in report.get("changes", [])][:5]
        return Verdict(
            False,
            "Your code replaced part of Python itself while the check ran ("
            + "; ".join(changes)
            + "), so the check cannot be trusted.",
            tampered=True,
            **common,
        )
    if status == "failed":
        kind = str(report.get("type", "Exception"))[:200]
        message = str(report.get("message", ""))
        line = report.get("line") if isinstance(report.get("line"), int) else None
        if report.get("where") == "setup":
            return Verdict(
                False,
                f"The lesson's set-up failed before the check could run: {kind}: {message}",
                setup_failed=True,
                **common,
            )
        hidden = check.in_hidden(line)
        text = (
            message if kind == "AssertionError" and message else f"{kind}: {message}".rstrip(": ")
        )
        if kind == "AssertionError" and not message:
            text = "AssertionError (the check gives no message)"
        if hidden:
            return Verdict(
                False,
                "A hidden check failed. " + _scrub(text, check),
                hidden=True,
                error=kind,
                **common,
            )
        # An assert's own message says what was expected: quoting the assert's
        # source before it only adds noise. Any other error gets the line that
        # raised it, which is the student's only pointer.
        code = check.visible_line(line)
        if code and kind == "AssertionError" and message:
            where = f" (line {line})"
        else:
            where = f" (line {line}: {code})" if code else ""
        return Verdict(
            False, f"This check failed{where}. {_scrub(text, check)}", error=kind, **common
        )
    return Verdict(False, "The check did not complete: its report was not understood.", **common)


def run_check(
    box: Box,
    slot: int,
    spec: LessonSpec,
    answers: list[Answer],
    check: Check,
    timeout: float,
) -> Verdict:
    """Run ``check`` against ``answers`` in ``box``'s slot ``slot`` and
    judge it. Side effects: those of the box (a process started and ended)."""
    done = box.run(slot, build_job(spec, answers, check), timeout)
    return verdict(check, done, timeout)
