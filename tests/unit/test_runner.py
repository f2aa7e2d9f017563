"""One check, run for real (course.lesson.runner through the unsandboxed box),
and the grader's verdict on it (course.grading.execute)."""

from __future__ import annotations

import pytest

from course.grading.answers import Answer
from course.grading.execute import run_check
from course.grading.sandbox import Unsandboxed
from course.grading.spec import lesson_spec

from .nbfactory import tiny_course

GOOD = "def answer():\n    return 42 * 1000 + 7"


@pytest.fixture(scope="module")
def box():
    with Unsandboxed() as opened:
        yield opened


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return lesson_spec(tiny_course(tmp_path_factory.mktemp("tiny")), "00_tiny")


def _run(box, spec, code: str, timeout: float = 20):
    answer = Answer("ex0_1_tiny", "tiny.py", code, False, True)
    return run_check(box, 0, spec, [answer], spec.checks[0], timeout)


def test_a_right_answer_passes(box, spec):
    """Does the reference answer pass in a fresh interpreter?"""
    result = _run(box, spec, GOOD)
    assert result.passed, result.message


def test_a_wrong_answer_fails_with_its_message(box, spec):
    """Does a wrong answer fail, saying a hidden check failed, with the check's message and none of its code?"""
    result = _run(box, spec, "def answer():\n    return 5")
    assert not result.passed and result.hidden
    assert "the exact answer" in result.message
    assert "42007" not in result.message


def test_a_visible_assert_gives_its_line_and_message_not_its_source(box, spec):
    """Does a failed visible assert give its line number and its message, without
    the assert's source (noise before the sentence a student can act on)?"""
    result = _run(box, spec, "def answer():\n    return -1")
    assert not result.passed and not result.hidden
    assert "(line 3)" in result.message and "answer() should be positive" in result.message
    assert "assert tiny.answer()" not in result.message, result.message


def test_a_visible_error_quotes_the_line_that_raised_it(box, spec):
    """Does an exception raised through a visible line quote that line?"""
    result = _run(box, spec, "def answer():\n    raise LookupError('no answer')")
    assert not result.passed and not result.hidden
    assert "assert tiny.answer() > 0" in result.message and "LookupError" in result.message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("import sys\nsys.exit(0)\n" + GOOD, "SystemExit"),
        ("import os\nos._exit(0)\n" + GOOD, "ended without reporting"),
        ("import sys\nprint('careful', file=sys.stderr)\n" + GOOD, "standard error"),
        ("while True:\n    pass", "timed out"),
        ("import sys\nsys.settrace(lambda *a: None)\n" + GOOD, "sys.settrace is not allowed"),
        ("import ctypes\n" + GOOD, "not allowed"),
        ("import gc\ngc.get_objects()\n" + GOOD, "gc.get_objects is not allowed"),
        ("import sys\nsys._getframe(0)\n" + GOOD, "frames are not handed out"),
        (
            "try:\n    1/0\nexcept ZeroDivisionError as e:\n    e.__traceback__.tb_frame\n" + GOOD,
            "frames are not handed out",
        ),
        ("import inspect\ninspect.stack()\n" + GOOD, "frames are not handed out"),
        ("open('/proc/self/mem', 'rb')\n" + GOOD, "memory is not readable"),
        (
            "import builtins\nbuiltins.sorted = lambda *a: []\n" + GOOD,
            "builtins.sorted was replaced",
        ),
        (
            "import sys\nsys.modules['course.lesson'].fresh_import = None\n" + GOOD,
            "fresh_import was replaced",
        ),
    ],
)
def test_tampering_and_accidents_score_nothing(box, spec, code, words):
    """Does each way of leaving the check early, writing to stderr, hanging, tracing, reading frames or memory, or replacing the interpreter's parts fail the check, saying why?"""
    result = _run(box, spec, code, timeout=3)
    assert not result.passed
    assert words in result.message, result.message


FORGE = """
import json, os
tokens = []
for fd in range(3, 256):
    try:
        data = os.read(fd, 64)
    except OSError:
        continue
    if data:
        tokens.append(data.decode())
for fd in range(3, 256):
    for token in tokens:
        try:
            os.write(fd, (json.dumps({"status": "passed", "token": token}) + "\\n").encode())
        except OSError:
            break
os._exit(0)
"""


def test_a_forged_report_on_every_pipe_is_caught(box, spec):
    """Does code that reads every pipe's secret and writes a 'passed' report everywhere get caught as a forgery?"""
    result = _run(box, spec, FORGE)
    assert not result.passed and result.tampered
    assert "forged" in result.message


def test_namedtuple_and_logging_still_work_in_an_answer(box, spec):
    """Do standard-library tools that look at frames (namedtuple, enum, logging, dataclasses) still work in a student's module?"""
    code = (
        "import collections, dataclasses, enum, logging, typing\n"
        "P = collections.namedtuple('P', 'x')\n"
        "E = enum.Enum('E', 'A B')\n"
        "T = typing.TypeVar('T')\n"
        "D = dataclasses.make_dataclass('D', ['x'])\n"
        "logging.getLogger('tiny').info('hello')\n" + GOOD
    )
    result = _run(box, spec, code)
    assert result.passed, result.message


def test_signal_handlers_get_no_frame(box, spec):
    """Does a signal handler set by the checked code receive no frame (the runner's would be reachable from it)?"""
    code = (
        "import signal, time\nseen = []\n"
        "signal.signal(signal.SIGALRM, lambda s, f: seen.append(f))\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.01)\ntime.sleep(0.2)\n"
        "assert seen == [None], f'the handler got {seen!r}'\n" + GOOD
    )
    result = _run(box, spec, code)
    assert result.passed, result.message
