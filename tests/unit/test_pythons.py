"""course.pythons: which interpreters there are and how each one runs.

Tests marked ``pythons`` run the real interpreters that ``make sandbox``
(3.11) and ``make pythons`` (3.13, 3.14, 3.15) build. Where one is not built
they are skipped with the reason, except under ``make test-pythons``
(``COURSE_REQUIRE_PYTHONS=1``), where a missing interpreter fails them.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import pythons
from course.coursedir import CourseError

from ..pythons import matrix
from ..support import REPO
from .nbfactory import printing_notebook


def _fake_venv(folder: Path, version: str) -> Path:
    """A folder that looks like a kernel environment of ``version``."""
    site = folder / "lib" / f"python{version}" / "site-packages"
    for package in pythons.KERNEL_PACKAGES:
        (site / package).mkdir(parents=True)
    (folder / "bin").mkdir()
    (folder / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}.2\n")
    return folder


def _fake_rootfs(folder: Path, versions: tuple[str, ...]) -> Path:
    (folder / "usr" / "bin").mkdir(parents=True)
    (folder / "usr" / "lib64").mkdir(parents=True)
    (folder / "etc").mkdir()
    for version in versions:
        (folder / "usr" / "bin" / f"python{version}").write_text("")
    (folder / "bin").symlink_to("usr/bin")
    (folder / "lib64").symlink_to("usr/lib64")
    (folder / "sbin").mkdir()  # not merged: a directory of its own
    return folder


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A machine with the host's 3.11 and a pythons folder holding 3.14 only."""
    monkeypatch.setenv("COURSE_KERNEL_VENV", str(_fake_venv(tmp_path / "kernel", "3.11")))
    root = tmp_path / "pythons"
    _fake_rootfs(root / "rootfs", ("3.14",))
    _fake_venv(root / "venvs" / "3.14", "3.14")
    monkeypatch.setenv("COURSE_PYTHONS_DIR", str(root))
    return root


def test_find_names_make_pythons_when_a_version_is_missing(here):
    """Does find() name `make pythons` when a version is not built?"""
    with pytest.raises(CourseError, match=r"Python 3\.15 is not built here: run `make pythons`"):
        pythons.find("3.15")


def test_find_refuses_unsupported_versions_saying_why(here):
    """Does find() refuse 3.10, 3.12 and "315", naming the supported versions (and why not 3.12)?"""
    with pytest.raises(
        CourseError, match=r"3\.12 is not in Debian sid.*3\.11, 3\.13, 3\.14, 3\.15"
    ):
        pythons.find("3.12")
    for version in ("3.10", "315", "3"):
        with pytest.raises(CourseError, match="not supported"):
            pythons.find(version)


def test_find_gives_the_host_for_its_version_and_the_rootfs_for_others(here):
    """Is 3.11 the host's environment (no root filesystem) and 3.14 the built one?"""
    assert pythons.find("3.11") == pythons.host()
    assert pythons.host().rootfs is None and pythons.host().version == "3.11"
    built = pythons.find("3.14")
    assert built == pythons.Interpreter("3.14", here / "venvs" / "3.14", here / "rootfs")
    assert built.python == here / "venvs" / "3.14" / "bin" / "python"
    assert [i.version for i in pythons.available()] == ["3.11", "3.14"]


def test_host_names_make_sandbox_when_its_environment_is_missing(tmp_path, monkeypatch):
    """Does find("3.11") name `make sandbox` when the host's kernel environment is missing?"""
    monkeypatch.setenv("COURSE_KERNEL_VENV", str(tmp_path / "nothing"))
    monkeypatch.setenv("COURSE_PYTHONS_DIR", str(tmp_path / "nothing"))
    with pytest.raises(CourseError, match="make sandbox"):
        pythons.find("3.11")
    assert pythons.available() == []


def test_a_half_built_environment_is_not_available(here):
    """Is a version whose environment lacks ipywidgets (an interrupted build) reported missing?"""
    (here / "venvs" / "3.14" / "lib" / "python3.14" / "site-packages" / "ipywidgets").rmdir()
    assert "lacks ipywidgets" in " ".join(pythons._built("3.14").problems())
    with pytest.raises(CourseError, match="make pythons"):
        pythons.find("3.14")


def test_system_binds_come_from_the_root_filesystem(here):
    """Does system_binds() bind the root filesystem's /usr and /etc read-only, and recreate its /bin, /lib64 links and /sbin folder?"""
    args = pythons.find("3.14").system_binds()
    rootfs = here / "rootfs"
    assert args == [
        *("--ro-bind", str(rootfs / "usr"), "/usr", "--ro-bind", str(rootfs / "etc"), "/etc"),
        *("--symlink", "usr/bin", "/bin"),
        *("--ro-bind", str(rootfs / "sbin"), "/sbin"),
        *("--symlink", "usr/lib64", "/lib64"),
    ]


def test_the_hosts_system_binds_are_its_own():
    """For the host, are /usr and /etc the host's own (as the grading sandbox binds them today)?"""
    args = pythons.Interpreter("3.11", Path("/nowhere")).system_binds()
    assert args[:6] == ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    if Path("/bin").is_symlink():
        assert ["--symlink", os.readlink("/bin"), "/bin"] == args[6:9]


def test_trusted_command_replaces_only_the_system(here):
    """Does trusted_command() bind every host folder but the system ones, take /usr and /etc from the root filesystem, and set PATH and the given variables?"""
    interp = pythons.find("3.14")
    argv = interp.trusted_command(["python", "-c", "pass"], env={"PYTHONPATH": "/x"})
    assert argv[0] == "bwrap" and argv[-4:] == ["--", "python", "-c", "pass"]
    binds = [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"]
    assert "/tmp" in binds and str(REPO).split("/")[1] in {b.strip("/") for b in binds}
    assert not {"/usr", "/etc", "/dev", "/proc", "/bin", "/lib"} & set(binds)
    joined = " ".join(argv)
    assert f"--ro-bind {here}/rootfs/usr /usr" in joined
    assert "--dev-bind /dev /dev --proc /proc --die-with-parent" in joined
    assert f"--setenv PATH {here}/venvs/3.14/bin:" in joined
    assert "--setenv PYTHONPATH /x" in joined
    assert "--unshare-pid" not in argv  # ipykernel would see pid 1 as a dead parent


def test_trusted_command_on_the_host_is_the_command_itself(here):
    """For the host's interpreter, is trusted_command() the command (behind `env` for variables)?"""
    host = pythons.host()
    assert host.trusted_command(["python", "-V"]) == ["python", "-V"]
    assert host.trusted_command(["python"], env={"A": "1"}) == ["env", "A=1", "python"]


def test_runtime_copy_holds_only_the_run_time_package(tmp_path):
    """Does runtime_copy() copy course/__init__.py and the lesson helpers, world-readable, with no tooling and no __pycache__, importable as `course.lesson`?"""
    dest = pythons.runtime_copy(tmp_path / "lib")
    assert dest == tmp_path / "lib"
    package = dest / "course"
    names = {p.name for p in package.iterdir()}
    assert "__init__.py" in names and ({"lesson", "lesson.py"} & names)
    assert not names & {"cli.py", "grading", "authoring", "pythons.py", "coursedir.py"}
    assert not list(package.rglob("__pycache__"))
    for path in package.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o005 == (0o005 if path.is_dir() else 0o004)
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import course.lesson as m; print(m.__file__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(dest)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith(str(package))
    pythons.runtime_copy(dest)  # again: replaces the copy
    assert {p.name for p in package.iterdir()} == names


def test_write_kernelspec_runs_the_trusted_command_with_the_run_time_copy(here, tmp_path):
    """Does the kernelspec run ipykernel through trusted_command, with PYTHONPATH on the run-time copy and interrupts by message?"""
    interp = pythons.find("3.14")
    name = pythons.write_kernelspec(interp, tmp_path / "share", tmp_path / "lib")
    assert name == "course-python-3.14"
    spec = json.loads((tmp_path / "share" / "kernels" / name / "kernel.json").read_text())
    launcher = [str(interp.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert spec["argv"] == interp.trusted_command(launcher)
    assert spec["env"] == {"PYTHONPATH": str(tmp_path / "lib")}
    assert spec["interrupt_mode"] == "message"


def test_the_makefile_builds_the_versions_course_pythons_knows():
    """Does the Makefile's PYTHONS_VERSIONS list exactly course.pythons.BUILT, and SUPPORTED = host + BUILT?"""
    makefile = (REPO / "Makefile").read_text()
    listed = re.search(r"^PYTHONS_VERSIONS\s*:?=\s*(.+)$", makefile, re.M)
    assert listed and tuple(listed.group(1).split()) == pythons.BUILT
    assert ("3.11", *pythons.BUILT) == pythons.SUPPORTED


def test_build_stops_with_one_line_when_it_cannot(tmp_path, monkeypatch):
    """Does build() refuse without root, debootstrap or a mirror, naming what is missing, before touching the disk?"""
    monkeypatch.setattr(pythons.os, "geteuid", lambda: 1000)
    with pytest.raises(CourseError, match="needs root"):
        pythons.build(tmp_path / "p", ["3.15"], REPO / "constraints.txt", "http://m")
    monkeypatch.setattr(pythons.os, "geteuid", lambda: 0)
    monkeypatch.setattr(pythons.shutil, "which", lambda tool: None)
    with pytest.raises(
        CourseError, match=r"`debootstrap` is not installed: run `apt-get install debootstrap`"
    ):
        pythons.build(tmp_path / "p", ["3.15"], REPO / "constraints.txt", "http://m")
    monkeypatch.setattr(pythons.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    with pytest.raises(CourseError, match="no Debian mirror"):
        pythons.build(tmp_path / "p", ["3.15"], REPO / "constraints.txt", "")
    with pytest.raises(CourseError, match=r"cannot build Python 3\.11"):
        pythons.build(tmp_path / "p", ["3.11"], REPO / "constraints.txt", "http://m")
    assert not (tmp_path / "p").exists()


# -- the matrix runner's reading of nbval's results (tests/pythons) ----------


def test_the_matrix_reads_a_failing_cell_from_junit_xml(tmp_path):
    """Does make test-pythons name the failing cell (index, first line) and its exception, from nbval's junit XML with escaped colours?"""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# title"),
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_markdown_cell("text"),
            nbformat.v4.new_code_cell("\nimport m\nprint(m.__cached__)"),
        ]
    )
    notebook = tmp_path / "n.ipynb"
    nbformat.write(nb, notebook)
    text = (
        "Cell execution caused an exception\nTraceback:\n"
        "#x1B[32m----> #x1B[39m3 print(m.__cached__)\n"
        "#x1B[31mAttributeError#x1B[39m: module 'm' has no attribute '__cached__'\n"
    )
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuites><testsuite><testcase name="Cell 0"/><testcase name="Cell 1">'
        f"<failure message='Notebook cell execution failed'>{text}</failure>"
        "</testcase></testsuite></testsuites>"
    )
    ran, failed = matrix.junit_failures(xml)
    assert ran == 2 and [cell for cell, _ in failed] == [1]
    assert matrix.cell_where(notebook, 1) == "cell 3 (code cell 1) `import m`"
    assert matrix.error_lines(failed[0][1]) == [
        "AttributeError: module 'm' has no attribute '__cached__'",
        "at: ----> 3 print(m.__cached__)",
    ]
    assert matrix.error_lines("Cell 4: Timeout of 300 seconds exceeded executing cell") == [
        "Cell 4: Timeout of 300 seconds exceeded executing cell"
    ]


def test_the_matrix_names_the_demo_students_that_did_not_score_as_designed():
    """Does make test-pythons show, for a failed grading run, one line per demo student that did not score as designed (else course's error line)?"""
    stderr = (
        "Traceback (most recent call last):\n  noise\n"
        "\ndemo students that did not score as designed:\n"
        "  demo-07-canvas_no_future_import (07_circular_imports): ex7_2_test scored full, expected less\n"
        "  demo-reference (07_circular_imports): ex7_1_test scored 0.0/2, expected full\n"
    )
    assert matrix.grading_lines(stderr) == [
        "    demo-07-canvas_no_future_import (07_circular_imports): ex7_2_test scored full, expected less",
        "    demo-reference (07_circular_imports): ex7_1_test scored 0.0/2, expected full",
    ]
    assert matrix.grading_lines("x\ncourse: error: no sandbox\n") == [
        "    course: error: no sandbox"
    ]


# -- the real interpreters (make sandbox, make pythons) ------------------------


def _real(version: str) -> pythons.Interpreter:
    """The built interpreter; a stated skip where it is not built, a failure
    under make test-pythons."""
    try:
        return pythons.find(version)
    except CourseError as exc:
        if os.environ.get("COURSE_REQUIRE_PYTHONS"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.mark.pythons
@pytest.mark.parametrize("version", pythons.SUPPORTED)
def test_each_version_runs_its_own_interpreter(version):
    """Does find(X).trusted_command([python, ...]) run Python X, with the kernel packages and the root filesystem's own system?"""
    interp = _real(version)
    code = (
        "import sys, ipykernel, ipywidgets\n"
        "print(sys.version_info[:2], sys.prefix, ipykernel.__version__, ipywidgets.__version__)\n"
        "print(open('/etc/debian_version').read().strip())"
    )
    done = subprocess.run(
        interp.trusted_command([str(interp.python), "-c", code]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first, system = done.stdout.splitlines()
    major, minor = version.split(".")
    assert first.startswith(f"({major}, {minor}) {interp.venv} ")
    pins = dict(
        re.findall(r"^(ipykernel|ipywidgets)==(\S+)$", (REPO / "constraints.txt").read_text(), re.M)
    )
    assert first.split()[-2:] == [pins["ipykernel"], pins["ipywidgets"]]
    assert ("sid" in system) == (interp.rootfs is not None), system


@pytest.mark.pythons
@pytest.mark.parametrize("version", pythons.SUPPORTED)
def test_each_environment_is_readable_by_the_sandbox_uids(version):
    """Can an unprivileged user (the grading sandbox's uids) reach every built environment and interpreter?"""
    interp = _real(version)
    paths = [interp.venv, interp.system_python.resolve()]
    paths += list(interp.venv.rglob("*.py"))[:200]
    for path in paths:
        for folder in path.parents:
            assert folder.stat().st_mode & 0o001, f"{folder} is closed to other users"
        assert path.stat().st_mode & 0o004, f"{path} is not readable by other users"


@pytest.mark.pythons
@pytest.mark.parametrize("version", pythons.SUPPORTED)
def test_system_binds_give_a_sandbox_the_versions_interpreter(version, tmp_path):
    """In a sandbox shaped like the grader's (system_binds, the venv read-only, nothing else of the host), does the venv's python run as Python X, with the course's run-time copy importable?"""
    interp = _real(version)
    lib = pythons.runtime_copy(tmp_path / "lib")
    argv = [
        "bwrap", *interp.system_binds(),
        "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        "--ro-bind", str(interp.venv), str(interp.venv),
        "--ro-bind", str(lib), str(lib),
        "--unshare-all", "--die-with-parent", "--clearenv",
        "--setenv", "PYTHONPATH", str(lib), "--chdir", "/tmp",
        "--", str(interp.python), "-c",
        "import sys, course.lesson, ipykernel; print(sys.version_info[:2])",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tuple(int(n) for n in version.split(".")))


@pytest.mark.pythons
@pytest.mark.slow
@pytest.mark.parametrize("version", pythons.SUPPORTED)
def test_nbval_runs_a_notebook_on_the_versions_kernel(version, tmp_path):
    """Does nbval, with the version's kernelspec and course.authoring.nbval_kernels, run a notebook that imports course.lesson on Python X (strict: the printed version must match)?"""
    interp = _real(version)
    lib = pythons.runtime_copy(tmp_path / "lib")
    name = pythons.write_kernelspec(interp, tmp_path / "share", lib)
    major, minor = version.split(".")
    code = "import sys\nfrom course.lesson import start_lesson\nprint(sys.version_info[:2])"
    folder = tmp_path / "nb"
    folder.mkdir()
    nbformat.write(printing_notebook(code, f"({major}, {minor})\n"), folder / "v.ipynb")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider"),
            *("-p", "course.authoring.nbval_kernels", "-q", "--nbval"),
            *("--nbval-kernel-name", name, "v.ipynb"),
        ],
        cwd=folder,
        env={**os.environ, "JUPYTER_PATH": str(tmp_path / "share")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout, done.stdout[-3000:]
