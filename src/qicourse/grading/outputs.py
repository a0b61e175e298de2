"""Feedback HTML per learner and exports (scores per question with status; Moodle/Canvas grade files).

Scores come from nbgrader's gradebook, status from our per-submission results: a submission we
could not grade shows an empty score and the reason, never a plain zero.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import warnings
from pathlib import Path

import yaml

from qicourse.grading.autograde import Progress, load_results
from qicourse.grading.course import open_course
from qicourse.grading.kernel_fallback import can_fork
from qicourse.grading.safeio import atomic_open, write_text
from qicourse.paths import repo_root
from qicourse.grading.writeups import confirmed_scores, load_writeups, writeups_html


class FeedbackFiles(list):
    """The feedback pages written (a list of paths), with `failures`: {student: why not} for learners without one."""

    def __init__(self, files=(), failures=None):
        super().__init__(files)
        self.failures: dict[str, str] = failures or {}


def feedback(assignment: str, *, course_dir: str | Path | None = None, workers: int | None = None,
             progress: bool = True, stream=None) -> FeedbackFiles:
    """nbgrader's generate_feedback (the graded notebook, with our grading note) plus rubric feedback.

    Learners are shared out between `workers` processes (default: number of cores), each with one
    nbgrader converter that renders its learners one at a time; feedback only reads the gradebook,
    so the processes never write to it. A learner whose page fails is reported in `failures` (and
    the progress line) and the others carry on.
    """
    course = open_course(course_dir)
    students = sorted(p.parent.name for p in (course.root / "autograded").glob(f"*/{assignment}")
                      if any(p.glob("*.ipynb")))
    if not students:
        raise ValueError(f"No graded submissions of {assignment} in {course.root / 'autograded'}: run `qicourse grade` first")
    job = (str(course.root), assignment, confirmed_scores(course, assignment))
    n = max(1, min(workers or os.cpu_count() or 1, len(students)))
    bar = Progress(len(students), stream=stream, label="feedback") if progress else None
    done: dict[str, str | None] = {}

    def record(student: str, error: str | None) -> None:
        done[student] = error
        if bar:
            bar.update(error is not None)

    if n == 1:
        _feedback_init(*job)
        for student in students:
            record(*_feedback_one(student))
    else:
        ctx = multiprocessing.get_context("fork" if can_fork() else "spawn")
        with ctx.Pool(n, initializer=_feedback_init, initargs=job) as pool:
            for student, error in pool.imap_unordered(_feedback_one, students):
                record(student, error)
    files = [path for s in students if done[s] is None
             for path in sorted((course.root / "feedback" / s / assignment).glob("*.html"))]
    return FeedbackFiles(files, {s: e for s, e in done.items() if e is not None})


_worker: dict = {}


def _feedback_init(course_dir: str, assignment: str, confirmed: dict) -> None:
    """One nbgrader feedback converter per process, configured as `NbGraderAPI.generate_feedback` does."""
    from nbconvert.writers import FilesWriter
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import ClearHiddenTests
    from traitlets.config import Config

    class KeptExporter(GenerateFeedback):
        """nbgrader's `start`, but the HTML exporter is made once: a fresh one per learner recompiles
        its Jinja templates (measured: a quarter of the time). Whole-assignment runs share one too."""

        kept = None

        def start(self) -> None:
            self.init_notebooks()
            if self.kept is None:
                exporter = self.exporter_class(parent=self, config=self.config)
                # hidden tests stay hidden after the first cohort (nbgrader shows them: jupyter/nbgrader#917)
                exporter.register_preprocessor(ClearHiddenTests(parent=self, config=self.config))
                for pp in self.preprocessors:
                    exporter.register_preprocessor(pp)
                self.kept = (FilesWriter(parent=self, config=self.config), exporter)
            self.writer, self.exporter = self.kept
            cwd = os.getcwd()
            os.chdir(self.coursedir.root)
            try:
                self.convert_notebooks()
            finally:
                os.chdir(cwd)

    warnings.filterwarnings("ignore", message=".*not in session.*")  # sqlalchemy 2.1 vs nbgrader 0.9, harmless
    course = open_course(course_dir)
    api = course.api()
    api.coursedir.assignment_id = assignment
    cfg = Config()
    cfg.HTMLExporter.template_name = "feedback"
    app = KeptExporter(coursedir=api.coursedir, parent=api)
    app.update_config(cfg)
    app.force = True
    _worker.update(course=course, assignment=assignment, confirmed=confirmed, app=app)


def _feedback_one(student: str) -> tuple[str, str | None]:
    """Render one learner's feedback and add the rubric tables; (student, None) or (student, why it failed)."""
    from nbgrader.utils import capture_log

    course, assignment, app = _worker["course"], _worker["assignment"], _worker["app"]
    app.coursedir.student_id = student
    dest = course.root / "feedback" / student / assignment
    # nbgrader deletes and rewrites the learner's feedback folder: keep the previous pages aside until
    # the new ones are complete, so a failure (a full disk, say) never leaves a truncated page behind.
    previous = dest.with_name(f".{assignment}.previous")
    if previous.exists():
        shutil.rmtree(previous)
    if dest.exists():
        dest.rename(previous)
    error = None
    result = capture_log(app)
    if not result["success"]:
        error = f"nbgrader generate_feedback failed: {_cause(result)}"
    else:
        try:
            wu = load_writeups(course, assignment, student)
            if wu:  # the grading status is already a note at the top of the graded notebook
                block = ("<div style='border:1px solid #999;padding:8px;margin:8px'><h2>Write-up feedback</h2>"
                         f"{writeups_html(wu, _worker['confirmed'].get(student))}</div>")
                for path in sorted(dest.glob("*.html")):
                    text = path.read_text(encoding="utf-8")
                    idx = text.find(">", text.find("<body")) + 1 if "<body" in text else 0
                    write_text(path, text[:idx] + block + text[idx:])
        except Exception as exc:  # one learner's bad write-up record must not stop the others
            error = f"write-up feedback failed: {type(exc).__name__}: {exc}"
    if error is None:
        if previous.exists():
            shutil.rmtree(previous)
    elif previous.exists():  # put the last good pages back
        if dest.exists():
            shutil.rmtree(dest)
        previous.rename(dest)
    elif dest.exists():  # no earlier pages: remove the incomplete ones
        shutil.rmtree(dest)
    return student, error


def _cause(result: dict) -> str:
    """The exception behind a failed nbgrader run: the end of the first traceback in its log
    (its own final error only says "see the above traceback")."""
    lines = (result.get("log") or "").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("[ERROR] Traceback")), None)
    if start is not None:
        block = []
        for line in lines[start + 1:]:
            if line.startswith("["):  # the next log record
                break
            if line.strip():
                block.append(line.strip())
        if block:
            return block[-1]
    error = (result.get("error") or "unknown error").strip().splitlines()
    return error[-1]


def _rows(course, assignment: str) -> tuple[list[str], list[dict]]:
    """One row per student (with a submission) for the assignment: per-question scores and status."""
    results = load_results(course, assignment)
    with course.gradebook() as gb:
        a = gb.find_assignment(assignment)
        qids = [c.name for nb in a.notebooks for c in nb.grade_cells]
        max_score = float(a.max_score)
        students = {s.id: s for s in gb.students}
        rows = []
        collected = {p.parent.name for p in (course.root / "submitted").glob(f"*/{assignment}") if p.is_dir()}
        for sid in sorted(set(results) | {s.student.id for s in a.submissions} | collected):  # never graded: "not graded"
            s = students.get(sid)
            res = results.get(sid, {})
            status = res.get("status", "not graded")
            row = {"student_id": sid, "first_name": getattr(s, "first_name", "") or "",
                   "last_name": getattr(s, "last_name", "") or "", "email": getattr(s, "email", "") or "",
                   "lms_id": getattr(s, "lms_user_id", "") or "", "assignment": assignment,
                   "max_score": max_score, "status": status, "reasons": "; ".join(res.get("reasons", []))}
            provisional, confirmed, to_grade = [], [], []
            unconfirmed: dict[str, tuple[float, float]] = {}  # provisional write-up marks: (score, max)
            graded = status != "error" and res
            for q in res.get("questions", []):
                if q["manual_score"] is not None:
                    confirmed.append(q["grade_id"])
                elif q["needs_manual_grade"]:
                    (provisional if q["auto_score"] is not None else to_grade).append(q["grade_id"])
            # scores straight from the gradebook (a confirmed manual mark may have come in since)
            total = 0.0
            for qid in qids:
                score = None
                if graded:
                    try:
                        g = gb.find_grade(qid, a.notebooks[0].name if len(a.notebooks) == 1 else _nb_of(a, qid), assignment, sid)
                        score = g.score
                        if g.manual_score is not None and qid in provisional:
                            provisional.remove(qid)
                            confirmed.append(qid)
                    except Exception:
                        score = None
                row[qid] = "" if score is None else round(float(score), 4)
                total += float(score or 0)
                if qid in provisional and score is not None:
                    unconfirmed[qid] = (float(score), float(g.max_score))
            row["score"] = round(total, 4) if graded else ""
            row["provisional"] = " ".join(provisional)
            row["confirmed"] = " ".join(confirmed)
            row["needs_grading"] = " ".join(to_grade)
            row["_unconfirmed"] = unconfirmed
            rows.append(row)
    return qids, rows


def _nb_of(a, qid: str) -> str:
    for nb in a.notebooks:
        if qid in {c.name for c in nb.grade_cells}:
            return nb.name
    raise KeyError(qid)


def _lms_mappings() -> list[dict]:
    try:
        folder = repo_root() / "grader" / "lms"
    except FileNotFoundError:
        return []
    return [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml"))]


class ExportFiles(dict):
    """{name: path} of the files written, with `awaiting`: the provisional write-up marks still to be
    confirmed, one dict per mark (student_id, writeup, provisional_score, max_score)."""

    def __init__(self, files=(), awaiting=None):
        super().__init__(files)
        self.awaiting: list[dict] = awaiting or []


_AWAITING_HEAD = ["student_id", "first_name", "last_name", "email", "assignment", "writeup", "provisional_score", "max_score"]
_LMS_STATUSES = ("ok",)
"""statuses whose score goes to an LMS file as a number; the others are blank with the reason beside them"""


def export(assignment: str | None = None, *, course_dir: str | Path | None = None, out_dir: str | Path | None = None,
           include_provisional: bool = False, include_flagged: bool = False) -> ExportFiles:
    """Write `scores.csv` (per learner and question, with status), one LMS grade file per mapping, and
    `awaiting_confirmation.csv` (provisional write-up marks an educator has not confirmed).

    The LMS totals leave out provisional write-up marks unless `include_provisional`, and give no
    number for a flagged or incomplete learner unless `include_flagged` (an ungradable one never
    has one). Every file is replaced atomically: a failure leaves the previous one intact.
    """
    course = open_course(course_dir)
    out = Path(out_dir) if out_dir else course.root / "exports"
    out.mkdir(parents=True, exist_ok=True)
    with course.gradebook() as gb:
        known = sorted(a.name for a in gb.assignments)
    if assignment:
        if assignment not in known:
            raise ValueError(f"Unknown assignment {assignment!r}; the gradebook has: {', '.join(known) or 'none'}")
        assignments = [assignment]
    else:  # every assignment the gradebook knows (released at least once)
        assignments = known
    written = ExportFiles()
    for a in assignments:
        qids, rows = _rows(course, a)
        head = ["student_id", "first_name", "last_name", "email", "lms_id", "assignment", *qids,
                "score", "max_score", "status", "provisional", "confirmed", "needs_grading", "reasons"]
        path = out / f"{a}_scores.csv"
        with atomic_open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=head, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        written[f"{a} scores"] = path
        awaiting = [{"student_id": r["student_id"], "first_name": r["first_name"], "last_name": r["last_name"],
                     "email": r["email"], "assignment": a, "writeup": qid, "provisional_score": round(score, 4),
                     "max_score": max_points}
                    for r in rows for qid, (score, max_points) in r["_unconfirmed"].items()]
        path = out / f"{a}_awaiting_confirmation.csv"
        with atomic_open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=_AWAITING_HEAD)
            w.writeheader()
            w.writerows(awaiting)
        written[f"{a} awaiting confirmation"] = path
        written.awaiting += awaiting
        for mapping in _lms_mappings():
            lpath = out / mapping["filename"].format(assignment=a)
            with atomic_open(lpath, "w", newline="") as fh:
                w = csv.writer(fh)
                cols = mapping["columns"]
                w.writerow([c["header"].format(assignment=a) for c in cols])
                if mapping.get("points_possible_row"):
                    w.writerow(["Points Possible" if i == 0 else (rows[0]["max_score"] if rows and c["field"] == "score" else "")
                                for i, c in enumerate(cols)])
                for row in rows:
                    score, note = _lms_score(row, include_provisional, include_flagged)
                    values = dict(row, score=score, status_text=note, section="",
                                  sortable_name=f"{row['last_name']}, {row['first_name']}".strip(", "))
                    w.writerow([values.get(c["field"], "") for c in cols])
            written[f"{a} {mapping['name']}"] = lpath
    return written


def _lms_score(row: dict, include_provisional: bool, include_flagged: bool) -> tuple[float | str, str]:
    """(the grade an LMS file carries, the note beside it) for one learner."""
    notes = []
    score: float | str = row["score"]
    if score != "" and row["_unconfirmed"] and not include_provisional:
        score = round(score - sum(s for s, _ in row["_unconfirmed"].values()), 4)
        notes.append(f"not counted until confirmed: provisional write-up mark(s) {' '.join(row['_unconfirmed'])}")
    elif row["_unconfirmed"]:
        notes.append(f"includes provisional (unconfirmed) write-up mark(s): {' '.join(row['_unconfirmed'])}")
    status = f"{row['status']}: {row['reasons']}" if row["reasons"] else row["status"]
    if row["status"] not in _LMS_STATUSES:
        if score == "" or not include_flagged:
            score = ""
            notes.insert(0, f"no grade ({status})")
        else:
            notes.insert(0, status)
    if row["needs_grading"]:
        notes.append(f"still to be marked: {row['needs_grading']}")
    return score, " | ".join(notes)
