"""Provisional rubric marks for manually graded write-up cells, stored where formgrader shows them.

We write `auto_score`/`auto_comment` (grey placeholders in formgrader) and keep
`needs_manual_grade=True`, after every grade run (nbgrader's autograde wipes them). We never touch
`manual_score`/`manual_comment`: the educator's mark always wins.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import nbformat

from qicourse.grading.course import Course
from qicourse.grading.safeio import write_text

PROVISIONAL_PREFIX = "Provisional rubric mark (to be confirmed by your educator)"


def default_rubric_lookup():
    """`qicourse.rubric.rubric_for_grade_id`, or None while the rubric part is not installed."""
    try:
        from qicourse.rubric import rubric_for_grade_id
    except ImportError:
        return None
    return rubric_for_grade_id


def cached_lookup(rubric_lookup=None):
    """`rubric_lookup` (default: the rubric package's) reading each rubric file once, for a whole grade run
    that marks its learners one at a time; None while the rubric part is not installed."""
    base = rubric_lookup or default_rubric_lookup()
    if base is None:
        return None
    cache: dict = {}

    def lookup(grade_id):
        if grade_id not in cache:
            cache[grade_id] = base(grade_id)
        return cache[grade_id]

    return lookup


def mark_text(rubric, text: str, max_points: float, facts: dict | None = None) -> dict:
    """Mark one answer (with facts from the learner's notebook, if any); scale to the cell's points.

    Returns a JSON-able record; never raises on learner text.
    """
    from qicourse.rubric import mark_answer

    result = mark_answer(rubric, text or "", facts)
    scale = (float(max_points) / result.max_points) if result.max_points else 0.0
    return {
        "points": round(result.points * scale, 2), "max_points": float(max_points),
        "rubric_points": result.points, "rubric_max_points": result.max_points,
        "markdown": result.to_markdown(), "html": result.to_html(), "facts": facts,
    }


def _writeup_cells(nb) -> list[tuple[str, str, float]]:
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("solution") and cell.cell_type == "markdown":
            out.append((meta["grade_id"], cell.source, float(meta.get("points", 0))))
    return out


def writeups_path(course: Course, assignment: str, student: str) -> Path:
    return course.qicourse_dir / "writeups" / assignment / f"{student}.json"


def mark_writeups(course: Course, assignment: str, students: list[str], *, rubric_lookup=None,
                  facts: dict[str, dict] | None = None) -> int:
    """Mark every write-up that has a rubric; returns how many answers were marked.

    `facts` maps a student to {rubric id: facts from their own notebook} (see `grading.facts`).
    """
    lookup = cached_lookup(rubric_lookup)  # rubric files are read once per call, not once per learner
    if lookup is None:
        return 0
    from nbgrader.api import MissingEntry

    marked = 0
    with course.gradebook() as gb:
        for student in students:
            records = {}
            for path in sorted(course.path("autograded", student, assignment).glob("*.ipynb")):
                nb = nbformat.read(path, as_version=4)
                for grade_id, text, points in _writeup_cells(nb):
                    rubric = lookup(grade_id)
                    if rubric is None:
                        continue
                    try:
                        grade = gb.find_grade(grade_id, path.stem, assignment, student)
                        comment = gb.find_comment(grade_id, path.stem, assignment, student)
                    except MissingEntry:
                        continue
                    if not grade.needs_manual_grade and grade.manual_score is None:
                        continue  # nbgrader already scored it: the answer was left as released (no response)
                    rec = mark_text(rubric, text, points, ((facts or {}).get(student) or {}).get(rubric.id))
                    records[grade_id] = rec
                    grade.auto_score = rec["points"]
                    grade.needs_manual_grade = grade.manual_score is None
                    comment.auto_comment = f"{PROVISIONAL_PREFIX}: {rec['points']:g}/{points:g}\n\n{rec['markdown']}"
                    marked += 1
            gb.db.commit()
            if records:
                p = writeups_path(course, assignment, student)
                p.parent.mkdir(parents=True, exist_ok=True)
                write_text(p, json.dumps(records, indent=1))
    return marked


def load_writeups(course: Course, assignment: str, student: str) -> dict:
    p = writeups_path(course, assignment, student)
    return json.loads(p.read_text()) if p.is_file() else {}


def confirmed_scores(course: Course, assignment: str) -> dict[str, dict[str, float]]:
    """{student: {grade id: the educator's manual score}} for every cell of `assignment` a person has marked."""
    out: dict[str, dict[str, float]] = {}
    with course.gradebook() as gb:
        for sub in gb.find_assignment(assignment).submissions:
            for snb in sub.notebooks:
                for g in snb.grades:
                    if g.manual_score is not None:
                        out.setdefault(sub.student.id, {})[g.name] = float(g.manual_score)
    return out


def writeups_html(records: dict, confirmed: dict[str, float] | None = None) -> str:
    """The rubric tables; a write-up the educator has marked shows their score as confirmed."""
    parts = []
    for grade_id, rec in records.items():
        gid = html.escape(grade_id)
        if confirmed and grade_id in confirmed:
            parts.append(f"<h3>Write-up '{gid}': {confirmed[grade_id]:g}/{rec['max_points']:g}, confirmed by your educator</h3>"
                         f"<p><em>Your educator's mark replaces the automatic marker's provisional "
                         f"{rec['points']:g}/{rec['max_points']:g}; its reading is kept below for reference.</em></p>{rec['html']}")
        else:
            parts.append(f"<h3>Write-up '{gid}': provisional {rec['points']:g}/{rec['max_points']:g}</h3>"
                         f"<p><em>{html.escape(PROVISIONAL_PREFIX)}.</em></p>{rec['html']}")
    return "\n".join(parts)
