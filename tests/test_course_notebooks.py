"""Does every lesson run, and does every assignment grade as it should (full, zero, partial)?

Data-driven over whatever is in `course/`, `solutions/` and `tests/fixtures/partly_wrong/`, so a
new module is tested the moment it lands. Grading goes through `check_notebook`, the same code
path as the educator's `qicourse grade` (real nbgrader preprocessors, no mocks).
"""

from __future__ import annotations

import json
import re
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
    _check_accessibility(nb, lesson.stem)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    if lesson.stem in CLAIMS:
        CLAIMS[lesson.stem](printed)


def _check_accessibility(nb, name):
    """Every figure is described in words right after it, and the lesson says how to recover from a kernel restart."""
    assert "Restarted the kernel" in nb.cells[0].source + nb.cells[1].source, f"{name}: no restart hint at the top"
    for i, cell in enumerate(nb.cells):
        has_png = cell.cell_type == "code" and any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        if has_png:
            nxt = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            assert nxt is not None and nxt.cell_type == "markdown" and "*Figure" in nxt.source, \
                f"{name}: the figure in cell {i} has no caption in the Markdown cell after it"


def _number(pattern, text):
    """The first number captured by `pattern` in the lesson's printed output (the claim's evidence)."""
    found = re.search(pattern, text)
    assert found, f"the lesson no longer prints {pattern!r}"
    return float(found.group(1))


def _lesson0(out):
    # the prose says the count and rate charts are practically the same shape on Rowan
    assert _number(r"count and the monthly rate: ([\d.]+)", out) > 0.95


def _lesson2(out):
    # the prose says the gap is in the highest-risk group, not the moderate-risk one
    assert _number(r"Highest risk .*?, (\d+)% had antibiotics within 1 hour", out) < 50
    assert _number(r"Moderate risk .*?, (\d+)% within 3 hours", out) >= 85


def _lesson3(out):
    # "beyond a typical good week but reached by the best one or two"
    reached = _number(r"already at or below the target: (\d+) of", out)
    weeks = _number(r"already at or below the target: \d+ of (\d+)", out)
    assert 1 <= reached <= 2 and weeks >= 12
    assert _number(r"a target of (\d+) min", out) < _number(r"best quarter of weeks: (\d+) min", out)


def _lesson4(out):
    # the target demo shows weeks past the target on a chart with no signal; the balancing measure signals, upwards
    assert "Baseline weeks only" in out and re.search(r"run-chart signal: False", out)
    assert _number(r"Weeks at or above the target of [\d.]+%: (\d+)", out) >= 1
    assert re.search(r"Anhøj rules on \d+ useful points.*signal: True", out)
    above = _number(r"weeks after the bundle above it: (\d+) of", out)
    assert above > _number(r"weeks after the bundle above it: \d+ of (\d+)", out) / 2


def _lesson5(out):
    # the ±2 SD limits hide the shift that the XmR limits show; one set of limits puts the centre between the processes
    xmr = _number(r"Discharges before noon.*\n\s+XmR limits .*-> (\d+) points outside", out)
    two_sd = _number(r"Discharges before noon.*\n.*\n\s+mean ± 2 SD .*-> (\d+) points outside", out)
    assert xmr >= 10 and two_sd <= 2
    one = _number(r"one set over everything ([\d.]+)", out)
    assert _number(r"before the bundle ([\d.]+)", out) > one > _number(r"after it ([\d.]+)", out)
    assert _number(r"last 8 baseline weeks ([\d.]+)", out) > _number(r"whole baseline ([\d.]+)", out)


def _lesson7(out):
    # the balancing measure is read on frozen limits: the later months signal
    assert _number(r"flagged as signals: (\d+) of", out) >= 6


CLAIMS = {"00_getting_started": _lesson0, "02_finding_the_problem": _lesson2, "03_aims": _lesson3,
          "04_measurement": _lesson4, "05_variation": _lesson5, "07_equity_evaluation": _lesson7}


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
