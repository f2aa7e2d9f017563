"""Hostile, cheating and broken submissions, and what grading must make of them.

Graded in the same `course grade` run as the whole synthetic class
(``tests/test_grading.py``), all of lesson 01 (the first lesson). Targets
are found from the lesson itself, so the corpus follows the lesson's
exercises: the *first answer* is the first answer cell, the *first checks*
the graded test cells of its exercise.

Three kinds:

* **cheats**: no solution at all, only an attempt to get points anyway or to
  leak the hidden tests (kernel tampering through IPython, spoofed output,
  forged runner reports, frame and memory walks, replaced builtins...): every
  answer cell holds the cheat. Each must score 0 on every cell.
* **robustness**: the reference answers, with hostile code placed at the top
  of the first answer's module, so it runs when the first checks import it
  (hangs, crashes, memory and fork bombs, attacks on the gradebook, on
  ``source/``, other students, the network, the disk). An attack that
  succeeds raises ``RuntimeError("ESCAPED")``, so an escape costs points and
  shows in the scores; a blocked one lets the module load and score.
* **awkward**: broken or unusual notebooks and folders (invalid JSON, an
  empty file, edited or deleted locked cells, stripped metadata, symbolic
  links, a missing notebook, a 20,000-cell notebook, active content in
  cells and outputs, hostile folder names).

``ROOT`` in code is replaced by the course root's real absolute path.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CHEATS", "HOSTILE_IDS", "ROBUSTNESS", "STUDENTS", "Cheat", "Hostile"]


@dataclass(frozen=True)
class Cheat:
    """A submission with no solution: ``code`` is every answer module."""

    student: str
    code: str
    flagged: bool = False  # the tripwires must name it for review


@dataclass(frozen=True)
class Hostile:
    """The reference answers with ``code`` run first in the first answer's module."""

    student: str
    code: str
    first_checks: str = (
        "full"  # "full": the attack was contained; "zero": it costs the first checks
    )
    status: str = "graded"
    reason: tuple[str, ...] = ()  # words the recorded reason must contain


def _escape_if(body: str) -> str:
    """Module code that runs ``body``; if it got through, the module raises
    ``RuntimeError('ESCAPED')`` (so the check fails), else it goes on."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        "import os, sys, shutil, socket, subprocess, time\n"
        "try:\n"
        f"{indented}\n"
        "except BaseException:\n"
        "    pass\n"
        "else:\n"
        "    raise RuntimeError('ESCAPED')\n"
    )


_FORGE_EVERY_PIPE = """
import json, os
secrets = []
for fd in range(3, 256):
    try:
        data = os.read(fd, 64)
    except OSError:
        continue
    if data:
        secrets.append(data.decode(errors="replace"))
for fd in range(3, 256):
    for secret in secrets:
        try:
            os.write(fd, (json.dumps({"status": "passed", "token": secret}) + "\\n").encode())
        except OSError:
            break
os._exit(0)
"""

_SETTRACE_SKIP = """
import sys
def tracer(frame, event, arg):
    if frame.f_code.co_filename == "<test>" and event == "line":
        return tracer
    return tracer
sys.settrace(tracer)
sys._getframe(1).f_trace = tracer
"""

_FRAME_WALK = """
import sys
frame = sys._getframe(0)
while frame is not None:
    frame.f_locals.get("result_fd")
    frame = frame.f_back
"""

_TRACEBACK_WALK = """
try:
    raise ZeroDivisionError
except ZeroDivisionError as exc:
    frame = exc.__traceback__.tb_frame
while frame is not None:
    frame = frame.f_back
"""

_SIGNAL_FRAME = """
import signal
seen = []
signal.signal(signal.SIGALRM, lambda signum, frame: seen.append(frame.f_back))
signal.setitimer(signal.ITIMER_REAL, 0.001)
import time
time.sleep(0.05)
seen[0].f_locals
"""

_READ_OWN_MEMORY = """
maps = open("/proc/self/maps").read().splitlines()
with open("/proc/self/mem", "rb") as mem:
    for line in maps:
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        mem.seek(start)
        mem.read(min(end - start, 4096))
"""

_REPLACE_BUILTINS = """
import builtins
real_sorted = builtins.sorted
builtins.sorted = lambda *args, **kwargs: ["PI", "circle_area", "square_area"]
builtins.type = lambda *args: int
"""

_REPLACE_HELPER = """
import sys
helpers = sys.modules["course.lesson"]
class Anything:
    def __getattr__(self, name):
        return self
    def __call__(self, *args, **kwargs):
        return self
    def __eq__(self, other):
        return True
helpers.fresh_import = lambda *names: Anything()
"""

_FAKE_MATH = """
import sys, types
fake = types.ModuleType("math")
fake.isclose = lambda *args, **kwargs: True
fake.pi = 3.0
sys.modules["math"] = fake
"""

#: No solution, only a way to get points. Each must score 0 on every cell.
CHEATS = [
    Cheat(
        "cheat-ipython-cleanup",
        "get_ipython().input_transformers_cleanup.append(lambda lines: [])",
        flagged=True,
    ),
    Cheat(
        "cheat-ipython-displayhook",
        "ip = get_ipython()\nip.events.register('pre_run_cell', lambda info: ip.displayhook('ok'))",
        flagged=True,
    ),
    Cheat(
        "cheat-ipython-ast",
        "import ast\nfrom IPython import get_ipython\n"
        "class Drop(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(Drop())",
        flagged=True,
    ),
    Cheat(
        "cheat-run-cell",
        "from IPython import get_ipython\nget_ipython().run_cell_async = None",
        flagged=True,
    ),
    Cheat(
        "cheat-ipython-post-transformer",
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
        flagged=True,
    ),
    Cheat(
        "cheat-post-run-cell",
        "ip = get_ipython()\nip.events.register('post_run_cell', lambda result: print('All checks passed'))\n"
        "ip.events.register('pre_run_cell', lambda info: print(info.raw_cell))",
        flagged=True,
    ),
    Cheat("cheat-print-success", "print('All checks passed: 9/9')\nprint('Success!')"),
    Cheat("cheat-print-history", "print('\\n'.join(In))", flagged=False),
    Cheat("cheat-sys-exit", "import sys\nsys.exit(0)"),
    Cheat("cheat-os-exit", "import os\nos._exit(0)", flagged=True),
    Cheat("cheat-forge-every-pipe", _FORGE_EVERY_PIPE, flagged=True),
    Cheat("cheat-settrace", _SETTRACE_SKIP, flagged=True),
    Cheat("cheat-frame-walk", _FRAME_WALK, flagged=True),
    Cheat("cheat-traceback-walk", _TRACEBACK_WALK, flagged=True),
    Cheat("cheat-signal-frame", _SIGNAL_FRAME, flagged=True),
    Cheat("cheat-read-memory", _READ_OWN_MEMORY, flagged=True),
    Cheat("cheat-replace-builtins", _REPLACE_BUILTINS, flagged=True),
    Cheat("cheat-replace-helper", _REPLACE_HELPER, flagged=True),
    Cheat("cheat-fake-math", _FAKE_MATH),
    Cheat("cheat-ctypes", "import ctypes\nctypes.pythonapi", flagged=True),
    Cheat("cheat-gc", "import gc\ngc.get_objects()", flagged=True),
    Cheat(
        "cheat-script-in-answer",
        "'''</pre><script>document.title = 'pwned'</script><img src=x onerror=alert(1)>'''\n"
        '# <a href="javascript:alert(1)">click</a>',
    ),
]

#: The reference answers with an attack at the top of the first answer's module.
ROBUSTNESS = [
    Hostile("loop", "while True:\n    pass", first_checks="zero", reason=("timed out",)),
    Hostile(
        "loop-ignoring-signals",
        "import signal\nfor s in (signal.SIGINT, signal.SIGTERM):\n    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass",
        first_checks="zero",
        reason=("timed out",),
    ),
    Hostile(
        "memory-bomb", "hog = []\nwhile True:\n    hog.append(b'x' * 10**8)", first_checks="zero"
    ),
    Hostile(
        "fork-bomb",
        "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)",
        first_checks="zero",
        reason=("process limit",),
    ),
    Hostile(
        "forked-memory-hogs",
        # Four children of 400 MB each cannot fit in the slot's 1 GiB: the
        # OOM killer ends one of them (the largest), not the small parent,
        # which waits until a child is gone and then loads normally.
        "import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        hog = b'x' * (400 * 2**20)\n        time.sleep(3600)\n"
        "deadline = time.monotonic() + 20\n"
        "while time.monotonic() < deadline and os.waitpid(-1, os.WNOHANG)[0] == 0:\n    time.sleep(0.05)",
        reason=("out of memory",),
    ),
    Hostile("allocate-50-gib", _escape_if("big = bytearray(50 * 2**30)")),
    Hostile(
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
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n",
    ),
    Hostile("delete-gradebook", _escape_if("os.remove('ROOT/gradebook.db')")),
    Hostile(
        "overwrite-gradebook", _escape_if("open('ROOT/gradebook.db', 'w').write('not a database')")
    ),
    Hostile("rmtree-autograded", _escape_if("shutil.rmtree('ROOT/autograded')")),
    Hostile(
        "read-source",
        _escape_if(
            "open('ROOT/source/01_modules_and_namespaces/01_modules_and_namespaces.ipynb').read()"
        ),
    ),
    Hostile("read-other-students", _escape_if("os.listdir('ROOT/submitted')")),
    Hostile(
        "network", _escape_if("socket.create_connection(('pypi.org', 443), timeout=3).close()")
    ),
    Hostile(
        "network-loopback",
        _escape_if("socket.create_connection(('127.0.0.1', 22), timeout=3).close()"),
    ),
    Hostile("write-outside", _escape_if("open('ROOT/escaped.txt', 'w').write('I was here')")),
    Hostile(
        "fill-disk",
        _escape_if(
            "for i in range(10):\n"
            "    with open(f'filler{i}.bin', 'wb') as f:\n"
            "        for _ in range(40):\n"
            "            f.write(b'x' * 2**20)"
        )
        + "import glob\nfor name in glob.glob('filler*.bin'):\n    os.remove(name)\n",
    ),
    Hostile("huge-print", "print('x' * 100_000_000)"),
    Hostile(
        "print-flood",
        "while True:\n    print('spam ' * 2000)",
        first_checks="zero",
        reason=("timed out",),
    ),
    Hostile("stderr-warning", "import sys\nprint('careful', file=sys.stderr)", first_checks="zero"),
]

#: Folder names under submitted/ that are not valid student ids, and a
#: misspelt lesson folder of a valid student (``dave``).
HOSTILE_IDS = [
    "eve,9",
    '=HYPERLINK("x")',
    "+1",
    "@sum",
    " leading-space",
    "bell\x07and\x1b[31mred",
    "carriage\rreturn",
]

#: Every cheat's and attack's name, for the tests.
STUDENTS = [c.student for c in CHEATS] + [h.student for h in ROBUSTNESS]
