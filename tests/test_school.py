"""A school's course: the educator's own nbgrader settings win over `setup`'s defaults, and the
course directory holds no absolute path (it can move). Real nbgrader reads the same settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from qicourse.grading import feedback, grade, open_course, release, setup_course
from qicourse.grading.cohort import solved
from qicourse.grading.course import DEFAULT_COURSE_ID, Course, load_config

pytestmark = pytest.mark.pipeline
FX = Path(__file__).parent / "fixtures" / "grading"
REPO = Path(__file__).resolve().parent.parent
ROSTER = "id,first_name,last_name,email\nada,Ada,Lovelace,ada@example.ac.uk\nmary,Mary,Seacole,mary@example.ac.uk\n"


@pytest.fixture
def jupyter_config(tmp_path, monkeypatch) -> Path:
    """An empty system-wide Jupyter config folder (like a hub's /etc/jupyter), and no user config."""
    etc = tmp_path / "etc-jupyter"
    etc.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(etc))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "user-jupyter"))
    return etc


def test_setup_fills_in_only_what_the_school_left_unset(tmp_path, jupyter_config):
    """Do a school's shared exchange, gradebook URL and course id (system config) survive `setup`?"""
    shared, db = tmp_path / "srv" / "exchange", tmp_path / "srv" / "gradebook.sqlite"
    shared.mkdir(parents=True)
    (jupyter_config / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.Exchange.root = {str(shared)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(db)!r}\n"
        "c.CourseDirectory.course_id = 'qi-fy1-2027'\n")
    (tmp_path / "students.csv").write_text(ROSTER)
    course = setup_course(course_dir=tmp_path / "course", solutions_dir=FX / "solutions", students=tmp_path / "students.csv")
    assert (course.exchange, course.db_url, course.course_id) == (shared, f"sqlite:///{db}", "qi-fy1-2027")
    assert db.is_file() and not (course.root / "gradebook.db").exists() and not (course.root / "exchange").exists()
    with course.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == ["ada", "mary"]
    # nbgrader's own command, run in the course directory, resolves the same gradebook
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "db", "student", "list"], cwd=course.root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ada (Lovelace, Ada)" in done.stdout and "mary (Seacole, Mary)" in done.stdout, done.stdout
    # a learner's throwaway `check` course keeps its own exchange and gradebook whatever the hub says
    own = setup_course(course_dir=tmp_path / "check", solutions_dir=FX / "solutions", own_paths=True)
    assert own.exchange == own.root / "exchange" and own.db_url == f"sqlite:///{own.root / 'gradebook.db'}"
    assert (own.root / "gradebook.db").is_file()


def test_setup_defaults_are_relative_so_the_course_can_move(tmp_path, jupyter_config):
    """With nothing set, is the course self-contained (own exchange, SQLite gradebook, one course id),
    with no absolute path of the checkout or of itself, and does it still work after a move?"""
    (tmp_path / "students.csv").write_text(ROSTER)
    course = setup_course(course_dir=tmp_path / "course", solutions_dir=FX / "solutions", students=tmp_path / "students.csv")
    assert course.exchange == course.root / "exchange" and course.exchange.is_dir()
    assert course.db_url == f"sqlite:///{course.root / 'gradebook.db'}"
    assert course.course_id == DEFAULT_COURSE_ID
    generated = (course.root / "nbgrader_config.py").read_text()
    assert str(REPO) not in generated and str(tmp_path) not in generated, generated
    shipped = load_config([REPO / "grader" / "nbgrader_config.py"])
    assert "course_id" not in shipped.CourseDirectory  # stated once: the default setup fills in
    moved = tmp_path / "elsewhere" / "course"
    moved.parent.mkdir()
    shutil.move(course.root, moved)
    again = open_course(moved)
    assert again.db_url == f"sqlite:///{moved / 'gradebook.db'}" and again.exchange == moved / "exchange"
    with again.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == ["ada", "mary"]


def test_educator_settings_in_the_course_config_win_too(tmp_path, jupyter_config):
    """Does a course id and exchange set in the course settings file itself survive, with the rest filled in?"""
    settings = tmp_path / "nbgrader_config.py"
    settings.write_text((REPO / "grader" / "nbgrader_config.py").read_text()
                        + f"c.CourseDirectory.course_id = 'qi-nursing'\nc.Exchange.root = {str(tmp_path / 'ex')!r}\n")
    course = setup_course(course_dir=tmp_path / "course", solutions_dir=FX / "solutions", config_file=settings)
    assert (course.course_id, course.exchange) == ("qi-nursing", tmp_path / "ex")
    assert course.db_url == f"sqlite:///{course.root / 'gradebook.db'}"
    # with no exchange set anywhere, the course's is nbgrader's own default, as nbgrader would use
    generated = course.root / "nbgrader_config.py"
    generated.write_text(generated.read_text().replace("c.Exchange.root", "_unused"))
    settings.write_text(settings.read_text().replace("c.Exchange.root", "_unused"))
    (course.root / "grader_config.py").write_text(settings.read_text())
    assert Course(course.root).exchange == Path("/usr/local/share/nbgrader/exchange")
    assert Course(course.root).config().CollectLimits.max_notebook_bytes == 20 * 2**20  # the settings were loaded


def _nbgrader(args: list[str], cwd: Path, user: str | None = None) -> subprocess.CompletedProcess:
    """nbgrader's own command; for learner `user`, from their own home folder and under their id. The
    tests run under one Unix account, so the id is given as nbgrader's `--student` (on a hub, each
    learner's account name)."""
    env = dict(os.environ)
    if user:
        env["HOME"] = str(cwd)
        if args[0] in ("submit", "fetch_feedback"):
            args = [*args, "--student", user]
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, (args, user, done.stderr[-2000:])
    return done


def test_a_cohort_through_a_shared_exchange(tmp_path, jupyter_config):
    """The school's flow with real nbgrader: the educator releases through the shared exchange, each learner
    fetches and submits from their own home folder, the educator collects, grades and returns feedback with
    qicourse, and each learner fetches their own feedback."""
    shared = tmp_path / "srv" / "exchange"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    (jupyter_config / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(shared)!r}\nc.CourseDirectory.course_id = 'qi-school'\n")
    (tmp_path / "students.csv").write_text(ROSTER)
    release(course_dir=tmp_path / "course", solutions_dir=FX / "solutions", exercises_dir=tmp_path / "ex")
    course = setup_course(course_dir=tmp_path / "course", solutions_dir=FX / "solutions", students=tmp_path / "students.csv")
    _nbgrader(["release_assignment", "fx_ward"], course.root)
    src_nb = nbformat.read(FX / "solutions" / "fx_ward" / "fx_ward.ipynb", as_version=4)
    answered = {"ada": None, "mary": {"falls_rate"}}  # ada answers everything, mary one question (2 points)
    for learner, keep in answered.items():
        home = tmp_path / "home" / learner
        home.mkdir(parents=True)
        _nbgrader(["fetch_assignment", "fx_ward", "--course", "qi-school"], home, learner)
        mine = home / "fx_ward" / "fx_ward.ipynb"
        nbformat.write(solved(src_nb, nbformat.read(mine, as_version=4), keep=keep), str(mine))
        _nbgrader(["submit", "fx_ward", "--course", "qi-school"], home, learner)
    _nbgrader(["collect", "fx_ward"], course.root)
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == ["ada", "mary"]
    run = grade("fx_ward", course_dir=course.root, workers=1, datasets_dir=FX / "datasets", progress=False,
                mark_writeups=False)
    auto = {r.student: sum(q["score"] or 0 for q in r.questions if q["grade_id"] != "writeup_aim") for r in run.results}
    assert auto == {"ada": 5, "mary": 2}, [(r.student, r.status, r.reasons) for r in run.results]
    feedback("fx_ward", course_dir=course.root, workers=1)
    _nbgrader(["release_feedback", "fx_ward"], course.root)
    for learner in answered:
        home = tmp_path / "home" / learner
        _nbgrader(["fetch_feedback", "fx_ward", "--course", "qi-school"], home, learner)
        pages = list((home / "fx_ward" / "feedback").glob("*/fx_ward.html"))
        assert len(pages) == 1, learner
        # exactly the page written for this learner (their own score and rubric table), nobody else's
        assert pages[0].read_bytes() == (course.root / "feedback" / learner / "fx_ward" / "fx_ward.html").read_bytes()
    ada_page, mary_page = ((course.root / "feedback" / s / "fx_ward" / "fx_ward.html").read_text() for s in answered)
    assert ada_page != mary_page
