"""The tripwires (course.grading.tripwires): they catch reaches for the kernel
or the grader, and no reference answer or mutant trips one."""

from __future__ import annotations

import pytest

from course import notebooks as nbs
from course.authoring.synth import load_mutants
from course.coursedir import Course
from course.grading.tripwires import tripwires

from ..support import DATA


def _answers() -> list[tuple[str, str]]:
    """Every reference answer and every mutant's answer of the course, as
    (where, module source)."""
    course = Course(DATA)
    found = []
    for lesson in course.lessons():
        for cell in nbs.read(course.source_notebook(lesson)).cells:
            if nbs.is_solution(cell):
                text = nbs.solution_as_student_writes_it(cell)
                found.append((f"{lesson} {nbs.grade_id(cell)}", text.split("\n", 1)[-1]))
        for mutant in load_mutants(course, lesson):
            for gid, text in mutant.replace.items():
                found.append(
                    (f"{lesson} mutant {mutant.name} {gid}", text.strip("\n").split("\n", 1)[-1])
                )
    return found


def test_no_reference_answer_or_mutant_trips_a_wire():
    """Is every reference answer and every mutant free of tripwires (they flag only what no honest answer needs)?"""
    answers = _answers()
    assert len(answers) > 100
    tripped = {where: tripwires(code) for where, code in answers if tripwires(code)}
    assert tripped == {}


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("get_ipython().input_transformers_cleanup.append(len)", "get_ipython"),
        ("from IPython import get_ipython", "IPython"),
        ("ip.events.register('pre_run_cell', f)", "events.register"),
        ("import sys\nsys.settrace(f)", "settrace"),
        ("import sys\nsys._getframe(1).f_back.f_locals", "_getframe"),
        ("import builtins\nbuiltins.sorted = sorted", "builtins"),
        ("__builtins__['len'] = f", "__builtins__"),
        ("import os\nos.read(5, 10)", "os.read"),
        ("import os\nos._exit(0)", "_exit"),
        ("open('/proc/self/mem')", "/proc/self"),
        ("__import__('ctypes')", "ctypes"),
        ("import gc\ngc.get_referrers(x)", "gc"),
        ("import course.lesson", "course"),
    ],
)
def test_each_reach_is_named(code, words):
    """Does each kind of reach for the kernel or the grader get a flag that names it?"""
    assert any(words in flag for flag in tripwires(code)), tripwires(code)


def test_code_that_does_not_parse_is_left_to_the_checks():
    """Is an answer that is not valid Python left unflagged (its checks fail on their own)?"""
    assert tripwires("def broken(:\n") == []
