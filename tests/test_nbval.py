"""nbval, strict, on every source notebook: twice, in a scratch copy.

nbval starts each kernel in the notebook's folder (design.md trap 2), so the
notebooks are copied out of the repository first; the second run on the same
copy proves "Restart and Run All" works again on a folder that has been run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from course import notebooks as nbs

from .support import REPO
from .unit.nbfactory import printing_notebook

pytestmark = pytest.mark.kernel

SANITIZE = REPO / "tests" / "nbval_sanitize.cfg"
#: nbval in strict mode, in a separate pytest, with this environment's kernel,
#: started by course.authoring.nbval_kernels (Unix sockets instead of TCP ports, a private
#: IPython directory, kernel stderr kept, one retry of a failed start).
NBVAL = [
    *(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "course.authoring.nbval_kernels",
        "-q",
    ),
    *("--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE)),
]


def _report_retries(output: str) -> None:
    """Turn course.authoring.nbval_kernels' RETRIED lines into warnings in the summary."""
    from course.kernels import KernelStartRetried

    for line in output.splitlines():
        if line.startswith("RETRIED "):
            warnings.warn(KernelStartRetried(line), stacklevel=2)


def _snapshot(*folders: Path) -> dict[str, bytes]:
    """Every file under ``folders``, ignored ones included, with its bytes."""
    return {str(p): p.read_bytes() for f in folders for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_source_notebooks_pass_nbval_strict_twice_and_leave_nothing(repo, tmp_path):
    """Do all source notebooks match their stored outputs, twice in a row, leaving source/ and release/ untouched?"""
    before = _snapshot(repo.source, repo.release)
    work = tmp_path / "notebooks"
    shutil.copytree(
        repo.source, work, ignore=shutil.ignore_patterns("_scratch", ".ipynb_checkpoints")
    )
    notebooks = sorted(work.glob("*/*.ipynb"))
    assert [p.stem for p in notebooks] == repo.lessons() != []
    cells = [c for p in notebooks for c in nbs.read(p).cells if c.cell_type == "code"]
    skipped = sum("nbval-skip" in c.metadata.get("tags", []) for c in cells)
    cmd = NBVAL
    # Each run splits the notebooks between two concurrent nbval processes
    # (one per core); the second run starts only after the first has ended.
    halves = [notebooks[0::2], notebooks[1::2]]
    for run in (1, 2):
        procs = [
            subprocess.Popen(
                [*cmd, *map(str, half)],
                cwd=work,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for half in halves
            if half
        ]
        outputs = [proc.communicate(timeout=900)[0] for proc in procs]
        counts: dict[str, int] = {}
        for proc, output in zip(procs, outputs, strict=True):
            _report_retries(output)
            assert proc.returncode == 0, f"nbval run {run} failed:\n{output[-6000:]}"
            for n, kind in re.findall(r"(\d+) (passed|skipped|failed|errors?)", output):
                counts[kind] = counts.get(kind, 0) + int(n)
        # Cells tagged nbval-skip say in the notebook why nbval cannot run them.
        expected = (
            {"passed": len(cells) - skipped, "skipped": skipped}
            if skipped
            else {"passed": len(cells)}
        )
        assert counts == expected, outputs
    assert _snapshot(repo.source, repo.release) == before


@pytest.mark.slow
def test_recording_again_changes_nothing(course_copy, repo):
    """Are the stored outputs exactly what `course record` produces now?"""
    from .support import run_course

    result = run_course("--root", str(course_copy.root), "record")
    assert result.returncode == 0, result.stderr
    for lesson in repo.lessons():
        assert (
            course_copy.source_notebook(lesson).read_bytes()
            == repo.source_notebook(lesson).read_bytes()
        ), f"{lesson}: stored outputs are stale: run `course record {lesson}`"


BYTECODE_LESSONS = ("06_caching_and_reload", "08_bytecode_and_pycache")


@pytest.mark.slow
def test_bytecode_lessons_do_not_depend_on_pythondontwritebytecode(repo, tmp_path):
    """Do the lessons that teach bytecode match their stored outputs both with PYTHONDONTWRITEBYTECODE=1 and without it (design.md trap 6)?"""
    cmd = NBVAL
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    procs = {}
    for name, env in (("set", {**base, "PYTHONDONTWRITEBYTECODE": "1"}), ("unset", base)):
        folder = tmp_path / name
        notebooks = []
        for lesson in BYTECODE_LESSONS:
            assert lesson in repo.lessons()
            (folder / lesson).mkdir(parents=True)
            notebooks.append(str(shutil.copy(repo.source_notebook(lesson), folder / lesson)))
        procs[name] = subprocess.Popen(
            [*cmd, *notebooks],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    for name, proc in procs.items():
        output = proc.communicate(timeout=900)[0]
        _report_retries(output)
        assert proc.returncode == 0, f"PYTHONDONTWRITEBYTECODE {name}:\n{output[-6000:]}"
        assert re.search(r"\d+ passed", output) and not re.search(r"\d+ (failed|error)", output), (
            output[-2000:]
        )


@pytest.mark.slow
def test_nbval_kernels_talk_over_unix_sockets(tmp_path):
    """Does course.authoring.nbval_kernels give nbval's kernels IPC sockets and a private IPython directory?"""
    import tempfile

    code = (
        "import json, ipykernel.connect\n"
        "print(json.loads(open(ipykernel.connect.get_connection_file()).read())['transport'])\n"
        "history = get_ipython().history_manager.hist_file\n"
        "print(history.parents[2].name.startswith('nbval-kernels-'))"
    )
    notebook = tmp_path / "transport.ipynb"
    nbs.write(printing_notebook(code, "ipc\nTrue\n"), notebook)
    folders = lambda: set(Path(tempfile.gettempdir()).glob("nbval-kernels-*"))  # noqa: E731
    before = folders()

    def nbval(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cmd, str(notebook)], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    with_plugin = nbval(NBVAL)
    assert with_plugin.returncode == 0, with_plugin.stdout[-3000:]
    assert folders() == before, "the plugin left its socket folder behind"
    # The same cell under plain nbval: TCP and ~/.ipython, so the outputs differ.
    at = NBVAL.index("course.authoring.nbval_kernels")
    without = nbval(NBVAL[: at - 1] + NBVAL[at + 1 :])
    assert without.returncode == 1, without.stdout[-3000:]
    assert "'tcp\\nFalse\\n'" in without.stdout, without.stdout[-3000:]


@pytest.mark.slow
def test_a_kernel_start_that_hangs_is_retried_once_and_reported(tmp_path):
    """Is a kernel that does not start retried once and listed, and a folder that always hangs its kernel still a failure?"""
    notebook = tmp_path / "hello.ipynb"
    nbs.write(printing_notebook("print('hello')", "hello\n"), notebook)
    # ipykernel imports the `comm` package before it answers (nbval's own
    # process does not); a module of that name on PYTHONPATH comes first.
    shadows = tmp_path / "shadows"
    shadows.mkdir()
    shadow = shadows / "comm.py"
    cmd = [*NBVAL, "--nbval-kernel-startup-timeout", "10", str(notebook)]
    env = {**os.environ, "PYTHONPATH": str(shadows)}

    def nbval() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    shadow.write_text(
        "import os, sys, time\nos.remove(__file__)\nprint('stuck once', file=sys.stderr)\ntime.sleep(600)\n"
    )
    once = nbval()
    assert once.returncode == 0, once.stdout[-3000:]
    assert once.stdout.count("RETRIED ") == 1, once.stdout[-3000:]
    assert "didn't respond in 10 seconds" in once.stdout and "stuck once" in once.stdout

    shadow.write_text("import time\ntime.sleep(600)\n")
    always = nbval()
    assert always.returncode == 1, always.stdout[-3000:]
    assert always.stdout.count("RETRIED ") == 1, always.stdout[-3000:]
