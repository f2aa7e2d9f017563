"""nbval, strict, on every source notebook: twice, in a scratch copy.

nbval starts each kernel in the notebook's folder (design.md trap 2), so the
notebooks are copied out of the repository first; the second run on the same
copy proves "Restart and Run All" works again on a folder that has been run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import notebooks as nbs

from .conftest import REPO

SANITIZE = REPO / "tests" / "nbval_sanitize.cfg"


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
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--nbval",
        "--nbval-current-env",
    ]
    cmd += ["--nbval-sanitize-with", str(SANITIZE), *map(str, notebooks)]
    for run in (1, 2):
        result = subprocess.run(
            cmd, cwd=work, capture_output=True, text=True, timeout=900, check=False
        )
        assert result.returncode == 0, f"nbval run {run} failed:\n{result.stdout[-6000:]}"
        counts = {
            kind: int(n)
            for n, kind in re.findall(r"(\d+) (passed|skipped|failed|errors?)", result.stdout)
        }
        # Cells tagged nbval-skip say in the notebook why nbval cannot run them.
        assert counts == (
            {"passed": len(cells) - skipped, "skipped": skipped}
            if skipped
            else {"passed": len(cells)}
        ), result.stdout[-2000:]
    assert _snapshot(repo.source, repo.release) == before


@pytest.mark.slow
def test_recording_again_changes_nothing(course_copy, repo):
    """Are the stored outputs exactly what `course record` produces now?"""
    from .conftest import run_course

    result = run_course("--root", str(course_copy.root), "record")
    assert result.returncode == 0, result.stderr
    for lesson in repo.lessons():
        assert (
            course_copy.source_notebook(lesson).read_bytes()
            == repo.source_notebook(lesson).read_bytes()
        ), f"{lesson}: stored outputs are stale: run `course record {lesson}`"
