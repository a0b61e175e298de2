"""A school's course: the educator's own nbgrader settings win over `setup`'s defaults, and the
course directory holds no absolute path (it can move). Real nbgrader reads the same settings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qicourse.grading import open_course, setup_course
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
    assert Course(course.root).config().CollectLimits.max_notebook_bytes == 20 * 2**20  # the settings were loaded
