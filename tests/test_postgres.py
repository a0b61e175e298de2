"""The gradebook in a real PostgreSQL server (a school's shared one): every step works, and two graders
grading disjoint learners at once both land. The server is Debian's `postgresql` package, started
here on a private Unix socket as an unprivileged user; skipped with the reason if it cannot start."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from qicourse.cli import main
from qicourse.grading import collect, release, setup_course
from qicourse.grading.cohort import solved

pytestmark = pytest.mark.pipeline
FX = Path(__file__).parent / "fixtures" / "grading"
SRC = FX / "solutions" / "fx_ward" / "fx_ward.ipynb"
PORT = 5433  # names the socket file only: the server listens on no TCP port
# learner -> grade ids answered (None: all); fx_ward's auto-graded points: falls_rate 2, baseline_median 1, rates 2
LEARNERS = {"ada": None, "mary": {"falls_rate"}, "john": {"baseline_median", "rates"}, "edith": set()}
EXPECTED_AUTO = {"ada": 5, "mary": 2, "john": 3, "edith": 0}


def _as_server_user():
    """(uid, gid) for the server: PostgreSQL refuses to run as root; None when tests do not run as root."""
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            continue
    pytest.skip("no unprivileged user (postgres or nobody) to run the PostgreSQL server as")


@pytest.fixture(scope="module")
def postgres():
    """A URL template `postgresql://...{db}...` for a throwaway server; the server is stopped afterwards."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        pytest.skip("PostgreSQL server not installed (Debian: apt-get install postgresql)")
    bindir = Path(found[-1]).parent
    user = _as_server_user()
    base = Path(tempfile.mkdtemp(prefix="qicourse-pg-"))
    if user:
        os.chown(base, *user)
    run_as = {"user": user[0], "group": user[1], "extra_groups": []} if user else {}

    def pg(*args):
        return subprocess.run([str(bindir / args[0]), *args[1:]], capture_output=True, text=True, timeout=120,
                              cwd=base, **run_as)

    done = pg("initdb", "-D", str(base / "data"), "-U", "grader", "--auth=trust", "-E", "UTF8", "--no-sync")
    if done.returncode == 0:
        done = pg("pg_ctl", "-D", str(base / "data"), "-l", str(base / "log"), "-w", "start",
                  "-o", f"-k {base} -p {PORT} -c listen_addresses='' -c fsync=off")
    if done.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {(done.stderr or done.stdout).strip()[-300:]}")
    try:
        yield f"postgresql://grader@/{{db}}?host={base}&port={PORT}", lambda db: pg("createdb", "-h", str(base),
                                                                                   "-p", str(PORT), "-U", "grader", db)
    finally:
        pg("pg_ctl", "-D", str(base / "data"), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def school(postgres, tmp_path_factory):
    """A course whose gradebook is in PostgreSQL, set by the school's Jupyter config; four learners collected."""
    url_of, createdb = postgres
    assert createdb("qicourse").returncode == 0
    root = tmp_path_factory.mktemp("school")
    etc = root / "etc-jupyter"
    etc.mkdir()
    db_url = url_of.format(db="qicourse")
    (etc / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {db_url!r}\n")
    env = {"JUPYTER_CONFIG_PATH": str(etc), "JUPYTER_CONFIG_DIR": str(root / "user-jupyter"),
           "QICOURSE_DATA": str(FX / "datasets")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        (root / "students.csv").write_text("id,first_name,last_name,email\n" + "".join(
            f"{s},{s.title()},Learner,{s}@example.ac.uk\n" for s in LEARNERS))
        course_dir = root / "course"
        release(course_dir=course_dir, solutions_dir=FX / "solutions", exercises_dir=root / "ex")
        course = setup_course(course_dir=course_dir, solutions_dir=FX / "solutions", students=root / "students.csv")
        src_nb = nbformat.read(SRC, as_version=4)
        rel_nb = nbformat.read(course_dir / "release" / "fx_ward" / "fx_ward.ipynb", as_version=4)
        for student, keep in LEARNERS.items():
            (root / "subs" / student / "fx_ward").mkdir(parents=True)
            nbformat.write(solved(src_nb, rel_nb, keep=keep), str(root / "subs" / student / "fx_ward" / "fx_ward.ipynb"))
        collect("fx_ward", root / "subs", course_dir=course_dir)
        yield {"course": course, "root": root, "db_url": db_url, "env": env, "url_of": url_of}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _scores(course) -> dict[str, float]:
    with course.gradebook() as gb:
        return {s.student.id: sum(g.auto_score or 0 for nb in s.notebooks for g in nb.grades if g.name != "writeup_aim")
                for s in gb.assignment_submissions("fx_ward")}


def test_two_graders_at_once_and_every_step_on_postgresql(school, capsys):
    """Do two `grade` runs on disjoint learners, started together, both land in PostgreSQL, and do
    feedback, export and report work from it, with no SQLite gradebook appearing?"""
    course = school["course"]
    assert course.db_url == school["db_url"]
    cmd = [sys.executable, "-m", "qicourse", "grade", "fx_ward", "--workers", "1", "--course-dir", str(course.root)]
    halves = (["ada", "mary"], ["john", "edith"])
    procs = [subprocess.Popen(cmd + [a for s in half for a in ("--student", s)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, **school["env"]}) for half in halves]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "2 ok" in out, (out, err)
    assert _scores(course) == EXPECTED_AUTO
    assert main(["feedback", "fx_ward", "--workers", "1", "--course-dir", str(course.root)]) == 0
    for student in LEARNERS:
        assert list((course.root / "feedback" / student / "fx_ward").glob("*.html")), student
    out_dir = school["root"] / "exports"
    assert main(["export", "fx_ward", "--course-dir", str(course.root), "--out", str(out_dir)]) == 0
    scores_csv = next(out_dir.glob("*scores*.csv")).read_text()
    for student in LEARNERS:
        assert student in scores_csv
    assert main(["report", "fx_ward", "--course-dir", str(course.root), "--out", str(school["root"] / "reports")]) == 0
    assert list((school["root"] / "reports").glob("*.html"))
    assert not (course.root / "gradebook.db").exists()
    capsys.readouterr()


def test_a_missing_postgresql_database_is_one_clear_line(school, tmp_path, monkeypatch):
    """Is a gradebook URL naming no database reported in one line (not a traceback), and is nothing created?"""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = {school['url_of'].format(db='no_such_db')!r}\n")
    env = {**os.environ, **school["env"], "JUPYTER_CONFIG_PATH": str(etc)}
    done = subprocess.run([sys.executable, "-m", "qicourse", "export", "fx_ward", "--course-dir",
                           str(school["course"].root), "--out", str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=120)
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert done.returncode != 0 and len(lines) == 1, done.stderr
    assert "no_such_db" in lines[0] and "does not exist" in lines[0], lines
    assert not list(tmp_path.glob("*.csv"))
