"""`qicourse check`: a learner grades their own notebook on the educator's code path.

A throwaway course directory is built from `solutions/` in a temporary folder, the notebook is
submitted to it and graded by `grade()` exactly as a cohort would be. The learner sees each
question's score and the messages of failed hidden tests, never the test code.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from qicourse.grading.course import default_solutions_dir, release, setup_course


@dataclass
class QuestionResult:
    grade_id: str
    score: float | None
    max_score: float
    passed: bool | None
    """None for write-ups, which a person confirms"""
    message: str = ""


@dataclass
class CheckResult:
    assignment: str
    notebook: str
    score: float | None
    max_score: float
    status: str
    """"ok" or the reason(s) grading did not go cleanly"""
    questions: list[QuestionResult] = field(default_factory=list)
    writeups: dict = field(default_factory=dict)

    @property
    def all_passed(self) -> bool:
        return self.status == "ok" and all(q.passed is not False for q in self.questions)

    def to_text(self) -> str:
        lines = [f"{self.assignment} ({self.notebook}): {_fmt(self.score)}/{self.max_score:g} automatically graded points"
                 f"{' + write-ups marked provisionally' if self.writeups else ''}"]
        if self.status != "ok":
            lines.append(f"status: {self.status}")
        for q in self.questions:
            mark = {True: "PASS", False: "FAIL", None: "TO CONFIRM"}[q.passed]
            lines.append(f"  [{mark:10}] {q.grade_id}: {_fmt(q.score)}/{q.max_score:g}")
            for msg_line in q.message.splitlines():
                lines.append(f"               {msg_line}")
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = "".join(
            f"<tr class='{ {True: 'pass', False: 'fail', None: 'confirm'}[q.passed]}'><td>{html.escape(q.grade_id)}</td>"
            f"<td>{_fmt(q.score)}/{q.max_score:g}</td><td>{'pass' if q.passed else 'fail' if q.passed is False else 'to be confirmed'}</td>"
            f"<td><pre>{html.escape(q.message)}</pre></td></tr>" for q in self.questions)
        from qicourse.grading.writeups import writeups_html

        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.assignment)}: your results</title>"
                "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
                "table{border-collapse:collapse}.pass{background:#e6f4ea}.fail{background:#fce8e6}.confirm{background:#fff8e1}</style></head><body>"
                f"<h1>{html.escape(self.assignment)}: {_fmt(self.score)}/{self.max_score:g}</h1>"
                f"<p>Status: {html.escape(self.status)}</p><table><tr><th>question</th><th>score</th><th>result</th><th>message</th></tr>{rows}</table>"
                f"{writeups_html(self.writeups)}</body></html>")


def _fmt(x) -> str:
    return "-" if x is None else f"{x:g}"


def infer_assignment(path: Path, solutions: Path) -> str:
    """From the folder name (exercises/<assignment>/...), the file name, or the graded cells it has."""
    available = sorted(p.name for p in solutions.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    for name in (path.parent.name, path.stem):
        if name in available:
            return name
    try:
        ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nbformat.read(path, as_version=4).cells} - {None}
    except Exception:
        ids = set()
    for a in available:
        src = nbformat.read(sorted((solutions / a).glob("*.ipynb"))[0], as_version=4)
        if ids & {c.metadata.get("nbgrader", {}).get("grade_id") for c in src.cells}:
            return a
    raise ValueError(f"Cannot tell which assignment {path} belongs to; pass assignment= (one of {', '.join(available)})")


def _first_error(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            if out["ename"] == "AssertionError":
                return f"AssertionError: {out['evalue']}" if out["evalue"] else "AssertionError: a hidden test failed"
            if out["ename"] == "NotImplementedError" and not out["evalue"]:
                return "NotImplementedError: this answer has not been written yet"
            return f"{out['ename']}: {out['evalue']}"
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return "the test printed an error or warning: " + out["text"].strip().splitlines()[-1][:200]
    return ""


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qicourse" / "check"


def _released_course(solutions: Path, assignment: str, course_dir: Path) -> None:
    """A course directory with `assignment` released, copied from a cache keyed on the source notebook.

    nbgrader's generate_assignment costs seconds; a learner checks the same assignment many times.
    """
    from qicourse.grading.course import default_config_file

    digest = hashlib.sha256()
    for nb in sorted((solutions / assignment).glob("*.ipynb")):
        digest.update(nb.name.encode() + nb.read_bytes())
    digest.update(default_config_file().read_bytes())
    cached = _cache_root() / f"{assignment}-{digest.hexdigest()[:16]}"
    if not (cached / "gradebook.db").is_file():
        build = Path(tempfile.mkdtemp(prefix="build-", dir=_ensure(_cache_root())))
        release([assignment], course_dir=build, solutions_dir=solutions, exercises_dir=build / "exercises",
                own_paths=True)  # never the school's shared exchange or gradebook
        try:
            build.rename(cached)
        except OSError:  # another check built it meanwhile
            shutil.rmtree(build, ignore_errors=True)
    shutil.copytree(cached, course_dir, ignore=shutil.ignore_patterns("exercises"))
    setup_course(course_dir=course_dir, solutions_dir=solutions, own_paths=True)


def _ensure(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def check_notebook(path: str | Path, assignment: str | None = None, *, solutions_dir: str | Path | None = None,
                   datasets_dir: str | Path | None = None, rubric_lookup=None, use_bwrap: bool = True) -> CheckResult:
    """Grade one notebook like the educator's `grade` would and explain the result to the learner."""
    from qicourse.grading.autograde import grade

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No notebook at {path}")
    solutions = Path(solutions_dir) if solutions_dir else default_solutions_dir()
    assignment = assignment or infer_assignment(path, solutions)
    tmp = Path(tempfile.mkdtemp(prefix="qicourse-check-"))
    try:
        only = tmp / "solutions"
        (only / assignment).mkdir(parents=True)
        for nb in (solutions / assignment).glob("*.ipynb"):
            shutil.copy2(nb, only / assignment / nb.name)
        course_dir = tmp / "course"
        _released_course(only, assignment, course_dir)
        nb_name = next((solutions / assignment).glob("*.ipynb")).name
        dest = course_dir / "submitted" / "learner" / assignment
        dest.mkdir(parents=True)
        shutil.copy2(path, dest / nb_name)
        run = grade(assignment, course_dir=course_dir, workers=1, progress=False, datasets_dir=datasets_dir,
                    rubric_lookup=rubric_lookup, use_bwrap=use_bwrap, hidden=[solutions],
                    allow_no_sandbox=True)  # the learner's own code on their own machine
        res = run.results[0]
        graded_nb = course_dir / "autograded" / "learner" / assignment / nb_name
        cells = {}
        if graded_nb.is_file():
            for c in nbformat.read(graded_nb, as_version=4).cells:
                gid = c.metadata.get("nbgrader", {}).get("grade_id")
                if gid:
                    cells[gid] = c
        from qicourse.grading.course import open_course
        from qicourse.grading.writeups import load_writeups

        writeups = load_writeups(open_course(course_dir), assignment, "learner")
        questions, written = [], set()
        for q in res.questions:
            if q["cell_type"] == "markdown" or q["needs_manual_grade"]:
                written.add(q["grade_id"])
                rec = writeups.get(q["grade_id"])
                if rec:
                    questions.append(QuestionResult(q["grade_id"], rec["points"], q["max_score"], None, rec["markdown"]))
                elif not q["needs_manual_grade"]:  # nbgrader's own zero for an answer left as released
                    questions.append(QuestionResult(q["grade_id"], q["score"], q["max_score"], False,
                                                    "no answer written yet"))
                else:
                    questions.append(QuestionResult(q["grade_id"], None, q["max_score"], None, "marked by your educator"))
                continue
            passed = q["score"] is not None and q["score"] >= q["max_score"]
            msg = "" if passed else (_first_error(cells.get(q["grade_id"], {})) or "no marks for this question")
            questions.append(QuestionResult(q["grade_id"], q["score"], q["max_score"], passed, msg))
        auto = [q for q in questions if q.grade_id not in written]
        auto_total = sum(q.score or 0 for q in auto)
        auto_max = sum(q.max_score for q in auto)
        status = "ok" if res.status == "ok" else f"{res.status}: {'; '.join(res.reasons)}"
        return CheckResult(assignment, nb_name, auto_total if res.status != "error" else None,
                           auto_max if questions else res.max_score, status, questions, writeups)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
