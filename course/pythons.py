"""Every Python the course supports, and how to run each one.

Students run CPython 3.11 to 3.15. The host (Debian 12) has 3.11: its
kernel environment is the one ``make sandbox`` builds from
``/usr/bin/python3`` (``COURSE_KERNEL_VENV``). 3.13, 3.14 and 3.15 are
Debian ``sid``'s interpreters: ``make pythons`` (:func:`build`) puts a
minimal sid root filesystem and one kernel environment per version under
``COURSE_PYTHONS_DIR``::

    <dir>/rootfs/            debootstrap --variant=minbase sid (python3.X, python3.X-venv)
    <dir>/venvs/3.X/         python3.X -m venv: ipykernel, ipywidgets (constraints.txt)

Such an interpreter runs under bubblewrap with the root filesystem's
``/usr`` and ``/etc`` in place of the host's (:meth:`Interpreter.system_binds`);
everything else, the venv's own path included, is where it is on the host,
so ``venv/bin/python -> /usr/bin/python3.X`` resolves inside. 3.12 is not
tested: Debian sid has no python3.12 package (to add a version, add it to
:data:`BUILT` and the Makefile's ``PYTHONS_VERSIONS``, once Debian ships it).

This module answers "which interpreters are there, and how do I run one".
Nothing happens at import time; the environment variables are read when a
function is called. Only :func:`build`, :func:`runtime_copy` and
:func:`write_kernelspec` write to the disk (each says what).

Run ``python -m course.pythons`` to list what is built here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .coursedir import CourseError

__all__ = [
    "BUILT",
    "SUPPORTED",
    "Interpreter",
    "available",
    "build",
    "find",
    "host",
    "kernel_name",
    "pythons_dir",
    "runtime_copy",
    "write_kernelspec",
]

#: Every version the course supports and tests (3.10 is end-of-life; 3.12
#: is not in Debian sid, so nothing here can run it).
SUPPORTED: tuple[str, ...] = ("3.11", "3.13", "3.14", "3.15")
#: The versions ``make pythons`` builds from Debian sid (keep in step with
#: the Makefile's ``PYTHONS_VERSIONS``; a unit test checks it).
BUILT: tuple[str, ...] = ("3.13", "3.14", "3.15")
#: What a kernel environment holds (pinned by constraints.txt).
KERNEL_PACKAGES: tuple[str, ...] = ("ipykernel", "ipywidgets")
#: Where ``make pythons`` builds, unless ``COURSE_PYTHONS_DIR`` says otherwise.
DEFAULT_PYTHONS_DIR = Path("/opt/python-modules-hands-on/pythons")
#: The host's kernel environment, unless ``COURSE_KERNEL_VENV`` says otherwise
#: (the same default as :data:`course.grading.sandbox.KERNEL_VENV`).
DEFAULT_KERNEL_VENV = Path("/opt/python-modules-hands-on/kernel")
#: The top-level folders that belong to the system, taken from the root
#: filesystem (or the host) by :meth:`Interpreter.system_binds`.
SYSTEM = ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
#: Host files bound over the root filesystem's in :meth:`Interpreter.trusted_command`,
#: so that trusted code reaches the network as the host does (pip needs them).
HOST_NETWORK_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/resolv.conf")
#: The run-time part of the course package that a kernel or a check imports.
RUNTIME = ("__init__.py", "lesson")


def pythons_dir() -> Path:
    """Where ``make pythons`` builds (``COURSE_PYTHONS_DIR``, read now)."""
    return Path(os.environ.get("COURSE_PYTHONS_DIR") or DEFAULT_PYTHONS_DIR)


def _host_venv() -> Path:
    return Path(os.environ.get("COURSE_KERNEL_VENV") or DEFAULT_KERNEL_VENV)


@dataclass(frozen=True)
class Interpreter:
    """One Python version, with the kernel environment that runs it.

    ``rootfs`` is ``None`` for the host's own interpreter (its ``/usr`` and
    ``/etc``), else the Debian root filesystem whose ``/usr/bin/python<version>``
    the environment was made with.
    """

    version: str
    venv: Path
    rootfs: Path | None = None

    @property
    def python(self) -> Path:
        """The kernel environment's interpreter (a symbolic link that, for a
        root filesystem's version, resolves only inside bwrap)."""
        return self.venv / "bin" / "python"

    @property
    def system_python(self) -> Path:
        """The interpreter the environment was made from, as seen on the host."""
        return (self.rootfs or Path("/")) / "usr" / "bin" / f"python{self.version}"

    def problems(self) -> list[str]:
        """Why this interpreter cannot run here (empty when it can); reads the disk only."""
        found = []
        if self.rootfs is not None and not self.system_python.is_file():
            found.append(f"{self.system_python} does not exist")
        if not (self.venv / "pyvenv.cfg").is_file():
            found.append(f"no kernel environment at {self.venv}")
        else:
            site = self.venv / "lib" / f"python{self.version}" / "site-packages"
            missing = [p for p in KERNEL_PACKAGES if not (site / p).is_dir()]
            if missing:
                found.append(f"the kernel environment {self.venv} lacks {', '.join(missing)}")
        return found

    def system_binds(self) -> list[str]:
        """bwrap arguments that make this interpreter's system the sandbox's:
        ``/usr`` and ``/etc`` read-only from the root filesystem (the host's
        for ``rootfs=None``), and ``/bin``, ``/lib``... as they are there
        (symbolic links into ``/usr`` on merged-``/usr`` systems, else
        read-only binds). Reads the disk (to see which of those exist); no
        side effects."""
        root = self.rootfs or Path("/")
        args = ["--ro-bind", str(root / "usr"), "/usr", "--ro-bind", str(root / "etc"), "/etc"]
        for name in SYSTEM[2:]:
            path = root / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), f"/{name}"]
            elif path.is_dir():
                args += ["--ro-bind", str(path), f"/{name}"]
        return args

    def trusted_command(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> list[str]:
        """The command that runs ``argv`` on this interpreter's system, for
        TRUSTED code only (instructor notebooks, nbval, building the
        environment): no confinement at all.

        For a root filesystem's version: bwrap with every top-level folder
        of the host bound read-write where it is (``/tmp``, ``/root``, the
        course, the kernel environments...) except the system folders, which
        come from :meth:`system_binds`; the host's CA bundle and
        ``resolv.conf`` over the root filesystem's (the network is shared);
        ``/dev`` and a ``/proc``; ``PATH`` starting with the environment's
        ``bin``; ``env`` added to the inherited environment; the command
        dies with its parent. No pid namespace: ipykernel would take pid 1
        for a dead parent and exit. For the host (``rootfs=None``): ``argv``
        itself, behind ``env NAME=VALUE...`` when ``env`` is given.

        Reads the host's ``/`` to list its folders; no side effects.
        """
        pairs = [f"{k}={v}" for k, v in (env or {}).items()]
        if self.rootfs is None:
            return ["env", *pairs, *argv] if pairs else list(argv)
        args = ["bwrap"]
        with os.scandir("/") as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name in (*SYSTEM, "dev", "proc"):
                    continue
                path = f"/{entry.name}"
                if entry.is_symlink():
                    args += ["--symlink", os.readlink(path), path]
                else:
                    args += ["--bind", path, path]
        args += self.system_binds()
        for name in HOST_NETWORK_FILES:
            if Path(name).exists() and (self.rootfs / name.lstrip("/")).is_file():
                args += ["--ro-bind", name, name]
        args += ["--dev-bind", "/dev", "/dev", "--proc", "/proc", "--die-with-parent"]
        args += ["--setenv", "PATH", f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"]
        for key, value in (env or {}).items():
            args += ["--setenv", key, value]
        return [*args, "--", *argv]


def host() -> Interpreter:
    """The host's interpreter: Debian's ``/usr/bin/python3`` (3.11 on
    Debian 12) with the kernel environment of ``make sandbox``, its version
    read from that environment's ``pyvenv.cfg``.

    Raises :class:`CourseError` naming ``make sandbox`` when the environment
    is missing.
    """
    venv = _host_venv()
    cfg = venv / "pyvenv.cfg"
    try:
        text = cfg.read_text(encoding="utf-8")
    except OSError:
        raise CourseError(
            f"the host's kernel environment {venv} is not built: run `make sandbox`"
        ) from None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            major, minor, *_ = value.strip().split(".")
            return Interpreter(f"{major}.{minor}", venv, None)
    raise CourseError(f"{cfg} names no Python version: rebuild it with `make sandbox`")


def _built(version: str, root: Path | None = None) -> Interpreter:
    root = root or pythons_dir()
    return Interpreter(version, root / "venvs" / version, root / "rootfs")


def find(version: str) -> Interpreter:
    """The interpreter for ``version`` (``"3.15"``: major.minor, exactly).

    The host's when its version matches, else the one ``make pythons``
    built. Raises :class:`CourseError` for an unsupported version, or one
    that is not built here (naming the make target that builds it).
    """
    if version not in SUPPORTED:
        note = " (3.12 is not in Debian sid)" if version == "3.12" else ""
        raise CourseError(
            f"Python {version!r} is not supported{note}: choose one of {', '.join(SUPPORTED)}"
        )
    try:
        here = host()
    except CourseError:
        if version not in BUILT:
            raise
    else:
        if here.version == version and not here.problems():
            return here
    if version not in BUILT:
        raise CourseError(
            f"Python {version} is the host's, and its kernel environment is not usable: run `make sandbox`"
        )
    found = _built(version)
    if found.problems():
        raise CourseError(f"Python {version} is not built here: run `make pythons`")
    return found


def available() -> list[Interpreter]:
    """Every supported interpreter that can run here, in version order."""
    found = []
    for version in SUPPORTED:
        with contextlib.suppress(CourseError):
            found.append(find(version))
    return found


def runtime_copy(dest: Path) -> Path:
    """Copy the run-time part of the course package (what a kernel imports:
    ``course/__init__.py`` and ``course/lesson/``, without ``__pycache__``) to
    ``dest/course/`` and return ``dest``: the folder to put on a kernel's
    ``PYTHONPATH``. The course is never installed into the shared kernel
    environments, which several checkouts use.

    Side effects: creates ``dest/course`` (replacing an earlier copy) and
    makes the copy readable by every user (the grading sandbox's uids).
    """
    package = Path(__file__).resolve().parent
    lib = dest / "course"
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    for name in RUNTIME:
        src = package / name
        if src.is_dir():
            shutil.copytree(src, lib / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, lib / name)
    for path in [dest, lib, *lib.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def kernel_name(version: str) -> str:
    """The kernelspec name of a version's trusted kernel: ``course-python-3.14``."""
    return f"course-python-{version}"


def write_kernelspec(interp: Interpreter, share: Path, pythonpath: Path) -> str:
    """Write a kernelspec for a TRUSTED kernel of ``interp`` (instructor
    notebooks, nbval) and return its name (:func:`kernel_name`).

    Put ``share`` (never the user's own Jupyter folders) first on the
    ``JUPYTER_PATH`` of the process that starts kernels. The kernel runs
    :meth:`Interpreter.trusted_command` with ``PYTHONPATH=pythonpath`` (a
    :func:`runtime_copy`) and is interrupted by message, since bwrap does
    not pass signals on.

    Side effects: writes ``share/kernels/<name>/kernel.json``.
    """
    name = kernel_name(interp.version)
    argv = [str(interp.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {
        "argv": interp.trusted_command(argv),
        "env": {"PYTHONPATH": str(pythonpath)},
        "display_name": f"Python {interp.version} (course)",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    folder = share / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return name


# -- building (make pythons) -------------------------------------------------


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:]) or "(no output)"


def _run(argv: Sequence[str], what: str, timeout: float) -> None:
    """Run a build step; raise :class:`CourseError` with its output's tail."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CourseError(f"{what}: no result after {timeout:.0f} s") from None
    if done.returncode != 0:
        raise CourseError(
            f"{what} failed (exit {done.returncode}):\n{_tail(done.stdout + done.stderr)}"
        )


def _preflight(mirror: str) -> None:
    if os.geteuid() != 0:
        raise CourseError("make pythons needs root (debootstrap and bwrap run as root)")
    for tool, package in (("debootstrap", "debootstrap"), ("bwrap", "bubblewrap")):
        if shutil.which(tool) is None:
            raise CourseError(f"`{tool}` is not installed: run `apt-get install {package}` as root")
    if not mirror:
        raise CourseError(
            "no Debian mirror: none in /etc/apt/sources.list.d/debian.sources; set PYTHONS_MIRROR=URI"
        )


def _rootfs(root: Path, versions: Sequence[str], mirror: str, log: Callable[[str], None]) -> Path:
    """The root filesystem holding every version, made by debootstrap unless
    a complete one is there. Built beside it and renamed into place, so an
    interrupted run leaves no half root filesystem at ``root/rootfs``."""
    rootfs = root / "rootfs"
    if all((rootfs / "usr" / "bin" / f"python{v}").is_file() for v in versions) and all(
        (rootfs / "usr" / "lib" / f"python{v}" / "ensurepip").is_dir() for v in versions
    ):
        log(f"root filesystem: {rootfs} (already there)")
        return rootfs
    packages = [p for v in versions for p in (f"python{v}", f"python{v}-venv")]
    new = root / "rootfs.new"
    if new.exists():
        shutil.rmtree(new)
    log(f"root filesystem: debootstrap sid into {rootfs} from {mirror} ...")
    started = time.monotonic()
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join([*packages, 'ca-certificates'])}",
            "sid",
            str(new),
            mirror,
        ],
        "debootstrap (is the mirror reachable?)",
        timeout=1800,
    )
    if rootfs.exists():
        shutil.rmtree(rootfs)
    new.rename(rootfs)
    log(f"root filesystem: done in {time.monotonic() - started:.0f} s")
    return rootfs


def _venv(interp: Interpreter, constraints: Path, log: Callable[[str], None]) -> None:
    """Make ``interp``'s kernel environment with its own interpreter and
    install the kernel packages, pinned, with the root filesystem's pip
    wheel (the environment itself gets no pip, like the host's)."""
    assert interp.rootfs is not None
    wheels = sorted((interp.rootfs / "usr" / "share" / "python-wheels").glob("pip-*.whl"))
    if not wheels:
        raise CourseError(f"Python {interp.version}: no pip wheel in the root filesystem")
    pip = f"/usr/share/python-wheels/{wheels[-1].name}/pip"
    started = time.monotonic()
    system = f"/usr/bin/python{interp.version}"
    _run(
        interp.trusted_command(
            [system, "-m", "venv", "--clear", "--without-pip", str(interp.venv)]
        ),
        f"Python {interp.version}: making {interp.venv}",
        timeout=300,
    )
    try:
        _run(
            interp.trusted_command(
                [
                    str(interp.python),
                    pip,
                    "install",
                    "--quiet",
                    "--no-input",
                    "-c",
                    str(constraints),
                    *KERNEL_PACKAGES,
                ]
            ),
            f"Python {interp.version}: pip install -c {constraints.name} {' '.join(KERNEL_PACKAGES)}",
            timeout=1200,
        )
    except CourseError:
        shutil.rmtree(interp.venv, ignore_errors=True)
        raise
    log(f"Python {interp.version}: {interp.venv} in {time.monotonic() - started:.0f} s")


def build(
    root: Path,
    versions: Iterable[str],
    constraints: Path,
    mirror: str,
    log: Callable[[str], None] = print,
) -> None:
    """Build ``root/rootfs`` (Debian sid with each version and its venv
    module) unless it is complete, then ``root/venvs/<version>`` for each
    version (always anew), world-readable.

    Raises :class:`CourseError` naming what is missing (root, debootstrap,
    bwrap, the mirror) or, after trying every version, which ones failed and
    why. Side effects: writes under ``root`` only; uses the network (the
    Debian mirror, the package index pip is configured with).
    """
    versions = list(versions)
    unknown = [v for v in versions if v not in BUILT]
    if unknown:
        raise CourseError(
            f"cannot build Python {', '.join(unknown)} (buildable: {', '.join(BUILT)})"
        )
    _preflight(mirror)
    root.mkdir(parents=True, exist_ok=True)
    rootfs = _rootfs(root, versions, mirror, log)
    failed = []
    for version in versions:
        try:
            _venv(_built(version, root), constraints.resolve(), log)
        except CourseError as exc:
            failed.append(str(exc))
    subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)
    closed = [p for p in root.parents if not p.stat().st_mode & 0o001]
    if closed:
        log(
            f"note: other users cannot enter {closed[0]}: the grading sandbox's uids cannot reach {root}"
        )
    if failed:
        raise CourseError("\n".join(failed))
    log(f"built: Python {', '.join(versions)} in {root} ({rootfs.name}/ and venvs/)")


def _du(path: Path) -> str:
    done = subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True, check=False)
    return done.stdout.split()[0] if done.returncode == 0 and done.stdout else "?"


def main(argv: list[str] | None = None) -> int:
    """``python -m course.pythons [list | build ...]``: one line per error."""
    parser = argparse.ArgumentParser(
        prog="python -m course.pythons",
        description="List the Pythons the course can run here, or build them (make pythons).",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="each supported version: where it is, or why it is missing")
    b = sub.add_parser("build", help="debootstrap Debian sid and make one kernel venv per version")
    b.add_argument("versions", nargs="*", default=list(BUILT), metavar="VERSION")
    b.add_argument("--dir", type=Path, default=None, help="default: COURSE_PYTHONS_DIR")
    b.add_argument("--constraints", type=Path, default=Path("constraints.txt"))
    b.add_argument("--mirror", default="", help="the Debian mirror's URI")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            root = args.dir or pythons_dir()
            build(root, args.versions, args.constraints, args.mirror)
            print(f"size: {_du(root)}")
            return 0
        for version in SUPPORTED:
            try:
                interp = find(version)
            except CourseError as exc:
                print(f"{version}: {exc}")
            else:
                where = f"root filesystem {interp.rootfs}" if interp.rootfs else "the host"
                print(f"{version}: {interp.venv} ({where})")
        return 0
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
