"""A class on JupyterHub, end to end, with real local users (``make test-hub``).

On 127.0.0.1, with the hub's environment that ``make test-hub`` builds
(``deploy/build-env``): local users made for the run (an instructor; alice and
bob, students; carol, a student whose home others can read; dave, who is not
in the class), ``course-hub install``, the real JupyterHub with PAM, the real
configurable-http-proxy and each user's own server, nbgrader's filesystem
exchange, and ``course grade`` in its sandbox through the instructor's sudo
rule. The module fixture plays the class once:

1. the hub starts; everyone logs in through PAM (wrong passwords and dave are
   refused); the servers start through the hub's REST API (carol's is refused);
2. the instructor builds and releases lesson 01 (``course build``,
   ``nbgrader release_assignment``);
3. alice and bob fetch it through their servers' Assignment List API, save
   answers into their fetched copies through the contents API (alice: the
   source notebook's solutions; bob: the lesson's first mutant) and submit;
   bob also hands in as alice from a terminal (``nbgrader submit --student``);
4. the instructor's formgrader refuses to autograde; ``course-collect`` sets
   bob's impostor submission aside and collects; ``course-grade`` grades as
   root in the sandbox; ``nbgrader release_feedback``;
5. alice and bob fetch their feedback through their servers.

The tests then check the outcome: grades, feedback, the student and
instructor set-ups, and each refusal as the student would meet it.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pwd
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import requests

from course import notebooks as nbs
from course.authoring import synth
from course.coursedir import Course
from course.lab import INSTRUCTOR_ONLY_LAB_PLUGINS, NOISE_LAB_PLUGINS

from ..support import REPO
from .conftest import PREFIX_VAR, SUMMARY
from .machine import Machine, free_port

LESSON = "01_modules_and_namespaces"
ARTIFACTS = REPO / "test-artifacts" / "hub"
HTTP_TIMEOUT = 120


# ---------------------------------------------------------------------------- helpers


@dataclass
class Person:
    user: str
    password: str
    token: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return Path("/home") / self.user

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


class Hub:
    """The hub as its users see it: HTTP on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def login(self, user: str, password: str) -> tuple[requests.Session, requests.Response]:
        """Log in through the hub's login form (PAM)."""
        s = requests.Session()
        s.get(f"{self.url}/hub/login", timeout=HTTP_TIMEOUT).raise_for_status()
        r = s.post(
            f"{self.url}/hub/login",
            data={"username": user, "password": password, "_xsrf": s.cookies.get("_xsrf")},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        return s, r

    def token(self, person: Person) -> str:
        """Log in, then make an API token with the session, as a user would on the token page."""
        s, r = self.login(person.user, person.password)
        assert r.status_code == 302, f"{person.user} could not log in: {r.status_code}"
        r = s.post(
            f"{self.url}/hub/api/users/{person.user}/tokens",
            headers={"X-XSRFToken": s.cookies.get("_xsrf")},
            json={"note": "make test-hub"},
            timeout=HTTP_TIMEOUT,
        )
        r.raise_for_status()
        return r.json()["token"]

    def start(self, person: Person) -> requests.Response:
        return requests.post(
            f"{self.url}/hub/api/users/{person.user}/server",
            headers=person.headers(),
            timeout=HTTP_TIMEOUT,
        )

    def wait_ready(self, person: Person, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = requests.get(
                f"{self.url}/hub/api/users/{person.user}", headers=person.headers(), timeout=30
            )
            r.raise_for_status()
            server = r.json().get("servers", {}).get("")
            if server and server.get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{person.user}'s server was not ready in {timeout} s")

    def server(self, person: Person, method: str, path: str, **kw) -> requests.Response:
        """A request to ``person``'s own server (/user/NAME/...) with their token."""
        return requests.request(
            method,
            f"{self.url}/user/{person.user}/{path}",
            headers=person.headers(),
            timeout=HTTP_TIMEOUT,
            **kw,
        )

    def assignments(self, person: Person, action: str, course_id: str) -> requests.Response:
        """The Assignment List extension: fetch, submit or fetch_feedback."""
        return self.server(
            person,
            "POST",
            f"assignments/{action}",
            data={"course_id": course_id, "assignment_id": LESSON},
        )


#: Run as a user: each attempt's outcome, as that user's own Python sees it.
PROBE = r"""
import json, os, sqlite3, sys
out = []
for label, action, path in json.loads(sys.argv[1]):
    try:
        if action == "listdir":
            os.listdir(path)
        elif action == "read":
            with open(path, "rb") as fh:
                fh.read(1)
        elif action == "sqlite":
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            con.execute("select count(*) from sqlite_master").fetchone()
        out.append([label, "allowed", ""])
    except Exception as exc:
        out.append([label, type(exc).__name__, str(exc)])
print(json.dumps(out))
"""


#: Run as bob: two later "submissions" that are links to the instructor's
#: source/ (the folder itself; the notebook inside a real folder). nbgrader's
#: own collect would follow them, as the instructor, and grade the solutions.
PLANT = r"""
import os, sys
inbound, me, lesson, source = sys.argv[1:]
link = os.path.join(inbound, f"{me}+{lesson}+2099-01-01 00:00:00.000000 UTC+link")
os.symlink(os.path.dirname(source), link)
inner = os.path.join(inbound, f"{me}+{lesson}+2099-01-02 00:00:00.000000 UTC+inner")
os.mkdir(inner)
os.symlink(source, os.path.join(inner, os.path.basename(source)))
"""


def _plant_args(k: Class) -> list[str]:
    source = k.course_root / "source" / LESSON / f"{LESSON}.ipynb"
    return [str(k.exchange / k.course_id / "inbound"), k.bob.user, LESSON, str(source)]


@dataclass
class Class:
    """The machine, the hub and what happened."""

    machine: Machine
    prefix: Path
    instance: str
    hub: Hub
    teacher: Person
    alice: Person
    bob: Person
    carol: Person
    dave: Person
    course_id: str
    course_root: Path
    exchange: Path
    mutant: synth.Mutant
    answers: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    events: dict[str, object] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)

    def env(self, person: Person, role: str | None) -> list[str]:
        """The environment a user has in their hub terminal (PATH, role configuration)."""
        env = [
            f"HOME={person.home}",
            f"USER={person.user}",
            "LANG=C.UTF-8",
            f"PATH={self.prefix / 'venv' / 'bin'}:/usr/bin:/bin",
        ]
        if role:
            conf = Path("/etc/python-modules-hands-on") / self.instance / "jupyter" / role
            env.append(f"JUPYTER_CONFIG_PATH={conf}")
        return env

    def as_user(
        self, person: Person, *cmd: str, role: str | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` as ``person`` (runuser) with a clean environment."""
        return subprocess.run(
            ["runuser", "-u", person.user, "--", "env", "-i", *self.env(person, role), *cmd],
            cwd=cwd or person.home,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def teach(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        """The instructor, in a terminal in the course root; must succeed."""
        start = time.monotonic()
        proc = self.as_user(self.teacher, *cmd, role="instructor", cwd=self.course_root)
        self.step(f"instructor: {' '.join(cmd)}", start)
        assert proc.returncode == 0, (
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        return proc

    def probe(self, person: Person, attempts: list[tuple[str, str, str]]) -> dict[str, list[str]]:
        proc = self.as_user(person, "python", "-I", "-c", PROBE, json.dumps(attempts))
        assert proc.returncode == 0, proc.stderr
        return {label: [kind, msg] for label, kind, msg in json.loads(proc.stdout)}

    def step(self, what: str, start: float) -> None:
        line = f"{time.monotonic() - start:6.1f} s  {what}"
        self.steps.append(line)
        print(line, flush=True)


def _wait_for_hub(hub: Hub, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the hub exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if requests.get(f"{hub.url}/hub/api", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the hub did not answer in {timeout} s:\n{log.read_text()[-4000:]}")


def _pss_kib(uid: int, only: str = "") -> int:
    """The proportional set size of ``uid``'s processes (whose command line
    contains ``only``), in KiB."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            if only and only not in Path(f"/proc/{entry}/cmdline").read_text(errors="replace"):
                continue
            for line in Path(f"/proc/{entry}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return total


def _memory_with_a_kernel(k: Class, person: Person) -> tuple[int, int]:
    """``person``'s processes (KiB, PSS): their server alone, then with one
    python3 kernel started (measured once the kernel's size stops growing)."""
    uid = pwd.getpwnam(person.user).pw_uid
    alone = _pss_kib(uid)
    r = k.hub.server(person, "POST", "api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    try:
        last, deadline = -1, time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(1)
            now = _pss_kib(uid, only="ipykernel_launcher")
            if now and abs(now - last) < 0.02 * now:
                break
            last = now
        return alone, _pss_kib(uid)
    finally:
        k.hub.server(person, "DELETE", f"api/kernels/{r.json()['id']}")


def _feedback_pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("feedback/*/*.html"))


# ---------------------------------------------------------------------------- the class


@pytest.fixture(scope="module")
def klass() -> Class:
    prefix = Path(os.environ[PREFIX_VAR])
    for tool in ("runuser", "useradd", "userdel", "groupadd", "chpasswd", "sudo", "visudo"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            pytest.fail(f"{tool} is missing (Debian: passwd, util-linux, sudo)", pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("make test-hub needs root: it creates local users", pytrace=False)
    if not (prefix / "venv" / "bin" / "course-hub").exists():
        pytest.fail(f"no hub environment in {prefix}: run `make test-hub`", pytrace=False)
    for note in Machine.clean_stale():
        print(note)
    machine = Machine(prefix)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "jupyterhub.log"
    try:
        try:
            k = _play_the_class(machine, prefix, log)
        except Exception:
            if log.exists():
                print(f"--- {log} (the end) ---\n{log.read_text()[-8000:]}")
            raise
        yield k
    finally:
        problems = machine.clean()
        for line in machine.log:
            print(line)
        assert not problems, f"could not leave the machine as it was: {problems}"


def _play_the_class(machine: Machine, prefix: Path, log: Path) -> Class:
    t0 = time.monotonic()
    repo = Course(REPO)
    students = machine.add_group("students")
    people = {
        "teacher": Person(*machine.add_user("teacher")),
        "alice": Person(*machine.add_user("alice", groups=[students])),
        "bob": Person(*machine.add_user("bob", groups=[students])),
        "carol": Person(*machine.add_user("carol", groups=[students], home_mode="0755")),
        "dave": Person(*machine.add_user("dave")),
    }
    port, hub_port, api_port = free_port(), free_port(), free_port()
    instance = machine.name("class")
    machine.set_instance(instance)
    hub_bin = prefix / "venv" / "bin"
    exchange = Path("/srv/python-modules-hands-on") / instance / "exchange"
    install = machine.run(
        str(hub_bin / "course-hub"),
        "install",
        instance,
        f"--instructor={people['teacher'].user}",
        f"--students-group={students}",
        f"--course={REPO}",
        f"--exchange={exchange}",
        f"--port={port}",
        f"--hub-port={hub_port}",
        f"--proxy-api-port={api_port}",
    )
    print(install.stdout)
    course_id = repo.nbgrader_config().CourseDirectory.course_id
    k = Class(
        machine=machine,
        prefix=prefix,
        instance=instance,
        hub=Hub(port),
        course_id=course_id,
        course_root=people["teacher"].home / "python-modules-hands-on",
        exchange=exchange,
        mutant=synth.load_mutants(repo, LESSON)[0],
        **people,
    )
    versions = machine.run(str(hub_bin / "jupyterhub"), "--version").stdout.strip()
    chp = prefix / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    SUMMARY.append(
        f"JupyterHub {versions} (PAM, LocalProcessSpawner), configurable-http-proxy "
        f"{machine.run(str(chp), '--version').stdout.strip()}, on 127.0.0.1:{port}; "
        f"users {', '.join(p.user for p in people.values())}"
    )
    k.step(f"users, group and course-hub install {instance}", t0)

    # 1. the hub, the logins, the servers
    start = time.monotonic()
    proc = machine.start_hub([str(hub_bin / "course-hub"), "run", instance], log)
    _wait_for_hub(k.hub, proc, log)
    k.step(f"JupyterHub answers on {k.hub.url}", start)
    start = time.monotonic()
    k.events["wrong password"] = k.hub.login(k.alice.user, "not-her-password")[1].status_code
    k.events["dave (not in the class)"] = k.hub.login(k.dave.user, k.dave.password)[1].status_code
    for p in (k.teacher, k.alice, k.bob, k.carol):
        p.token = k.hub.token(p)
    k.step("PAM logins (and two refused), one API token each", start)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = dict(
            zip("tabc", pool.map(k.hub.start, (k.teacher, k.alice, k.bob, k.carol)), strict=True)
        )
    k.events["carol's server"] = (started["c"].status_code, started["c"].text)
    for p in (k.teacher, k.alice, k.bob):
        k.hub.wait_ready(p)
    k.step("servers started through the REST API (teacher, alice, bob; carol refused)", start)

    # 2. build and release
    k.teach("course", "build", LESSON)
    k.teach("nbgrader", "release_assignment", "--force", LESSON)

    # 3. fetch, answer, submit
    for p, answers in (
        (k.alice, synth.student_notebook(repo, LESSON, "reference")),
        (k.bob, synth.student_notebook(repo, LESSON, "reference", k.mutant.replace)),
    ):
        start = time.monotonic()
        r = k.hub.assignments(p, "fetch", course_id)
        assert r.status_code == 200 and r.json()["success"], r.text
        path = f"api/contents/{LESSON}/{LESSON}.ipynb"
        r = k.hub.server(p, "GET", path)
        assert r.status_code == 200, r.text
        k.events[f"{p.user} fetched"] = nbformat.from_dict(r.json()["content"])
        r = k.hub.server(
            p, "PUT", path, json={"type": "notebook", "format": "json", "content": answers}
        )
        assert r.status_code == 200, r.text
        k.answers[p.user] = answers
        r = k.hub.server(
            p, "POST", "assignments/validate", data={"path": f"{LESSON}/{LESSON}.ipynb"}
        )
        assert r.status_code == 200, r.text
        k.events[f"{p.user} validate"] = r.json()
        r = k.hub.assignments(p, "submit", course_id)
        assert r.status_code == 200 and r.json()["success"], r.text
        k.step(
            f"{p.user}: fetch, answers saved into the fetched copy, Validate, submit (server API)",
            start,
        )
    start = time.monotonic()
    impostor = k.as_user(
        k.bob, "nbgrader", "submit", LESSON, f"--student={k.alice.user}", role="student"
    )
    k.events["impostor submit"] = impostor
    k.step(f"bob: nbgrader submit --student={k.alice.user} (a terminal)", start)
    start = time.monotonic()
    planted = k.as_user(k.bob, "python", "-I", "-c", PLANT, *_plant_args(k))
    assert planted.returncode == 0, planted.stderr
    k.step("bob: links to the instructor's source/ planted in inbound/ (a terminal)", start)

    # 4. formgrader, collect, grade, feedback
    start = time.monotonic()
    r = k.hub.server(
        k.teacher, "POST", f"formgrader/api/submission/{LESSON}/{k.alice.user}/autograde"
    )
    k.events["formgrader autograde"] = (r.status_code, r.text)
    k.events["autograded after the button"] = sorted(
        str(p.relative_to(k.course_root)) for p in (k.course_root / "autograded").glob("*/*")
    )
    k.step("instructor: the formgrader's Autograde button (refused)", start)
    k.events["collect"] = k.teach("course-collect", LESSON)
    k.events["grade"] = k.teach("course-grade", LESSON, "--jobs=2")
    k.teach("nbgrader", "release_feedback", LESSON)

    # 5. feedback
    for p in (k.alice, k.bob):
        start = time.monotonic()
        r = k.hub.assignments(p, "fetch_feedback", course_id)
        assert r.status_code == 200 and r.json()["success"], r.text
        k.step(f"{p.user}: fetch_feedback (server API)", start)
    k.events["bob's sudo"] = k.as_user(k.bob, "course-grade", LESSON, role="student")
    k.events["alice's memory"] = _memory_with_a_kernel(k, k.alice)
    k.events["duration of the class"] = time.monotonic() - t0
    SUMMARY.extend(k.steps)
    return k


# ---------------------------------------------------------------------------- checks


def test_only_the_class_logs_in_and_homes_must_be_private(klass: Class) -> None:
    assert klass.events["wrong password"] == 403
    assert klass.events["dave (not in the class)"] == 403
    status, text = klass.events["carol's server"]
    assert status >= 400 and "mode 0700" in text, (status, text)
    SUMMARY.append(
        "refused at the door: a wrong password (403), a user not in the class (403), "
        f"a server for a student whose home is 0755 ({status}: must be 0700)"
    )


def test_students_get_the_student_lab_and_the_instructor_the_formgrader(klass: Class) -> None:
    def disabled(person: Person) -> set[str]:
        r = klass.hub.server(person, "GET", "lab")
        assert r.status_code == 200, r.status_code
        m = re.search(
            r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', r.text, re.S
        )
        assert m, "no page config in the lab page"
        return set(json.loads(m.group(1)).get("disabledExtensions", []))

    for student in (klass.alice, klass.bob):
        assert set(INSTRUCTOR_ONLY_LAB_PLUGINS) | set(NOISE_LAB_PLUGINS) <= disabled(student)
        assert klass.hub.server(student, "GET", "formgrader").status_code == 404
        assert klass.hub.server(student, "GET", "formgrader/api/assignments").status_code == 404
        r = klass.hub.server(student, "GET", "assignments", params={"course_id": klass.course_id})
        assert r.status_code == 200 and r.json()["success"], r.text
    assert not set(INSTRUCTOR_ONLY_LAB_PLUGINS) & disabled(klass.teacher)
    assert klass.hub.server(klass.teacher, "GET", "formgrader").status_code == 200
    r = klass.hub.server(klass.teacher, "GET", "formgrader/api/assignments")
    assert r.status_code == 200 and LESSON in r.text
    status, text = klass.events["formgrader autograde"]
    reply = json.loads(text)
    note = " ".join(reply["log"].split())
    assert status == 200 and reply["success"] is False and "switched off" in note, text
    assert klass.events["autograded after the button"] == []
    SUMMARY.append(
        "set-ups: students have Validate and Assignment List only (formgrader 404); "
        "the instructor's formgrader answers Autograde with: " + note
    )


def test_grades_are_right(klass: Class) -> None:
    from nbgrader.api import Gradebook

    repo = Course(REPO)
    tests = [
        nbs.grade_id(c)
        for c in nbs.read(repo.source_notebook(LESSON)).cells
        if nbs.is_graded_test(c)
    ]
    scores = {}
    with Gradebook(f"sqlite:///{klass.course_root / 'gradebook.db'}") as gb:
        for p in (klass.alice, klass.bob):
            nb = gb.find_submission_notebook(LESSON, LESSON, p.user)
            scores[p.user] = {g.name: (g.score, g.max_score) for g in nb.grades}
    alice, bob = scores[klass.alice.user], scores[klass.bob.user]
    assert set(alice) == set(bob) == set(tests)
    assert all(score == top for score, top in alice.values()), alice
    lost = {cell for cell, (score, top) in bob.items() if score < top}
    assert lost == set(klass.mutant.fails), bob
    total = {
        u: (sum(s for s, _ in c.values()), sum(t for _, t in c.values())) for u, c in scores.items()
    }
    assert "graded" in klass.events["grade"].stdout
    SUMMARY.append(
        f"grades (course-grade, sandboxed, through sudo): alice {total[klass.alice.user][0]:g}/"
        f"{total[klass.alice.user][1]:g} (reference); bob {total[klass.bob.user][0]:g}/"
        f"{total[klass.bob.user][1]:g} (mutant {klass.mutant.name}: lost {', '.join(sorted(lost))}, "
        "as its `fails` says)"
    )


def test_each_student_fetches_only_their_own_feedback(klass: Class) -> None:
    pages = {}
    for p in (klass.alice, klass.bob):
        mine = klass.course_root / "feedback" / p.user / LESSON / f"{LESSON}.html"
        fetched = _feedback_pages(p.home / LESSON)
        assert len(fetched) == 1, fetched
        assert fetched[0].read_bytes() == mine.read_bytes()
        pages[p.user] = mine.read_bytes()
    assert pages[klass.alice.user] != pages[klass.bob.user]
    SUMMARY.append(
        "feedback: alice and bob each fetched exactly one page, their own (byte for byte)"
    )


def test_collect_sets_aside_impostors_and_links(klass: Class) -> None:
    impostor = klass.events["impostor submit"]
    assert impostor.returncode == 0, impostor.stderr  # nbgrader lets bob do it
    collect = klass.events["collect"].stdout
    assert f"set aside {klass.alice.user}+{LESSON}+" in collect
    assert f"made by {klass.bob.user}, not by {klass.alice.user}" in collect
    assert (
        f"set aside {klass.bob.user}+{LESSON}+2099-01-01 00:00:00.000000 UTC+link: not a folder"
        in collect
    )
    assert (
        f"set aside {klass.bob.user}+{LESSON}+2099-01-02 00:00:00.000000 UTC+inner: holds a symbolic link"
        in collect
    )
    for p in (klass.alice, klass.bob):
        collected = nbs.read(klass.course_root / "submitted" / p.user / LESSON / f"{LESSON}.ipynb")
        answers = klass.answers[p.user]
        got = {nbs.grade_id(c): c.source for c in collected.cells if nbs.is_solution(c)}
        want = {nbs.grade_id(c): c.source for c in answers.cells if nbs.is_solution(c)}
        assert got == want, f"{p.user}'s collected submission is not the one they handed in"
    SUMMARY.append(
        f"course-collect set aside bob's `nbgrader submit --student={klass.alice.user}` and his two "
        "later links to source/ in inbound/; "
        "each student's own submission was collected and graded"
    )


def test_students_cannot_read_what_is_not_theirs(klass: Class) -> None:
    k = klass
    alice_sub = k.course_root / "submitted" / k.alice.user / LESSON / f"{LESSON}.ipynb"
    archived = sorted((k.exchange / k.course_id / "collected").glob(f"{k.alice.user}+*"))
    assert archived, "course-collect archived nothing"
    cache = k.alice.home / ".local/share/jupyter/nbgrader_cache" / k.course_id
    forbidden = [
        (
            "list the exchange's inbound/ (everyone's submissions)",
            "listdir",
            str(k.exchange / k.course_id / "inbound"),
        ),
        ("list the exchange's feedback/", "listdir", str(k.exchange / k.course_id / "feedback")),
        (
            "read alice's submission in the exchange, by its exact name",
            "read",
            str(archived[0] / f"{LESSON}.ipynb"),
        ),
        ("read alice's collected submission", "read", str(alice_sub)),
        ("read alice's working copy", "read", str(k.alice.home / LESSON / f"{LESSON}.ipynb")),
        ("list alice's nbgrader cache (her submission and its secret)", "listdir", str(cache)),
        (
            "read the instructor's source/ notebook",
            "read",
            str(k.course_root / "source" / LESSON / f"{LESSON}.ipynb"),
        ),
        ("read the gradebook", "read", str(k.course_root / "gradebook.db")),
        ("open the gradebook with sqlite3", "sqlite", str(k.course_root / "gradebook.db")),
        ("list the course root", "listdir", str(k.course_root)),
    ]
    allowed = [
        (
            "read the released lesson (outbound/)",
            "read",
            str(k.exchange / k.course_id / "outbound" / LESSON / f"{LESSON}.ipynb"),
        ),
        ("read bob's own working copy", "read", str(k.bob.home / LESSON / f"{LESSON}.ipynb")),
    ]
    seen = k.probe(k.bob, forbidden + allowed)
    # The same attempts by their owners succeed: the refusals are about who asks.
    owners = {
        **k.probe(k.alice, [forbidden[4], forbidden[5]]),
        **k.probe(
            k.teacher,
            [forbidden[0], forbidden[1], forbidden[2], forbidden[3], forbidden[6], forbidden[8]],
        ),
    }
    lines = []
    for label, _, _ in forbidden:
        kind, msg = seen[label]
        assert kind in ("PermissionError", "OperationalError"), f"bob could {label}: {kind} {msg}"
        lines.append(f"  bob: {label}: {kind}: {msg}")
    for label, _, _ in allowed:
        assert seen[label][0] == "allowed", (label, seen[label])
    for label, (kind, msg) in owners.items():
        assert kind == "allowed", f"the owner could not {label}: {kind} {msg}"
    sudo = k.events["bob's sudo"]
    assert sudo.returncode != 0 and "password is required" in sudo.stderr, sudo.stderr
    lines.append(
        f"  bob: course-grade (sudo): exit status {sudo.returncode}: {sudo.stderr.strip()}"
    )
    SUMMARY.append(
        f"refusals, each as bob's own process (the owners succeed at the same {len(owners)}):"
    )
    SUMMARY.extend(lines)
    print("\n".join(lines))


def test_validate_in_the_students_server(klass: Class) -> None:
    """nbgrader's Validate (the lab's button calls this API) in the student's own server."""
    alice = klass.events[f"{klass.alice.user} validate"]
    assert alice["success"] and "failed" not in alice["value"], alice
    bob = klass.events[f"{klass.bob.user} validate"]
    assert bob["success"], bob
    fetched = klass.events[f"{klass.bob.user} fetched"]
    by_source = {c.source: nbs.grade_id(c) for c in fetched.cells if nbs.is_graded_test(c)}
    failed = [by_source.get(cell["source"], "?") for cell in bob["value"].get("failed", [])]
    assert sorted(failed) == sorted(klass.mutant.fails), failed
    SUMMARY.append(
        f"Validate in the students' servers: alice passes; bob fails exactly {', '.join(failed)}"
    )


def test_what_a_student_costs(klass: Class) -> None:
    """Memory of a student's server, idle and with one kernel (for README's sizing)."""
    alone, with_kernel = klass.events["alice's memory"]
    assert 0 < alone < with_kernel
    SUMMARY.append(
        f"memory (proportional set size of alice's processes): her server {alone / 1024:.0f} MiB, "
        f"with one python3 kernel {with_kernel / 1024:.0f} MiB"
    )


CHROMIUM = Path("/usr/bin/chromium")


def _snapshot(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_the_formgrader_says_autograde_is_off_in_a_browser(klass: Class) -> None:
    """The instructor, in Debian's Chromium through the hub's login page, clicks
    the formgrader's Autograde icon for alice: its error dialog shows the note."""
    if not CHROMIUM.is_file():
        pytest.fail(f"this test needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    manager = sync_playwright()
    playwright = manager.start()
    # Playwright may leave its driver's exit status uncollected (an unraisable
    # "still running" warning later): wait for it, as tests/browser does.
    proc = getattr(getattr(getattr(manager, "_client", None), "_transport", None), "_proc", None)
    driver = getattr(getattr(proc, "_transport", None), "_proc", None)
    shot = ARTIFACTS / "formgrader-autograde-off.png"
    before = _snapshot(klass.course_root / "autograded")
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{klass.hub.url}/hub/login")
            page.fill("#username_input", klass.teacher.user)
            page.fill("#password_input", klass.teacher.password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{klass.teacher.user}/**")
            page.goto(
                f"{klass.hub.url}/user/{klass.teacher.user}/formgrader/manage_submissions/{LESSON}"
            )
            page.locator("tr", has_text=klass.alice.user).locator("td.autograde a").click()
            dialog = page.locator("#error-modal")
            expect(dialog).to_contain_text("Autograde is switched off")
            expect(dialog).to_be_visible()
            # Bootstrap fades the dialog in: photograph it once it is opaque.
            page.wait_for_function(
                "getComputedStyle(document.querySelector('#error-modal')).opacity === '1'"
            )
            page.screenshot(path=shot)
        except Exception:
            page.screenshot(path=ARTIFACTS / "formgrader-autograde-FAILED.png")
            raise
        finally:
            browser.close()
    finally:
        playwright.stop()
        if isinstance(driver, subprocess.Popen) and driver.returncode is None:
            driver.wait(timeout=30)
    assert _snapshot(klass.course_root / "autograded") == before, "the click changed autograded/"
    SUMMARY.append(
        f"browser: the formgrader's Autograde icon shows the note in its error dialog ({shot.relative_to(REPO)})"
    )
