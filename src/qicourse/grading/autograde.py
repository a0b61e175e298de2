"""Grade a cohort: nbgrader's autograde steps, with execution fanned out to sandboxed warm workers.

This process is the only gradebook writer. For each submission it runs nbgrader's own sanitising
preprocessors (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
CheckCellMetadata), sends the code cells to a worker, then runs nbgrader's post-execution
preprocessors (IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades, AssignLatePenalties,
CheckCellMetadata) on the executed notebook. Only the kernel-based `Execute` is replaced, so
scores are nbgrader's and formgrader shows everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from qicourse.grading.course import Course, ensure_released, open_course
from qicourse.grading.kernel_fallback import KernelRunner, can_fork
from qicourse.grading.safeio import write_text
from qicourse.grading.sandbox import Limits, WorkerPool
from qicourse.grading.submission import SubmissionError, read_submission, repair
from qicourse.grading.writeups import cached_lookup

NOT_EXECUTED = "NotExecuted"


class NoSandboxError(ValueError):
    """Grading learners' code without the sandbox was not asked for explicitly."""


@dataclass
class SubmissionResult:
    """What happened to one learner's notebook."""

    student: str
    assignment: str
    notebook: str
    status: str = "ok"
    """ok | flagged (graded, with problems worth a look) | incomplete (execution stopped early) | error (not graded)"""
    reasons: list[str] = field(default_factory=list)
    """plain-language reasons for any status other than ok, and notes"""
    notes: list[str] = field(default_factory=list)
    """things worth knowing that cost no marks and change no status (e.g. warnings the learner's code raised)"""
    score: float | None = None
    max_score: float = 0.0
    questions: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    """wall time in the worker: fork, set-up, the learner's cells, collecting outputs"""
    cells_seconds: float = 0.0
    """time spent running the notebook's own cells"""
    sandbox: str = ""
    timestamp: str | None = None
    facts: dict = field(default_factory=dict)
    """{rubric id: facts from the learner's own variables} for write-up marking (see grading.facts)"""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class GradeRun:
    results: list[SubmissionResult]
    skipped: list[str]
    seconds: float
    workers: int
    sandbox: str
    worker_startup_seconds: list[float] = field(default_factory=list)
    worker_rss_mb: float = 0.0
    """peak resident memory of a warm worker (its forked children are counted separately)"""
    child_rss_mb: float = 0.0
    writer_seconds: float = 0.0
    """time the single writer spent in nbgrader's own steps (set-up, sanitise, save grades)"""

    @property
    def failures(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.status != "ok"]


def _kind(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("locked") and not meta.get("solution"):
        return "locked"
    return "solution" if meta.get("solution") else "other"


def _trusted_kind(cell, source_nb, index: int, reasons: list[str]) -> str:
    """The cell's kind, but "test" or "locked" only for the assignment's own cell with its own source: those run
    in the trusted tester, so a learner-made cell carrying such metadata runs as an ordinary cell."""
    kind = _kind(cell)
    if kind not in ("test", "locked"):
        return kind
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    own = {c.metadata["nbgrader"]["grade_id"]: c.source for c in (source_nb.cells if source_nb else [])
           if c.metadata.get("nbgrader", {}).get("grade_id")}
    if gid in own and cell.source == own[gid]:
        return kind
    reasons.append(f"{_cell_label(cell, index)} is marked as a {kind} cell but is not the assignment's own: run as an ordinary cell")
    return "other"


def _cell_label(cell, index: int) -> str:
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"'{gid}'" if gid else f"cell {index + 1}"


def result_path(course: Course, assignment: str, student: str) -> Path:
    return course.qicourse_dir / "results" / assignment / f"{student}.json"


def load_results(course: Course, assignment: str) -> dict[str, dict]:
    folder = course.qicourse_dir / "results" / assignment
    out = {}
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            try:
                out[p.stem] = json.loads(p.read_text())
            except (ValueError, UnicodeDecodeError):
                raise ValueError(f"the grading record {p} is damaged: regrade with "
                                 f"`qicourse grade {assignment} --force --student {p.stem}`") from None
    return out


def _previous_timestamp(path: Path) -> tuple[bool, str | None]:
    """(readable, submission timestamp) of a saved result; an unreadable one means "grade again"."""
    try:
        return True, json.loads(path.read_text()).get("timestamp")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return False, None


class _Autograder:
    """nbgrader's Autograde converter, driven one step at a time by the single writer."""

    def __init__(self, course: Course, assignment: str):
        from nbgrader.converters import Autograde
        from nbgrader.converters.base import FilesWriter

        cfg = course.config()
        cfg.CourseDirectory.assignment_id = assignment
        coursedir = course.coursedir()
        coursedir.assignment_id = assignment
        self.conv = Autograde(coursedir=coursedir, config=cfg)
        self.conv.writer = FilesWriter(parent=self.conv, config=self.conv.config)
        self.sanitize = self.conv.exporter_class(parent=self.conv, config=self.conv.config)
        for pp in self.conv.sanitize_preprocessors:
            self.sanitize.register_preprocessor(pp)
        from nbgrader.preprocessors import Execute

        self.post = self.conv.exporter_class(parent=self.conv, config=self.conv.config)
        for pp in self.conv.autograde_preprocessors:
            if pp is not Execute:
                self.post.register_preprocessor(pp)
        self.conv.exporter = self.post
        self.course = course
        self.assignment = assignment

    def resources(self, student: str, notebook_id: str) -> dict:
        return {"unique_key": notebook_id, "output_files_dir": f"{notebook_id}_files",
                "nbgrader": {"student": student, "assignment": self.assignment, "notebook": notebook_id,
                             "db_url": self.course.db_url}}

    def begin(self, student: str, notebooks: list[Path]) -> None:
        """nbgrader's per-submission set-up: student, submission + timestamp, copies, missing notebooks."""
        dest = self.course.path("autograded", student, self.assignment)
        if dest.exists():
            shutil.rmtree(dest)
        self.conv.notebooks = [str(p) for p in notebooks]
        cwd = os.getcwd()
        os.chdir(self.course.root)
        try:
            self.conv.init_assignment(self.assignment, student)
        finally:
            os.chdir(cwd)

    def run_sanitize(self, nb, student: str, notebook_id: str):
        out, _ = self.sanitize.from_notebook_node(nb, resources=self.resources(student, notebook_id))
        return nbformat.reads(out, as_version=4)

    def finish(self, nb, student: str, notebook_id: str) -> None:
        output, resources = self.post.from_notebook_node(nb, resources=self.resources(student, notebook_id))
        self.conv.write_single_notebook(output, resources)
        self.conv.set_permissions(self.assignment, student)


def _assemble(nb, cells_index: list[int], result: dict, notes: list[str] | None = None) -> list[str]:
    """Put the worker's outputs into the notebook; never let an unexecuted test pass."""
    reasons = []
    notes = [] if notes is None else notes
    got = {int(k): v for k, v in result.get("cells", {}).items()}
    stopped_at = None
    for i in cells_index:
        cell = nb.cells[i]
        msg = got.get(i)
        if msg is None:
            if stopped_at is None:
                stopped_at = i
            why = "the notebook stopped before this cell ran"
            cell.outputs = [nbformat.v4.new_output("error", ename=NOT_EXECUTED, evalue=why, traceback=[f"{NOT_EXECUTED}: {why}"])]
            cell.execution_count = None
            continue
        cell.outputs = [nbformat.from_dict(o) for o in msg["outputs"]]
        cell.execution_count = msg.get("execution_count")
        for ev in msg.get("events", []):
            label = _cell_label(cell, i)
            if ev["kind"] == "timeout":
                reasons.append(f"timeout in {label} ({ev['detail']})")
            elif ev["kind"] == "memory":
                reasons.append(f"memory limit reached in {label}")
            elif ev["kind"] == "output":
                if not any(r.startswith("output too large") for r in reasons):  # later cells only inherit it
                    reasons.append(f"output too large in {label} ({ev['detail']})")
            elif ev["kind"] == "protected":
                reasons.append(f"changed names the tests rely on (undone at {label}): {', '.join(ev['detail'])}")
            elif ev["kind"] == "file_access":
                reasons.append(f"tried to use files outside its folder in {label}: {', '.join(ev['detail'])}")
            elif ev["kind"] == "protocol":
                reasons.append(f"{ev['detail']} in {label}")
            elif ev["kind"] == "warnings":
                notes.append(f"warnings from the learner's code while {label} ran (no marks lost): {'; '.join(ev['detail'])}")
    stopped = result.get("stopped")
    if stopped:  # the tester stopped the notebook (time limit, broken protocol): name the cell it stopped in
        i = int(stopped["cell"])
        reasons.append(f"stopped: {stopped['why']} in {_cell_label(nb.cells[i], i)}; later cells not run")
    elif stopped_at is not None:
        label = _cell_label(nb.cells[stopped_at], stopped_at)
        if result.get("killed"):
            reasons.append(f"stopped: {result['killed']} in {label}; later cells not run")
        elif result.get("fatal"):
            reasons.append(f"stopped in {label}: {result['fatal']}; later cells not run")
        else:
            why = result.get("exit") or "the process ended without finishing"
            reasons.append(f"kernel died in {label} ({why}); later cells not run")
    elif result.get("killed"):  # e.g. a process it started held the channel open past the time limit
        reasons.append(f"killed after its last cell had run ({result['killed']})")
    elif result.get("fatal"):
        reasons.append(f"grading problem: {result['fatal']}")
    reasons += result.get("isolation") or []  # scratch full, process limit, processes left running
    return reasons


def _status_cell(res: SubmissionResult):
    lines = [f"**Grading note (qicourse): {res.status}.** Added by the grader; not part of the learner's work.", ""]
    lines += [f"- {r}" for r in res.reasons]
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.id = "qicourse-grading-note"
    return cell


def _scores(course: Course, assignment: str, student: str, notebook_id: str) -> tuple[float | None, float, list[dict]]:
    """Per-question scores from the gradebook (what formgrader shows)."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            snb = gb.find_submission_notebook(notebook_id, assignment, student)
        except MissingEntry:
            return None, 0.0, []
        questions = []
        for g in snb.grades:
            questions.append({
                "grade_id": g.name, "score": g.score, "max_score": g.max_score, "auto_score": g.auto_score,
                "manual_score": g.manual_score, "needs_manual_grade": bool(g.needs_manual_grade),
                "cell_type": g.cell.cell_type,
            })
        return float(snb.score), float(snb.max_score), questions


class Progress:
    """done/total, failures and time left; a single updating line on a terminal, plain lines otherwise."""

    def __init__(self, total: int, stream=None, label: str = "grading"):
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label = label
        self.t0 = time.perf_counter()
        self._last_pct = -1

    def update(self, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        elapsed = time.perf_counter() - self.t0
        left = elapsed / self.done * (self.total - self.done) if self.done else 0
        line = f"{self.label}: {self.done}/{self.total} done, {self.failed} with problems, ~{left:.0f} s left"
        if self.tty:
            width = 24
            fill = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {line}   ")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            pct = int(10 * self.done / max(self.total, 1))
            if pct != self._last_pct or self.done == self.total:
                self._last_pct = pct
                self.stream.write(line + "\n")
        self.stream.flush()


def find_submissions(course: Course, assignment: str, students: list[str] | None = None) -> dict[str, list[Path]]:
    root = course.root / "submitted"
    found = {}
    if root.is_dir():
        for sdir in sorted(p for p in root.iterdir() if p.is_dir()):
            if students and sdir.name not in students:
                continue
            adir = sdir / assignment
            if adir.is_dir():
                found[sdir.name] = sorted(adir.glob("*.ipynb"))
    return found


def grade(assignment: str, *, course_dir: str | Path | None = None, workers: int | None = None, force: bool = False,
          students: list[str] | None = None, limits: Limits | None = None, datasets_dir: str | Path | None = None,
          hidden: list[str | Path] | None = None, use_bwrap: bool = True, progress: bool = True,
          render_figures: bool = True, mark_writeups: bool = True, rubric_lookup=None, stream=None,
          allow_no_sandbox: bool = False) -> GradeRun:
    """Autograde every submission of `assignment` in parallel, sandboxed workers; one process writes the gradebook.

    Already graded submissions are skipped unless `force` (or the submission is newer). Manual
    grades are never touched. Returns a GradeRun; per-learner results are also saved beside the
    gradebook for export, feedback and the report. Without bubblewrap, raises NoSandboxError
    unless `allow_no_sandbox` (learners' code would run with the grader's own access); then every
    result's `sandbox` says "no sandbox".
    """
    options = dict(locals())
    from qicourse.grading.fastpath import shared_gradebook

    with shared_gradebook():
        return _grade(**options)


def _grade(assignment, *, course_dir, workers, force, students, limits, datasets_dir, hidden, use_bwrap, progress,
           render_figures, mark_writeups, rubric_lookup, stream, allow_no_sandbox) -> GradeRun:
    from qicourse.paths import datasets_dir as default_datasets, repo_root

    t0 = time.perf_counter()
    warnings.filterwarnings("ignore", message=".*not in session.*")  # sqlalchemy 2.1 vs nbgrader 0.9, harmless
    course = open_course(course_dir)
    if assignment not in course.assignments():
        raise ValueError(f"Unknown assignment {assignment!r}; the course has: {', '.join(course.assignments()) or 'none'}")
    ensure_released(course, assignment)
    limits = limits or Limits()
    release_nbs = {p.stem: nbformat.read(p, as_version=4) for p in sorted(course.path("release", assignment=assignment).glob("*.ipynb"))}
    source_nbs = {p.stem: nbformat.read(p, as_version=4) for p in sorted(course.path("source", assignment=assignment).glob("*.ipynb"))}
    subs = find_submissions(course, assignment, students)
    if students:
        missing = [s for s in students if s not in subs]
        if missing:
            raise ValueError(f"No submission of {assignment} for: {', '.join(missing)}")
    ag = _Autograder(course, assignment)
    probes = _facts_probes(release_nbs.values(), rubric_lookup) if mark_writeups else []

    todo, skipped = [], []
    for student, nbs in subs.items():
        ts = (course.path("submitted", student, assignment) / "timestamp.txt")
        ts_text = ts.read_text().strip() if ts.is_file() else None
        prev = result_path(course, assignment, student)
        done_before = course.path("autograded", student, assignment).is_dir() and prev.is_file()
        if done_before and not force:
            readable, old_ts = _previous_timestamp(prev)
            if readable and old_ts == ts_text:
                skipped.append(student)
                continue
        todo.append((student, nbs, ts_text))

    hidden_paths = [course.root, *(Path(h) for h in (hidden or []))]
    try:
        hidden_paths.append(repo_root() / "solutions")
    except FileNotFoundError:
        pass
    ddir = Path(datasets_dir) if datasets_dir else default_datasets()
    if can_fork():
        pool = WorkerPool(workers or os.cpu_count() or 1, datasets_dir=ddir if ddir.is_dir() else None,
                          hidden=hidden_paths, use_bwrap=use_bwrap)
    else:  # Windows: nbgrader's kernel executor, one notebook at a time
        pool = KernelRunner(datasets_dir=ddir if ddir.is_dir() else None)
    sandbox = pool.sandbox
    if todo and sandbox != "bwrap" and not allow_no_sandbox:
        raise NoSandboxError(
            f"no sandbox here ({sandbox}: bubblewrap missing or not allowed to make namespaces), so learners' code "
            "could read the course, solutions and gradebook; install bubblewrap, or pass --no-sandbox to grade anyway")
    if todo:
        pool.launch()  # workers warm up while this process prepares the first submissions
    results: list[SubmissionResult] = []
    pending: dict[int, tuple] = {}
    lookup = cached_lookup(rubric_lookup) if mark_writeups else None
    outstanding: dict[str, int] = {}  # student -> how many of their notebooks are still being graded
    by_student: dict[str, list[SubmissionResult]] = {}

    def notebook_done(res: SubmissionResult) -> None:
        """Record a learner as soon as their last notebook is graded, so a crash loses nobody finished."""
        outstanding[res.student] -= 1
        if not outstanding[res.student]:
            _record_learner(course, assignment, by_student[res.student], mark=lookup is not None, rubric_lookup=lookup)
    writer = [0.0]
    total = len(todo) * len(release_nbs)
    bar = Progress(total, stream=stream) if progress and total else None

    def prepared():
        """Tasks for the workers, made one submission at a time (nbgrader's set-up and sanitising)."""
        next_id = 0
        for student, nbs, ts_text in todo:
            t_prep = time.perf_counter()
            # nbgrader's set-up deletes the graded notebook: the old record goes too, so a crash from
            # here on shows this learner as not graded (and the next run grades them) rather than stale
            result_path(course, assignment, student).unlink(missing_ok=True)
            ag.begin(student, nbs)
            wanted = {p.stem: p for p in nbs}
            mine = by_student[student] = []
            outstanding[student] = len(release_nbs)
            # noted on the learner's first notebook, before it is graded, so its status counts them
            extras = [f"extra notebook {extra}.ipynb not part of the assignment (not graded)"
                      for extra in sorted(set(wanted) - set(release_nbs))]
            for nb_id, release_nb in release_nbs.items():
                res = SubmissionResult(student=student, assignment=assignment, notebook=nb_id, timestamp=ts_text)
                results.append(res)
                mine.append(res)
                extra_notes = extras if len(mine) == 1 else []
                path = wanted.get(nb_id)
                try:
                    if path is None:
                        raise SubmissionError(f"no notebook {nb_id}.ipynb in the submission")
                    nb, notes = read_submission(path)
                    rep = repair(nb, release_nb, source_nbs.get(nb_id))
                    res.reasons += notes + rep.notes + extra_notes
                    nb = ag.run_sanitize(rep.nb, student, nb_id)
                except SubmissionError as exc:
                    res.status, res.reasons, res.sandbox = "error", [str(exc), *extra_notes], "not run"
                    if bar:
                        bar.update(True)
                    notebook_done(res)
                    continue
                code_idx = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
                pending[next_id] = (res, nb, code_idx)
                writer[0] += time.perf_counter() - t_prep
                yield {"id": next_id, "limits": limits.as_dict(), "render_figures": render_figures, "facts_probes": probes,
                       "notebook_name": f"{nb_id}.ipynb", "notebook_json": nbformat.writes(nb),
                       "cells": [{"index": i, "source": nb.cells[i].source,
                                  "kind": _trusted_kind(nb.cells[i], source_nbs.get(nb_id), i, res.reasons)} for i in code_idx]}
                next_id += 1
                t_prep = time.perf_counter()

    rss, child_rss, startup = 0.0, 0.0, []
    with contextlib.nullcontext() if not todo else pool:
        for task, out in pool.run(prepared()) if todo else ():
            res, nb, code_idx = pending.pop(task["id"])
            res.sandbox = out.get("sandbox", sandbox)
            res.seconds = float(out.get("seconds", 0))
            res.facts = out.get("facts") or {}
            res.cells_seconds = round(sum(float(c.get("seconds", 0)) for c in out.get("cells", {}).values()), 4)
            rss = max(rss, float(out.get("worker_rss_mb") or 0))
            child_rss = max(child_rss, float(out.get("child_rss_mb") or 0))
            t_finish = time.perf_counter()
            problems = _assemble(nb, code_idx, out, res.notes)
            res.reasons = problems + res.reasons
            if any(p.startswith(("stopped", "kernel died")) for p in problems):
                res.status = "incomplete"
            elif res.reasons:
                res.status = "flagged"
            if res.reasons:  # formgrader and the learner's feedback show the notebook: say it there
                nb.cells.insert(0, _status_cell(res))
            ag.finish(nb, res.student, res.notebook)
            writer[0] += time.perf_counter() - t_finish
            notebook_done(res)
            if bar:
                bar.update(res.status != "ok")
        startup = list(pool.startup_seconds)
    return GradeRun(results=results, skipped=skipped, seconds=time.perf_counter() - t0, workers=pool.n,
                    sandbox=sandbox, worker_startup_seconds=startup, worker_rss_mb=rss, child_rss_mb=child_rss,
                    writer_seconds=round(writer[0], 3))


def _facts_probes(release_nbs, rubric_lookup) -> list[str]:
    """Ids of the rubrics marking this assignment's write-ups that read facts from the learner's notebook."""
    from qicourse.grading.facts import PROBES
    from qicourse.grading.writeups import default_rubric_lookup

    lookup = rubric_lookup or default_rubric_lookup()
    if lookup is None:
        return []
    found = []
    for nb in release_nbs:
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("solution") and cell.cell_type == "markdown":
                rubric = lookup(meta.get("grade_id"))
                if rubric is not None and rubric.id in PROBES and rubric.id not in found:
                    found.append(rubric.id)
    return found


def _record_learner(course: Course, assignment: str, mine: list[SubmissionResult], *, mark: bool, rubric_lookup) -> None:
    """One learner's notebooks are all graded: errors into the gradebook, write-up marks, scores, and
    the result file (written atomically: it is what tells a re-run after a crash that they are done)."""
    for res in mine:
        if res.status == "error":
            _record_error(course, res)
    graded = [r for r in mine if r.status != "error"]
    if mark and graded:
        from qicourse.grading.writeups import mark_writeups as _mark

        student = mine[0].student
        _mark(course, assignment, [student], rubric_lookup=rubric_lookup, facts={student: graded[-1].facts})
    for res in mine:
        if res.status != "error":
            res.score, res.max_score, res.questions = _scores(course, assignment, res.student, res.notebook)
        else:
            res.max_score = _max_score(course, assignment)
        p = result_path(course, assignment, res.student)
        p.parent.mkdir(parents=True, exist_ok=True)
        write_text(p, json.dumps(res.to_dict(), indent=1, default=str))


def _max_score(course: Course, assignment: str) -> float:
    with course.gradebook() as gb:
        return float(gb.find_assignment(assignment).max_score)


def _record_error(course: Course, res: SubmissionResult) -> None:
    """An ungradable submission still appears in formgrader (marked for manual grading), never as a quiet zero."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        gb.update_or_create_student(res.student)
        sub = gb.update_or_create_submission(res.assignment, res.student)
        for snb in sub.notebooks:
            if snb.name != res.notebook:
                continue
            for g in snb.grades:
                if g.manual_score is None:
                    g.auto_score = None
                    g.needs_manual_grade = True
            try:
                for c in snb.comments:
                    if c.manual_comment is None:
                        c.auto_comment = f"Not graded automatically: {'; '.join(res.reasons)}"
            except MissingEntry:
                pass
        gb.db.commit()
