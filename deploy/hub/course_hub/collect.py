"""``course-collect LESSON``: check the exchange's inbound, then ``nbgrader collect``.

nbgrader's filesystem exchange names a submission ``STUDENT+LESSON+TIME+RANDOM``
and lets the student choose STUDENT (``nbgrader submit --student alice``
works for anyone), and ``nbgrader collect`` believes the name: a classmate
could hand in over alice's work. The file system knows better: the
submission's folder belongs to whoever made it. This command, run by the
instructor, moves every inbound submission whose owner is not the student it
names (or that is not a plain folder) into the course's ``quarantine/``
folder in the exchange, says so, and then runs ``nbgrader collect --update
LESSON`` in the course root (``--update``: a newer submission replaces the one
collected before). Afterwards it moves the lesson's inbound submissions
that were there before ``collect`` ran into the course's ``collected/``
folder (mode 0700): in ``inbound/`` a submission is world-readable to whoever
knows its name (nbgrader's design: the folder cannot be listed, the name has a
random part); once collected, nobody but the instructor can reach it.
"""

from __future__ import annotations

import argparse
import os
import pwd
import stat
import subprocess
import sys
import time
from pathlib import Path

from . import HubError
from .instance import Instance, list_instances

__all__ = ["impostors", "main"]


def impostors(inst: Instance, lesson: str) -> list[tuple[str, str]]:
    """``(entry, reason)`` for the inbound submissions of ``lesson`` not made
    by the student they name."""
    inbound = inst.course_exchange / "inbound"
    found = []
    for entry in sorted(os.listdir(inbound)):
        parts = entry.split("+")
        if len(parts) < 3 or parts[1] != lesson:
            continue
        st = os.lstat(inbound / entry)
        if not stat.S_ISDIR(st.st_mode):
            found.append((entry, "not a folder"))
            continue
        try:
            owner = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            owner = f"uid {st.st_uid}"
        if owner != parts[0]:
            found.append((entry, f"made by {owner}, not by {parts[0]}"))
    return found


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
    inst.quarantine.mkdir(mode=0o700, exist_ok=True)
    for entry, reason in impostors(inst, lesson):
        dest = inst.quarantine / f"{entry}.{time.strftime('%Y%m%d-%H%M%S')}"
        os.replace(inbound / entry, dest)
        print(f"course-collect: set aside {entry}: {reason} (now in {dest})", flush=True)
    before = [e for e in os.listdir(inbound) if e.split("+")[1:2] == [lesson]]
    nbgrader = os.path.join(sys.prefix, "bin", "nbgrader")
    cmd = [nbgrader, "collect", "--update", lesson]
    rc = subprocess.run(cmd, cwd=inst.course_root, check=False).returncode
    if rc != 0:
        return rc
    archive = inst.course_exchange / "collected"
    archive.mkdir(mode=0o700, exist_ok=True)
    for entry in before:
        os.replace(inbound / entry, archive / entry)
    print(
        f"course-collect: {len(before)} submission(s) of {lesson} moved from inbound/ to {archive}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course-collect",
        description="Set aside submissions made under another student's name, "
        "then `nbgrader collect --update LESSON`.",
    )
    parser.add_argument("lesson", help="lesson id or number")
    parser.add_argument("--hub", help="the instance (needed only if you teach in more than one)")
    args = parser.parse_args(argv)
    try:
        return collect(_instance(args.hub), args.lesson)
    except (HubError, OSError) as exc:
        print(f"course-collect: error: {exc}", file=sys.stderr)
        return 1
