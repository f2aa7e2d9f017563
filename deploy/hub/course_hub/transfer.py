"""Tar streams between the instructor's course root and root's grading run.

Root never opens a path inside the instructor's course root (the instructor
could put a symbolic link there, and root would follow it). Instead:

* **in**: ``pack`` runs *as the instructor* and writes the chosen parts of the
  course root to stdout (regular files and folders only; symbolic links and
  anything else are left out and named on stderr); root reads the stream with
  :func:`unpack` into a fresh folder of its own, accepting only regular files
  and folders with plain relative names;
* **out**: root writes the results with :func:`pack_paths` from its own folder;
  ``unpack-results`` runs *as the instructor*, extracts them next to the course
  root's contents, checks that ``gradebook.db`` is still the one that was
  graded, then moves each result into place.

Usage (the grading wrapper's, not a user's)::

    python -I -m course_hub.transfer pack ROOT [--path P]... [--submitted LESSON[/STUDENT]]...
    python -I -m course_hub.transfer unpack-results ROOT < stream
    python -I -m course_hub.transfer unpack ROOT < stream     (course-hub install: a new course root)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from . import HubError

__all__ = ["MANIFEST", "file_sha256", "pack_paths", "safe_name", "unpack"]

#: The first member of a results stream: what to replace, and the gradebook's
#: checksum at the time it was copied for grading (None: there was none).
MANIFEST = "course-hub-manifest.json"
#: A stream larger than this is refused (a course root is notebooks and a database).
MAX_BYTES = 8 * 1024**3


def safe_name(name: str) -> str:
    """``name`` as a plain relative POSIX path, or :class:`HubError`."""
    if not name or "\0" in name or name.startswith("/"):
        raise HubError(f"refusing member {name!r}: not a relative path")
    if any(part in ("..", ".", "") for part in name.split("/")):
        raise HubError(f"refusing member {name!r}: not a plain relative path")
    return name


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a regular file (not followed if a link), or None if absent."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise HubError(f"{path} is not a regular file")
        digest = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------ packing


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        print(f"course-hub: left out {name}: {exc.strerror}", file=sys.stderr)
        return
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            print(f"course-hub: left out {name}: not a regular file", file=sys.stderr)
            return
        info = tarfile.TarInfo(name)
        info.size = st.st_size
        info.mtime = int(st.st_mtime)
        info.mode = 0o644
        tar.addfile(info, fh)


def _add_dir(tar: tarfile.TarFile, name: str, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = int(mtime)
    tar.addfile(info)


def _add_tree(tar: tarfile.TarFile, root: Path, rel: str) -> None:
    """Add ``root/rel`` (a file or a folder, recursively) without following links."""
    path = root / rel
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode):
        _add_file(tar, path, rel)
        return
    if not stat.S_ISDIR(st.st_mode):
        print(f"course-hub: left out {rel}: not a regular file or folder", file=sys.stderr)
        return
    _add_dir(tar, rel, st.st_mtime)
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        here = Path(dirpath)
        for d in sorted(dirnames):
            sub = here / d
            name = str(PurePosixPath(sub.relative_to(root)))
            if os.path.islink(sub):
                print(f"course-hub: left out {name}: a symbolic link", file=sys.stderr)
                continue
            _add_dir(tar, name, os.lstat(sub).st_mtime)
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(here / d))
        for f in sorted(filenames):
            _add_file(tar, here / f, str(PurePosixPath((here / f).relative_to(root))))


def pack_paths(
    root: Path, rels: Iterable[str], out: BinaryIO, manifest: dict | None = None
) -> None:
    """Write ``root/rel`` for each ``rel`` as a tar stream to ``out`` (the
    manifest first, if given)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        if manifest is not None:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for rel in rels:
            _add_tree(tar, root, safe_name(rel))


def _submitted(root: Path, selectors: list[str]) -> list[str]:
    """``submitted/STUDENT/LESSON`` folders matching ``LESSON`` or ``LESSON/STUDENT``."""
    folder = root / "submitted"
    if not folder.is_dir():
        return []
    wanted: list[tuple[str, str | None]] = []
    for sel in selectors:
        lesson, _, student = sel.partition("/")
        wanted.append((lesson, student or None))
    found = []
    for student in sorted(os.listdir(folder)):
        for lesson, only in wanted:
            if only not in (None, student):
                continue
            if (folder / student / lesson).is_dir() and not (folder / student).is_symlink():
                found.append(f"submitted/{student}/{lesson}")
    return sorted(set(found))


# ---------------------------------------------------------------------- unpacking


def unpack(stream: BinaryIO, dest: Path, *, max_bytes: int = MAX_BYTES) -> dict | None:
    """Extract a tar stream into ``dest`` (an empty folder that only the
    caller writes to): regular files and folders with safe names only.

    Returns the manifest if the stream has one (it is not written).
    """
    manifest = None
    total = 0
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            name = safe_name(member.name)
            if name == MANIFEST:
                fh = tar.extractfile(member)
                manifest = json.loads(fh.read(1 << 20)) if fh else None
                continue
            target = dest / name
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isreg():
                total += member.size
                if total > max_bytes:
                    raise HubError(f"refusing the stream: more than {max_bytes} bytes")
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                with open(target, "xb") as dst:  # never through anything that exists
                    shutil.copyfileobj(src, dst)
                os.utime(target, (member.mtime, member.mtime))
            else:
                print(f"course-hub: left out {name}: not a regular file or folder", file=sys.stderr)
    return manifest


def unpack_results(root: Path, stream: BinaryIO) -> list[str]:
    """As the course root's owner: extract the results and move them into place.

    Refuses (and changes nothing) when ``gradebook.db`` is no longer the one
    that was graded. Returns the paths replaced.
    """
    incoming = Path(tempfile.mkdtemp(prefix=".course-grade-incoming-", dir=root))
    trash = Path(tempfile.mkdtemp(prefix=".course-grade-old-", dir=root))
    try:
        manifest = unpack(stream, incoming)
        if manifest is None:
            raise HubError("the results carry no manifest")
        expected = manifest.get("gradebook_sha256")
        if file_sha256(root / "gradebook.db") != expected:
            raise HubError(
                f"{root / 'gradebook.db'} changed while grading (nbgrader collect? the formgrader?): "
                "nothing was written back; run course-grade again"
            )
        replaced = []
        for rel in manifest.get("replace", []):
            rel = safe_name(rel)
            new, old = incoming / rel, root / rel
            if not os.path.lexists(new):
                continue
            old.parent.mkdir(parents=True, exist_ok=True)
            if os.path.lexists(old):
                os.replace(old, trash / str(len(replaced)))
            os.replace(new, old)
            replaced.append(rel)
        return replaced
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_hub.transfer")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("root", type=Path)
    p.add_argument("--path", action="append", default=[])
    p.add_argument("--submitted", action="append", default=[], metavar="LESSON[/STUDENT]")
    p = sub.add_parser("unpack-results")
    p.add_argument("root", type=Path)
    p = sub.add_parser("unpack")
    p.add_argument("root", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "pack":
            rels = list(args.path) + _submitted(args.root, args.submitted)
            pack_paths(args.root, rels, sys.stdout.buffer)
            sys.stdout.flush()
        elif args.command == "unpack":
            unpack(sys.stdin.buffer, args.root)
        else:
            for rel in unpack_results(args.root, sys.stdin.buffer):
                print(rel)
    except (HubError, OSError, tarfile.TarError) as exc:
        print(f"course-hub: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
