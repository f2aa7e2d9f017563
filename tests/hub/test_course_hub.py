"""deploy/hub/course_hub in pieces that need no root (run by `make test-hub`,
and by a bare `pytest`): what crosses between the instructor's course root
and root's grading copy (transfer.py), which arguments the root wrapper
accepts (grade.py), and which inbound submissions course-collect copies
(collect.py; the owner check, which needs a second user, is in test_hub.py)."""

from __future__ import annotations

import getpass
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

from ..support import REPO

sys.path.insert(0, str(REPO / "deploy" / "hub"))

from course_hub import HubError, collect, grade, transfer


def _stream(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    out.seek(0)
    return out


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a\0b"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(HubError):
        transfer.safe_name(name)


def test_pack_leaves_out_links_and_unpack_makes_only_files_and_folders(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "source" / "01_x").mkdir(parents=True)
    (root / "source" / "01_x" / "01_x.ipynb").write_text("{}")
    (root / "source" / "secret").symlink_to("/etc/passwd")
    (root / "source" / "etc").symlink_to("/etc", target_is_directory=True)
    out = io.BytesIO()
    transfer.pack_paths(root, ["source", "gradebook.db"], out)  # gradebook.db: absent, skipped
    out.seek(0)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        names = tar.getnames()
    assert sorted(names) == ["source", "source/01_x", "source/01_x/01_x.ipynb"]
    dest = tmp_path / "dest"
    dest.mkdir()
    transfer.unpack(out, dest)
    assert (dest / "source" / "01_x" / "01_x.ipynb").read_text() == "{}"
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_unpack_refuses_escapes_and_skips_links(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(HubError):
        transfer.unpack(_stream([_file("../outside")]), dest)
    assert not (tmp_path / "outside").exists()
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc"
    transfer.unpack(_stream([(link, None), _file("link2/x")]), dest)
    assert not os.path.lexists(dest / "link") and (dest / "link2" / "x").is_file()
    with pytest.raises(FileExistsError):  # a name twice: never written through
        transfer.unpack(_stream([_file("twice"), _file("twice")]), dest)


def _results(tmp_path: Path, expected: str | None) -> io.BytesIO:
    work = tmp_path / "work"
    (work / "reports").mkdir(parents=True)
    (work / "reports" / "index.html").write_text("new report")
    (work / "gradebook.db").write_text("new gradebook")
    out = io.BytesIO()
    manifest = {"replace": ["gradebook.db", "reports"], "gradebook_sha256": expected}
    transfer.pack_paths(work, ["gradebook.db", "reports"], out, manifest)
    out.seek(0)
    return out


def test_results_replace_what_was_graded(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "reports").mkdir(parents=True)
    (root / "reports" / "stale.html").write_text("old")
    (root / "gradebook.db").write_text("old gradebook")
    stream = _results(tmp_path, transfer.file_sha256(root / "gradebook.db"))
    assert transfer.unpack_results(root, stream) == ["gradebook.db", "reports"]
    assert (root / "gradebook.db").read_text() == "new gradebook"
    assert sorted(p.name for p in (root / "reports").iterdir()) == ["index.html"]
    assert sorted(p.name for p in root.iterdir()) == ["gradebook.db", "reports"]


def test_results_are_refused_when_the_gradebook_changed_meanwhile(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "gradebook.db").write_text("collected meanwhile")
    stream = _results(tmp_path, transfer.file_sha256(tmp_path / "absent"))
    with pytest.raises(HubError, match="changed while grading"):
        transfer.unpack_results(root, stream)
    assert (root / "gradebook.db").read_text() == "collected meanwhile"
    assert sorted(p.name for p in root.iterdir()) == ["gradebook.db"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--unsafe-no-sandbox"],
        ["--root", "/"],
        ["--python", "3.14"],
        ["01", "--student", "-rf"],
        ["01;rm"],
        ["--student", "a,b"],
        ["--jobs", "0"],
    ],
)
def test_the_root_wrapper_accepts_only_course_grade_arguments(argv: list[str]) -> None:
    with pytest.raises((SystemExit, HubError)):
        grade._check_args(grade._parser().parse_args(argv))


def test_the_root_wrapper_accepts_what_course_grade_takes() -> None:
    args = grade._parser().parse_args(
        ["01", "02_what_import_does", "--student", "alice", "-j", "2"]
    )
    grade._check_args(args)
    assert (args.lessons, args.students, args.jobs) == (["01", "02_what_import_does"], ["alice"], 2)


def _inbound(tmp_path: Path) -> Path:
    inbound = tmp_path / "inbound"
    (inbound / "good" / "sub").mkdir(parents=True)
    (inbound / "good" / "01_x.ipynb").write_text("{}")
    (inbound / "good" / "sub" / "m.py").write_text("x = 1")
    (inbound / "secret").mkdir()
    (inbound / "secret" / "source.ipynb").write_text("solutions")
    (inbound / "link").symlink_to(inbound / "secret", target_is_directory=True)
    (inbound / "inner-link").mkdir()
    (inbound / "inner-link" / "01_x.ipynb").symlink_to(inbound / "secret" / "source.ipynb")
    (inbound / "dir-link").mkdir()
    (inbound / "dir-link" / "sub").symlink_to(inbound / "secret", target_is_directory=True)
    (inbound / "fifo").mkdir()
    os.mkfifo(inbound / "fifo" / "01_x.ipynb")
    return inbound


def test_collect_copies_a_plain_submission(tmp_path: Path) -> None:
    inbound = _inbound(tmp_path)
    collect.checked_copy(inbound, "good", getpass.getuser(), tmp_path / "copy")
    assert (tmp_path / "copy" / "01_x.ipynb").read_text() == "{}"
    assert (tmp_path / "copy" / "sub" / "m.py").read_text() == "x = 1"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("link", "not a folder"),
        ("inner-link", "symbolic link"),
        ("dir-link", "symbolic link"),
        ("fifo", "special file"),
    ],
)
def test_collect_refuses_links_and_special_files(tmp_path: Path, entry: str, reason: str) -> None:
    inbound = _inbound(tmp_path)
    with pytest.raises(collect.Rejected, match=reason):
        collect.checked_copy(inbound, entry, getpass.getuser(), tmp_path / "copy")
    copied = [p for p in (tmp_path / "copy").rglob("*")] if (tmp_path / "copy").exists() else []
    assert not any("solutions" in p.read_text() for p in copied if p.is_file())


def test_collect_refuses_a_submission_made_by_someone_else(tmp_path: Path) -> None:
    inbound = _inbound(tmp_path)
    with pytest.raises(collect.Rejected, match="not by alice"):
        collect.checked_copy(inbound, "good", "alice", tmp_path / "copy")
