"""Grading on the hub: the instructor asks, root grades in the sandbox.

``course grade`` needs root: its sandbox runs every submission's kernels as an
unprivileged uid of their own per grading slot. On the hub the instructor is
an ordinary user, so ``course-hub install`` adds one sudo rule::

    INSTRUCTOR ALL=(root) NOPASSWD: PREFIX/venv/bin/course-grade-as-root

and the instructor types ``course-grade [LESSON...] [--student ID]... [--jobs N]``
(the same arguments as ``course grade``), which is ``sudo -n
course-grade-as-root ...``. What root does then, and why:

1. check the arguments (lesson ids, student ids, a number of jobs; nothing
   else, so never ``--unsafe-no-sandbox``, ``--root`` or ``--python``) and that
   the caller (``SUDO_USER``) is the instance's instructor; one run per
   instance at a time;
2. copy the course root into a fresh folder of root's own: the copy is made
   by ``transfer pack`` running *as the instructor* (so a symbolic link in the
   course root cannot make root read what the instructor may not), and root
   accepts only regular files and folders from it;
3. put the *installed* ``nbgrader_config.py`` there (``/etc/...``): root
   executes that file, so it must not be the instructor's;
4. run ``course --root COPY grade ...`` with a clean environment (the sandbox
   keeps the students' code away from everything);
5. write the results back (``gradebook.db``, ``grades.csv``, ``reports/``,
   ``autograded/`` and ``feedback/`` of the graded submissions) with
   ``transfer unpack-results`` running *as the instructor*, which refuses if
   the gradebook changed meanwhile.

So root neither executes nor writes anything the instructor controls, and the
instructor gets exactly ``course grade``'s results, owned by them.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from . import HubError
from .instance import Instance, check_root_owned, list_instances
from .transfer import file_sha256, pack_paths, unpack

__all__ = ["client_main", "root_main"]

#: As ``course grade`` checks them (issue 11), and no option-like text.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LESSON_ARG = re.compile(r"^(\d{1,2}|\d\d_[a-z0-9_]+)$")
#: What grading writes that goes back to the instructor.
RESULT_FILES = ("gradebook.db", "gradebook.db.bak", "grades.csv", "reports")
#: nbgrader's release_feedback needs these beside each feedback page.
FEEDBACK_COMPANIONS = ("timestamp.txt", "submission_secret.txt")


def client_main(argv: list[str] | None = None) -> int:
    """``course-grade``: run ``course-grade-as-root`` through sudo."""
    args = sys.argv[1:] if argv is None else argv
    wrapper = Path(sys.prefix) / "bin" / "course-grade-as-root"
    sudo = shutil.which("sudo") or "/usr/bin/sudo"
    try:
        os.execv(sudo, [sudo, "-n", str(wrapper), *args])
    except OSError as exc:
        print(f"course-grade: error: cannot run sudo ({exc.strerror})", file=sys.stderr)
        return 1
    return 0  # not reached


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="course-grade",
        description="Grade submitted/ of your course root with `course grade`, in the sandbox "
        "(as root, through sudo); the results are written back to your course root.",
    )
    p.add_argument(
        "lessons", nargs="*", metavar="LESSON", help="lesson ids or numbers (default: all)"
    )
    p.add_argument(
        "--student",
        dest="students",
        action="append",
        default=[],
        help="only this student (repeatable)",
    )
    p.add_argument("--jobs", "-j", type=int, default=None, help="submissions graded at once")
    p.add_argument("--hub", help="the instance (needed only if you teach in more than one)")
    return p


def _check_args(args: argparse.Namespace) -> None:
    for lesson in args.lessons:
        if not LESSON_ARG.match(lesson):
            raise HubError(f"not a lesson id or number: {lesson!r}")
    for student in args.students:
        if not STUDENT_ID.match(student):
            raise HubError(f"not a student id: {student!r}")
    if args.jobs is not None and not 1 <= args.jobs <= 64:
        raise HubError(f"--jobs must be a whole number from 1 to 64, not {args.jobs}")


def _caller() -> str:
    """Who asked: sudo's caller, or root itself (an administrator)."""
    if os.environ.get("SUDO_UID"):
        try:
            return pwd.getpwuid(int(os.environ["SUDO_UID"])).pw_name
        except (KeyError, ValueError) as exc:
            raise HubError("cannot tell who called sudo") from exc
    return pwd.getpwuid(os.getuid()).pw_name


def _instance(caller: str, name: str | None) -> Instance:
    if name is not None:
        inst = Instance.load(name, trusted=True)
    else:
        everyone = [Instance.load(n, trusted=True) for n in list_instances()]
        mine = [i for i in everyone if caller in (i.instructor, "root")]
        if len(mine) != 1:
            names = ", ".join(i.name for i in mine) or "none"
            raise HubError(f"say which instance with --hub NAME (yours: {names})")
        inst = mine[0]
    if caller not in (inst.instructor, "root"):
        raise HubError(f"{caller} is not the instructor of {inst.name}")
    return inst


def _as_instructor(inst: Instance, *cmd: str) -> list[str]:
    env = ["HOME=/nonexistent", "LANG=C.UTF-8", "PATH=/usr/bin:/bin"]
    return ["runuser", "-u", inst.instructor, "--", "env", "-i", *env, *cmd]


def _copy_in(inst: Instance, work: Path, paths: list[str], submitted: list[str]) -> None:
    cmd = [
        str(inst.venv / "bin" / "python"),
        "-I",
        "-m",
        "course_hub.transfer",
        "pack",
        inst.course_root,
    ]
    cmd += [f"--path={p}" for p in paths] + [f"--submitted={s}" for s in submitted]
    with subprocess.Popen(_as_instructor(inst, *cmd), stdout=subprocess.PIPE, cwd="/") as proc:
        try:
            unpack(proc.stdout, work)
        finally:
            proc.stdout.close()
            rc = proc.wait()
    if rc != 0:
        raise HubError(f"could not read the course root {inst.course_root} as {inst.instructor}")


def _write_back(inst: Instance, work: Path, gradebook_sha: str | None) -> None:
    replace = [r for r in RESULT_FILES if (work / r).exists()]
    for kind in ("autograded", "feedback"):
        for student_dir in sorted((work / kind).glob("*")) if (work / kind).is_dir() else []:
            replace += [
                f"{kind}/{student_dir.name}/{d.name}" for d in sorted(student_dir.iterdir())
            ]
    cmd = [
        str(inst.venv / "bin" / "python"),
        "-I",
        "-m",
        "course_hub.transfer",
        "unpack-results",
        inst.course_root,
    ]
    with subprocess.Popen(
        _as_instructor(inst, *cmd), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd="/"
    ) as proc:
        try:
            pack_paths(
                work, replace, proc.stdin, {"replace": replace, "gradebook_sha256": gradebook_sha}
            )
        finally:
            proc.stdin.close()
            rc = proc.wait()
    if rc != 0:
        raise HubError("the results were not written back (see above)")


def _fill_feedback_companions(work: Path) -> None:
    """Give each feedback folder the submission's timestamp and secret, which
    ``nbgrader release_feedback`` reads, if grading did not copy them."""
    feedback = work / "feedback"
    if not feedback.is_dir():
        return
    for folder in feedback.glob("*/*"):
        for name in FEEDBACK_COMPANIONS:
            src = work / "submitted" / folder.parent.name / folder.name / name
            if src.is_file() and not (folder / name).exists():
                shutil.copyfile(src, folder / name)


def _checkpoint(db: Path) -> None:
    """Fold a write-ahead log into the database file, so one file carries it all."""
    if db.is_file() and db.with_name(db.name + "-wal").exists():
        con = sqlite3.connect(db)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()


def grade(inst: Instance, args: argparse.Namespace) -> int:
    runs = inst.state / "grading"
    runs.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(inst.state / "grading.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HubError(f"another grading run of {inst.name} is in progress") from None
        scratch = Path(tempfile.mkdtemp(prefix="run-", dir=runs))
        try:
            work = scratch / "course"
            work.mkdir()
            _copy_in(inst, work, ["source", "release", "gradebook.db"], [])
            shutil.copyfile(inst.nbgrader_config, work / "nbgrader_config.py")
            from course.coursedir import Course, CourseError

            try:
                lessons = Course(work).resolve_lessons(args.lessons or None)
            except CourseError as exc:
                raise HubError(str(exc)) from exc
            selectors = [f"{lesson}/{s}" for lesson in lessons for s in args.students] or lessons
            _copy_in(inst, work, [], selectors)
            gradebook_sha = file_sha256(work / "gradebook.db")
            for sub in ("home", "jupyter", "data", "runtime"):
                (scratch / sub).mkdir(mode=0o700)
            env = {
                "PATH": f"{inst.venv / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME": str(scratch / "home"),
                "LANG": "C.UTF-8",
                "TERM": os.environ.get("TERM", "dumb"),
                "COURSE_KERNEL_VENV": inst.kernel_venv,
                "JUPYTER_CONFIG_DIR": str(scratch / "jupyter"),
                "JUPYTER_DATA_DIR": str(scratch / "data"),
                "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
            }
            course = inst.venv / "bin" / "course"
            check_root_owned(course)  # root runs it
            cmd = [str(course), "--root", str(work), "grade", *lessons]
            cmd += [f"--student={s}" for s in args.students]
            if args.jobs is not None:
                cmd.append(f"--jobs={args.jobs}")
            print(
                f"course-grade: grading a copy of {inst.course_root} as root, in the sandbox",
                flush=True,
            )
            rc = subprocess.run(
                cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, check=False
            ).returncode
            if rc != 0:
                print(
                    f"course-grade: course grade failed (exit status {rc}); nothing was written back",
                    file=sys.stderr,
                )
                return rc
            _checkpoint(work / "gradebook.db")
            _fill_feedback_companions(work)
            _write_back(inst, work, gradebook_sha)
            print(
                f"course-grade: the results are in {inst.course_root} (grades.csv, reports/, "
                "feedback/, autograded/, gradebook.db); the paths printed above were those of "
                "root's grading copy, now removed",
                flush=True,
            )
            return 0
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def root_main(argv: list[str] | None = None) -> int:
    """``course-grade-as-root``: what the sudo rule allows the instructor."""
    args = _parser().parse_args(argv)
    try:
        if os.geteuid() != 0:
            raise HubError("course-grade-as-root runs as root: use `course-grade` (it calls sudo)")
        _check_args(args)
        inst = _instance(_caller(), args.hub)
        return grade(inst, args)
    except HubError as exc:
        print(f"course-grade: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("course-grade: interrupted", file=sys.stderr)
        return 130
