"""The nbgrader course directory: set-up from `solutions/`, student list, release to `exercises/`.

We keep nbgrader's own layout (`source/`, `release/`, `submitted/`, `autograded/`, `feedback/`,
`gradebook.db`) so formgrader shows everything we do.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from qicourse.grading.safeio import write_text
from qicourse.paths import repo_root, workspace

DEFAULT_COURSE_ID = "qicourse"
"""the course id `setup` fills in when neither the course settings nor Jupyter's config folders set one"""
SETTINGS_COPY = "grader_config.py"
"""the course settings (`grader/nbgrader_config.py`) as copied into the course directory by `setup`"""

# nbgrader's Gradebook runs the `alembic` command: make the running environment's scripts findable
# even when the venv is not activated (e.g. `/path/to/venv/bin/qicourse`).
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")
_NOTEBOOK_KEYS_DROPPED = ("widgets",)
# A student id names folders (`submitted/<id>/`), so it must be one safe path component: the
# characters nbgrader's own examples use, and never `.` or `..`.
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")
_SQLITE_HEADER = b"SQLite format 3\x00"  # https://www.sqlite.org/fileformat.html#the_database_header


def student_id_problem(sid: str) -> str | None:
    """Why `sid` cannot be a student id (it would not be one safe folder name), or None if it can."""
    if not _SAFE_ID.fullmatch(sid):
        return f"student id {sid!r} may only contain letters, digits, '.', '_' and '-'"
    if sid in (".", ".."):
        return f"student id {sid!r} is not allowed (it names a folder's parent or itself)"
    return None


class GradebookError(ValueError):
    """The course's SQLite gradebook is missing, empty or not an SQLite database: never replaced silently."""


def default_course_dir() -> Path:
    """`coursedir/` in the checkout or `qicourse init` folder (git-ignored), else in the working directory."""
    return workspace() / "coursedir"


def default_solutions_dir() -> Path:
    return repo_root() / "solutions"


def default_exercises_dir() -> Path:
    return workspace() / "exercises"


def default_config_file() -> Path:
    return repo_root() / "grader" / "nbgrader_config.py"


def load_config(files: list[Path]):
    """nbgrader's configuration as its apps resolve it: the files in Jupyter's config folders
    (`jupyter --paths`: system, environment, user; the user's win), then `files` in order, the last winning.
    Source: nbgrader.apps.baseapp.NbGrader.load_config_file and jupyter_core.application."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    cfg = Config()
    for folder in reversed(jupyter_config_path()):
        for loader in (JSONFileConfigLoader, PyFileConfigLoader):
            name = "nbgrader_config" + (".json" if loader is JSONFileConfigLoader else ".py")
            if os.path.isfile(os.path.join(folder, name)):
                cfg.merge(loader(name, path=folder).load_config())
    for f in files:
        cfg.merge(PyFileConfigLoader(f.name, path=str(f.parent)).load_config())
    return cfg


def sqlite_file(db_url: str) -> Path | None:
    """The file an `sqlite:///` gradebook URL names; None for any other database (e.g. PostgreSQL)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def check_sqlite_gradebook(db_url: str, *, may_be_new: bool = False) -> None:
    """Refuse a missing, empty or damaged SQLite gradebook: SQLite would silently start an empty one
    in its place (and collect would then accept anyone). Only `setup` may create it. Other databases
    (PostgreSQL) report their own errors when connected to."""
    db = sqlite_file(db_url)
    if db is None:
        return
    if not db.exists():
        if may_be_new:
            return
        raise GradebookError(f"no gradebook at {db}: run `qicourse setup` (or restore it from a backup)")
    if not db.is_file():
        raise GradebookError(f"{db} is not a file")
    with db.open("rb") as fh:
        head = fh.read(len(_SQLITE_HEADER))
    if not head:
        raise GradebookError(f"the gradebook {db} is empty (0 bytes): restore it from a backup, "
                             "or delete it and run `qicourse setup` to start a new one")
    if head != _SQLITE_HEADER:
        raise GradebookError(f"the gradebook {db} is damaged (not an SQLite database): restore it from a backup")


@dataclass
class Course:
    """Paths of one nbgrader course directory, and nbgrader's configuration for it."""

    root: Path
    """the course directory (holds nbgrader_config.py and gradebook.db)"""

    @property
    def db_url(self) -> str:
        """The gradebook as nbgrader resolves it: the configured `db_url`, else `gradebook.db` here."""
        return self.config().CourseDirectory.get("db_url") or f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def course_id(self) -> str:
        course_id = str(self.config().CourseDirectory.get("course_id") or "").strip()
        if not course_id:
            raise ValueError(f"no course id in {self.root / 'nbgrader_config.py'}: run `qicourse setup`")
        return course_id

    @property
    def exchange(self) -> Path:
        """nbgrader's exchange folder for this course (its default when nothing sets one)."""
        from nbgrader.exchange.default.exchange import Exchange

        return Path(self.config().Exchange.get("root") or Exchange.root.default_value)

    @property
    def qicourse_dir(self) -> Path:
        """Where our own per-submission results (status, reasons) live, beside nbgrader's."""
        return self.root / "qicourse"

    def path(self, step: str, student: str = ".", assignment: str = ".") -> Path:
        return self.root / step / student / assignment

    def source_notebook(self, assignment: str) -> Path:
        found = sorted(self.path("source", assignment=assignment).glob("*.ipynb"))
        if not found:
            raise FileNotFoundError(f"No source notebook for assignment {assignment!r} in {self.root}/source")
        return found[0]

    def release_notebook(self, assignment: str) -> Path:
        return self.path("release", assignment=assignment) / self.source_notebook(assignment).name

    def assignments(self) -> list[str]:
        src = self.root / "source"
        return sorted(p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if src.is_dir() else []

    def config(self):
        """nbgrader's traitlets Config as `nbgrader` itself would load it in the course directory."""
        cfg = load_config([self.root / "nbgrader_config.py"])
        cfg.CourseDirectory.root = str(self.root)
        return cfg

    def coursedir(self):
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config())

    def api(self):
        from nbgrader.apps import NbGraderAPI

        cfg = self.config()
        # nbgrader's apps log to stderr at INFO; keep our CLI output readable.
        cfg.Application.log_level = logging.WARNING
        return NbGraderAPI(coursedir=self.coursedir(), config=cfg)

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.course_id)

    def check_gradebook(self, *, may_be_new: bool = False) -> None:
        """Refuse a missing, empty or damaged SQLite gradebook (see `check_sqlite_gradebook`)."""
        check_sqlite_gradebook(self.db_url, may_be_new=may_be_new)


def open_course(course_dir: str | Path | None = None) -> Course:
    """An existing course directory (made by `setup_course`)."""
    root = Path(course_dir) if course_dir else default_course_dir()
    if not (root / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"{root} is not a qicourse course directory: run `qicourse setup` first")
    course = Course(root.resolve())
    course.check_gradebook()
    return course


def read_students(csv_path: str | Path) -> list[dict]:
    """Student list CSV: id, first_name, last_name, email (optional lms_id, the LMS's user id)."""
    path = Path(csv_path)
    if not path.is_file():
        raise FileNotFoundError(f"Student list {path} not found")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if rows and "id" not in rows[0]:
        raise ValueError(f"{path}: the student list needs columns id, first_name, last_name, email")
    students, seen = [], set()
    for i, row in enumerate(rows, start=2):
        sid = (row.get("id") or "").strip()
        if not sid:
            raise ValueError(f"{path} line {i}: empty student id")
        problem = student_id_problem(sid)
        if problem:
            raise ValueError(f"{path} line {i}: {problem}")
        if sid in seen:
            raise ValueError(f"{path} line {i}: duplicate student id {sid!r}")
        seen.add(sid)
        students.append({
            "id": sid,
            "first_name": (row.get("first_name") or "").strip() or None,
            "last_name": (row.get("last_name") or "").strip() or None,
            "email": (row.get("email") or "").strip() or None,
            "lms_user_id": (row.get("lms_id") or row.get("lms_user_id") or "").strip() or None,
        })
    return students


def setup_course(*, course_dir: str | Path | None = None, solutions_dir: str | Path | None = None,
                 config_file: str | Path | None = None, students: str | Path | None = None,
                 own_paths: bool = False) -> Course:
    """Create or refresh an nbgrader course directory from `solutions/` and `grader/nbgrader_config.py`.

    The course settings are copied in (`grader_config.py`) and loaded by a generated
    `nbgrader_config.py` that fills in only what neither they nor Jupyter's config folders set (a
    school's `/etc/jupyter/nbgrader_config.py` with a shared exchange and a PostgreSQL `db_url`
    wins): an exchange and an SQLite gradebook inside this folder, and the course id. Paths in it
    are relative to the folder, so it can move. `own_paths` always gives the course its own exchange
    and gradebook (a learner's throwaway `check` course). Source notebooks are copied, never edited.
    Re-run after changing any of those settings.
    """
    root = Path(course_dir) if course_dir else default_course_dir()
    solutions = Path(solutions_dir) if solutions_dir else default_solutions_dir()
    config_path = Path(config_file) if config_file else default_config_file()
    if not config_path.is_file():
        raise FileNotFoundError(f"nbgrader config {config_path} not found")
    if not solutions.is_dir():
        raise FileNotFoundError(f"Solutions folder {solutions} not found")
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    educator = load_config([config_path.resolve()])
    fill = []  # (setting, Python expression, value as seen now)
    if own_paths or "root" not in educator.Exchange:
        fill.append(("c.Exchange.root", 'os.path.join(_here, "exchange")', root / "exchange"))
    if own_paths or not educator.CourseDirectory.get("db_url"):
        fill.append(("c.CourseDirectory.db_url", '"sqlite:///" + os.path.join(_here, "gradebook.db")',
                     f"sqlite:///{root / 'gradebook.db'}"))
    if not str(educator.CourseDirectory.get("course_id") or "").strip():
        fill.append(("c.CourseDirectory.course_id", repr(DEFAULT_COURSE_ID), DEFAULT_COURSE_ID))
    values = {name: value for name, _, value in fill}
    check_sqlite_gradebook(values.get("c.CourseDirectory.db_url") or educator.CourseDirectory.db_url, may_be_new=True)
    roster = read_students(students) if students else []  # a bad roster changes nothing
    if "c.Exchange.root" in values:
        (root / "exchange").mkdir(exist_ok=True)
    write_text(root / SETTINGS_COPY, config_path.read_text(encoding="utf-8"))
    write_text(root / "nbgrader_config.py", "".join([
        "# Written by `qicourse setup`: the course settings (grader_config.py, a copy of grader/nbgrader_config.py),\n"
        "# then only what neither they nor Jupyter's config folders (`jupyter --paths`) set. Paths are\n"
        "# relative to this folder. Re-run `qicourse setup` after changing any of those settings.\n",
        "import os\n\n",
        "c = get_config()  # noqa: F821\n",
        f"load_subconfig({SETTINGS_COPY!r})  # noqa: F821\n",
        "_here = os.path.dirname(os.path.abspath(__file__))\n",
        "c.CourseDirectory.root = _here\n",
        *(f"{name} = {expr}\n" for name, expr, _ in fill),
    ]))
    # Refresh sources: each assignment folder mirrors solutions/<assignment>/ (notebooks only).
    for folder in sorted(p for p in solutions.iterdir() if p.is_dir()):
        notebooks = sorted(folder.glob("*.ipynb"))
        if not notebooks:
            continue
        dest = root / "source" / folder.name
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for nb in notebooks:
            shutil.copy2(nb, dest / nb.name)
    course = Course(root)
    with course.gradebook() as gb:
        for s in roster:
            sid = s.pop("id")
            gb.update_or_create_student(sid, **s)
    return course


def _normalise_release(path: Path) -> None:
    """Make a generated student notebook byte-stable: no outputs, counts, or run-dependent metadata."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
    for key in _NOTEBOOK_KEYS_DROPPED:
        nb.metadata.pop(key, None)
    nbformat.write(nb, str(path))


def release(assignments: list[str] | None = None, *, course_dir: str | Path | None = None,
            solutions_dir: str | Path | None = None, exercises_dir: str | Path | None = None,
            config_file: str | Path | None = None, own_paths: bool = False) -> dict[str, list[Path]]:
    """Generate the student versions (nbgrader generate_assignment) into the course's `release/` and `exercises/`.

    Sets the course directory up (or refreshes it) first (`own_paths`: see `setup_course`). Returns the exercise files per assignment.
    """
    course = setup_course(course_dir=course_dir, solutions_dir=solutions_dir, config_file=config_file, own_paths=own_paths)
    exercises = Path(exercises_dir) if exercises_dir else default_exercises_dir()
    available = course.assignments()
    wanted = list(assignments) if assignments else available
    unknown = [a for a in wanted if a not in available]
    if unknown:
        raise ValueError(f"Unknown assignment(s) {', '.join(unknown)}; available: {', '.join(available) or 'none'}")
    api = course.api()
    out: dict[str, list[Path]] = {}
    for assignment in wanted:
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise ValueError(f"nbgrader generate_assignment failed for {assignment}:\n{result['log']}{result.get('error', '')}")
        rel = course.path("release", assignment=assignment)
        dest = exercises / assignment
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        files = []
        for nb in sorted(rel.glob("*.ipynb")):
            _normalise_release(nb)
            shutil.copy2(nb, dest / nb.name)
            files.append(dest / nb.name)
        out[assignment] = files
    return out


def ensure_released(course: Course, assignment: str) -> None:
    """Grading needs the assignment in the gradebook; generate it if it never was."""
    if not course.release_notebook(assignment).is_file():
        result = course.api().generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise ValueError(f"nbgrader generate_assignment failed for {assignment}:\n{result['log']}")
        for nb in course.path("release", assignment=assignment).glob("*.ipynb"):
            _normalise_release(nb)


