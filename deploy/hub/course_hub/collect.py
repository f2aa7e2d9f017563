"""``course-collect LESSON``: nbgrader's collect, from checked copies of the inbound.

In nbgrader's filesystem exchange every student may write into ``inbound/``
(mode 2733), and ``nbgrader collect``, run by the instructor, copies what it
finds there with the instructor's rights, believing each entry's name
(``STUDENT+LESSON+TIME+RANDOM``) and following symbolic links. So a student
could

* hand in under a classmate's name (``nbgrader submit --student alice``
  works for anyone), replacing her submission with a later one;
* put in a symbolic link (the entry itself, or a file inside it) to anything
  the instructor can read, e.g. ``source/`` with the solutions: it would be
  collected and graded as their work, and its "answers" shown back to them in
  the feedback.

``course-collect`` therefore never lets nbgrader read ``inbound/``. For each
entry of the lesson it opens the folder without following links, checks that
its owner is the student it names, and copies it into a private exchange of
the instructor's (mode 0700) file by file, through file descriptors, without
following links (a student swapping a folder for a link mid-copy gains
nothing), regular files only, at most :data:`MAX_BYTES`. An entry that fails
is moved to the course's ``quarantine/`` with the reason printed. Then it runs
``nbgrader collect --update LESSON`` in the course root on the private copies
(``--update``: a newer submission replaces the one collected before), and
moves the originals into ``collected/`` (0700): in ``inbound/`` a submission
is readable by whoever knows its name (which nobody can list); once
collected, only the instructor can reach it.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from . import HubError
from .instance import Instance, list_instances

__all__ = ["MAX_BYTES", "MAX_FILES", "Rejected", "checked_copy", "main"]

#: One submission's size and number of files at most (a lesson is one
#: notebook and a few modules).
MAX_BYTES = 50 * 1024**2
MAX_FILES = 1000


class Rejected(Exception):
    """The reason an inbound entry is set aside."""


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def checked_copy(inbound: Path, entry: str, student: str, dest: Path) -> None:
    """Copy ``inbound/entry`` to ``dest`` if ``student`` made it and it holds
    only folders and regular files; raise :class:`Rejected` otherwise."""
    try:
        top = os.open(inbound / entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise Rejected("not a folder (a symbolic link, or a file)") from exc
    try:
        owner = _owner(os.fstat(top).st_uid)
        if owner != student:
            raise Rejected(f"made by {owner}, not by {student}")
        total = files = 0
        dest.mkdir(mode=0o700)
        for dirpath, dirnames, filenames, dirfd in os.fwalk(".", dir_fd=top):
            here = dest / dirpath
            for name in dirnames:
                if stat.S_ISLNK(os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_mode):
                    raise Rejected(f"holds a symbolic link: {dirpath}/{name}")
                (here / name).mkdir(mode=0o700)
            for name in filenames:
                files += 1
                if files > MAX_FILES:
                    raise Rejected(f"more than {MAX_FILES} files")
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dirfd)
                except OSError as exc:
                    raise Rejected(
                        f"holds a symbolic link or special file: {dirpath}/{name}"
                    ) from exc
                with os.fdopen(fd, "rb") as src:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        raise Rejected(f"holds a special file: {dirpath}/{name}")
                    with open(here / name, "xb") as out:
                        for block in iter(lambda src=src: src.read(1 << 20), b""):
                            total += len(block)
                            if total > MAX_BYTES:
                                raise Rejected(f"larger than {MAX_BYTES // 1024**2} MiB")
                            out.write(block)
    finally:
        os.close(top)


def _move(src: Path, dest: Path) -> bool:
    """Move an inbound entry; False if it cannot be (moving a folder needs
    write permission on it: nbgrader's submissions are 0777, a folder made by
    hand need not be). Nothing left in inbound/ is ever collected as it is."""
    try:
        os.replace(src, dest)
    except PermissionError:
        return False
    return True


def _instance(hub: str | None) -> Instance:
    me = pwd.getpwuid(os.getuid()).pw_name
    names = [hub] if hub else list_instances()
    mine = [i for i in (Instance.load(n, trusted=False) for n in names) if i.instructor == me]
    if len(mine) != 1:
        taught = ", ".join(i.name for i in mine) or "none"
        raise HubError(f"say which instance with --hub NAME (you teach: {taught})")
    return mine[0]


def collect(inst: Instance, lesson_arg: str) -> int:
    from course.coursedir import Course, CourseError

    try:
        (lesson,) = Course(Path(inst.course_root)).resolve_lessons([lesson_arg])
    except (CourseError, ValueError) as exc:
        raise HubError(str(exc)) from exc
    inbound = inst.course_exchange / "inbound"
    private = (
        inst.course_exchange / ".collecting"
    )  # nbgrader's exchange layout, the instructor's only
    shutil.rmtree(private, ignore_errors=True)
    private.mkdir(mode=0o700)
    copies = private / inst.course_id / "inbound"
    copies.mkdir(parents=True)
    inst.quarantine.mkdir(mode=0o700, exist_ok=True)
    taken = []
    try:
        for entry in sorted(os.listdir(inbound)):
            parts = entry.split("+")
            if len(parts) < 3 or parts[1] != lesson:
                continue
            try:
                checked_copy(inbound, entry, parts[0], copies / entry)
                taken.append(entry)
            except Rejected as why:
                shutil.rmtree(copies / entry, ignore_errors=True)
                dest = inst.quarantine / f"{entry}.{time.strftime('%Y%m%d-%H%M%S')}"
                where = f"now in {dest}" if _move(inbound / entry, dest) else "left in inbound/"
                print(f"course-collect: set aside {entry}: {why} ({where})", flush=True)
        nbgrader = os.path.join(sys.prefix, "bin", "nbgrader")
        cmd = [nbgrader, "collect", "--update", f"--Exchange.root={private}", lesson]
        rc = subprocess.run(cmd, cwd=inst.course_root, check=False).returncode
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if rc != 0:
        return rc
    archive = inst.course_exchange / "collected"
    archive.mkdir(mode=0o700, exist_ok=True)
    for entry in taken:
        if not _move(inbound / entry, archive / entry):
            print(f"course-collect: {entry} stays in inbound/ (its maker did not let it move)")
    print(
        f"course-collect: {len(taken)} submission(s) of {lesson} collected and moved to {archive}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course-collect",
        description="Check and copy the lesson's inbound submissions (owner, no links), "
        "set aside the rest, then `nbgrader collect --update LESSON` on the copies.",
    )
    parser.add_argument("lesson", help="lesson id or number")
    parser.add_argument("--hub", help="the instance (needed only if you teach in more than one)")
    args = parser.parse_args(argv)
    try:
        return collect(_instance(args.hub), args.lesson)
    except (HubError, OSError) as exc:
        print(f"course-collect: error: {exc}", file=sys.stderr)
        return 1
