"""Does every lesson run, and does every assignment grade as it should (full, zero, partial)?

Data-driven over whatever is in `course/`, `solutions/` and `tests/fixtures/partly_wrong/`, so a
new module is tested the moment it lands. Grading goes through `check_notebook`, the same code
path as the educator's `qicourse grade` (real nbgrader preprocessors, no mocks).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
LESSONS = sorted((REPO / "course").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir()) if (REPO / "solutions").is_dir() else []
PARTLY_WRONG = sorted((REPO / "tests" / "fixtures" / "partly_wrong").glob("*.json"))


def _notebook(folder: Path) -> Path:
    (nb,) = sorted(folder.glob("*.ipynb"))
    return nb


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_top_to_bottom(lesson, tmp_path):
    """Does the lesson execute from a fresh kernel without any error output?"""
    nb = nbformat.read(lesson, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(lesson.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])), "a lesson needs at least one figure"


@pytest.mark.pipeline
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks(assignment):
    """Does the nbgrader source notebook (the model answer) earn every auto-graded mark?"""
    from qicourse.grading import check_notebook

    result = check_notebook(_notebook(REPO / "solutions" / assignment), assignment=assignment)
    assert result.status == "ok", result.to_text()
    assert result.max_score > 0
    assert result.score == result.max_score, result.to_text()


@pytest.mark.pipeline
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_exercise_scores_zero_without_errors(assignment):
    """Does the untouched student version grade cleanly to zero (no crash, no free marks)?"""
    from qicourse.grading import check_notebook

    result = check_notebook(_notebook(REPO / "exercises" / assignment), assignment=assignment)
    assert result.status == "ok", result.to_text()
    assert result.max_score > 0
    assert result.score == 0, result.to_text()


@pytest.mark.pipeline
@pytest.mark.parametrize("fixture", PARTLY_WRONG, ids=[p.stem for p in PARTLY_WRONG])
def test_partly_wrong_answer_gets_partial_marks(fixture, tmp_path):
    """Does a solution with some answers replaced by a typical mistake get exactly the partial marks expected?"""
    from qicourse.grading import check_notebook

    spec = json.loads(fixture.read_text())
    assignment = fixture.stem
    source = _notebook(REPO / "solutions" / assignment)
    nb = nbformat.read(source, as_version=4)
    replaced = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in spec["replace"]:
            cell.source = spec["replace"][grade_id]
            replaced.add(grade_id)
    assert replaced == set(spec["replace"]), f"unknown grade ids in {fixture.name}: {set(spec['replace']) - replaced}"
    target = tmp_path / assignment / source.name
    target.parent.mkdir()
    nbformat.write(nb, target)
    result = check_notebook(target, assignment=assignment)
    assert result.status == "ok", result.to_text()
    assert 0 < result.score < result.max_score
    assert result.score == spec["expected_score"], f"{spec.get('why', '')}\n{result.to_text()}"
