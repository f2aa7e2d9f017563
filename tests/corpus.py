"""Pathological submissions: what students (or their bugs) can hand in.

Each entry is a student of lesson 01 who hands in the reference solution
plus one hostile or broken cell inserted right after the set-up cell (or a
broken notebook file), and what grading must make of it. ``ROOT`` in the
code is replaced by the course root's real absolute path, so an attack does
not depend on guessing where the course lives.

Attacks print a marker saying whether they succeeded (``…-ESCAPED``) or were
stopped (``…-BLOCKED``); the tests read the markers from the autograded
notebook as well as checking the damage on disk directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ATTACKS", "Attack", "write_attacks"]


@dataclass(frozen=True)
class Attack:
    student: str
    code: str
    status: str = "graded"  # the outcome recorded for the submission
    full_marks: bool = True  # the reference answers still earn everything
    reason: tuple[str, ...] = ()  # words the recorded reason must contain
    printed: tuple[str, ...] = field(default=())  # markers the notebook must show


def _try(marker: str, body: str) -> str:
    """Code that runs ``body`` and prints MARKER-ESCAPED if it got through,
    MARKER-BLOCKED (with the error type) if it was stopped."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        "import os, sys, shutil, socket, subprocess, time\n"
        "try:\n"
        f"{indented}\n"
        f"    print('{marker}-ESCAPED')\n"
        "except BaseException as exc:\n"
        f"    print('{marker}-BLOCKED', type(exc).__name__)\n"
    )


ATTACKS = [
    Attack("loop", "while True:\n    pass", reason=("timed out",)),
    Attack(
        "loop-ignoring-sigint",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        status="needs manual grading",
        full_marks=False,
        reason=("ignored the interrupt",),
    ),
    Attack("sys-exit", "import sys\nsys.exit()"),
    Attack(
        "os-exit",
        "import os\nos._exit(1)",
        status="needs manual grading",
        full_marks=False,
        reason=("kernel died",),
    ),
    Attack(
        "allocate-50-gib",
        _try("ALLOC", "big = bytearray(50 * 2**30)"),
        printed=("ALLOC-BLOCKED MemoryError",),
    ),
    Attack(
        "memory-bomb",
        "hog = []\nwhile True:\n    hog.append(b'x' * 10**8)",
        status="needs manual grading",
        full_marks=False,
        reason=("out of memory",),
    ),
    Attack(
        "fork-bomb",
        "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)",
        status="",  # the bomb may take the kernel down with it
        full_marks=False,
        reason=("process limit",),
    ),
    Attack(
        "forked-memory-hogs",
        "import os, time\nfor _ in range(8):\n    if os.fork() == 0:\n        hog = b'x' * (300 * 2**20)\n        time.sleep(3600)\ntime.sleep(3)",
        status="",  # the kernel may or may not be the process the OOM killer picks
        full_marks=False,
        reason=("out of memory",),
    ),
    Attack(
        "detached-grandchild",
        "import subprocess, sys\n"
        "later = '''\n"
        "import time\n"
        "time.sleep(4)\n"
        "for path in ('ROOT/gradebook.db', 'ROOT/grandchild-was-here'):\n"
        "    try:\n"
        "        open(path, 'w').write('gotcha')\n"
        "    except OSError:\n"
        "        pass\n"
        "'''\n"
        "subprocess.Popen([sys.executable, '-c', later], start_new_session=True,\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print('GRANDCHILD-STARTED')",
        printed=("GRANDCHILD-STARTED",),
    ),
    Attack(
        "delete-gradebook",
        _try("DELETE", "os.remove('ROOT/gradebook.db')"),
        printed=("DELETE-BLOCKED",),
    ),
    Attack(
        "overwrite-gradebook",
        _try("OVERWRITE", "open('ROOT/gradebook.db', 'w').write('not a database')"),
        printed=("OVERWRITE-BLOCKED",),
    ),
    Attack(
        "rmtree-autograded",
        _try("RMTREE", "shutil.rmtree('ROOT/autograded')"),
        printed=("RMTREE-BLOCKED",),
    ),
    Attack(
        "rmtree-own-folder",  # self-harm only: the student's own copy goes, nothing else
        "import shutil\nshutil.rmtree('..', ignore_errors=True)",
        full_marks=False,
    ),
    Attack(
        "read-source",
        _try(
            "READ",
            "print(len(open('ROOT/source/01_modules_and_namespaces/01_modules_and_namespaces.ipynb').read()))",
        ),
        printed=("READ-BLOCKED",),
    ),
    Attack(
        "network",
        _try("NET", "socket.create_connection(('pypi.org', 443), timeout=3).close()"),
        printed=("NET-BLOCKED",),
    ),
    Attack(
        "network-loopback",
        _try("LOOPBACK", "socket.create_connection(('127.0.0.1', 22), timeout=3).close()"),
        printed=("LOOPBACK-BLOCKED",),
    ),
    Attack(
        "write-outside",
        _try("WRITE", "open('ROOT/escaped.txt', 'w').write('I was here')"),
        printed=("WRITE-BLOCKED",),
    ),
    Attack(
        "write-socket-folder",  # the one real folder the kernel had to write to
        _try(
            "SOCKDIR",
            "argv = open('/proc/self/cmdline').read().split('\\0')\n"
            "folder = os.path.dirname(argv[argv.index('-f') + 1])\n"
            "open(os.path.join(folder, 'filler.bin'), 'wb').write(b'x' * 2**20)",
        ),
        printed=("SOCKDIR-BLOCKED PermissionError",),
    ),
    Attack(
        "fill-disk",
        _try(
            "DISK",
            "for i in range(10):\n"
            "    with open(f'filler{i}.bin', 'wb') as f:\n"
            "        for _ in range(40):\n"
            "            f.write(b'x' * 2**20)",
        )
        + "for i in range(10):\n    if os.path.exists(f'filler{i}.bin'):\n        os.remove(f'filler{i}.bin')\n",
        printed=("DISK-BLOCKED OSError",),
    ),
    Attack(
        "huge-line",
        "print('x' * 100_000_000)",
        printed=("output cut",),
    ),
    Attack(
        "print-flood",
        "while True:\n    print('spam ' * 2000)",
        # Without course.lesson.outcap this ended three ways in three runs: graded;
        # kernel killed at the 1 GiB limit; kernel too busy for the interrupt.
        reason=("timed out",),
        printed=("output cut",),
    ),
]


def write_attacks(course, lesson: str) -> None:
    """Write every attack as a submission of ``lesson`` (lesson 01)."""
    import nbformat

    from course.authoring.synth import student_notebook, write_submission

    for attack in ATTACKS:
        nb = nbformat.from_dict(student_notebook(course, lesson, "reference"))
        setup = next(i for i, c in enumerate(nb.cells) if "start_lesson(" in c.source)
        code = attack.code.replace("ROOT", str(course.root))
        nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(code))
        write_submission(course, attack.student, lesson, nb)
