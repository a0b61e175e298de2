"""Do the capstone exemplars mark as they should under the capstone rubric, and does the solution
notebook use the rubric's grade id, headings and the strong exemplar as its write-up?"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from qicourse.rubric import load_rubric, mark_answer

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "capstone"
SOLUTION = REPO / "solutions" / "m8_capstone" / "m8_capstone.ipynb"
HEADINGS = ["Problem and context", "Aim", "Measures", "Changes", "PDSA cycles", "Results",
            "Interpretation", "Equity", "Sustainability", "Limitations"]


@pytest.fixture(scope="module")
def rubric():
    return load_rubric("capstone")


def _text(name: str) -> str:
    return (FIXTURES / f"{name}.md").read_text(encoding="utf-8")


def _chart_signals() -> list[str]:
    """Rules that fire on the solution's chart (weekly p chart frozen on the baseline), from the data."""
    from qicourse.charts import qic
    from qicourse.data import load, truth

    s = load("sepsis")
    week = s["trigger_time"].dt.to_period("W-SUN").dt.start_time
    n = s.groupby(week).size()
    within = (s["minutes_to_antibiotics"] <= 60).groupby(week).sum()
    k = int((n.index < pd.Timestamp(truth("sepsis")["pdsa_cycles"][0]["date"])).sum())
    res = qic(within.to_numpy(), n.to_numpy(), chart="p", freeze=k)
    return sorted(set(res.points.loc[res.points["signal"], "rule"]))


def test_strong_exemplar_scores_full_marks(rubric):
    """Does the strong exemplar earn every criterion's top level, with and without chart facts?"""
    text = _text("strong")
    result = mark_answer(rubric, text)
    low = [(c.id, c.points, c.feedback) for c in result.criteria if c.points < c.max_points]
    assert result.points == result.max_points == rubric.max_points, low
    facts = {"chart_signals": _chart_signals(), "chart_type": "p"}
    assert facts["chart_signals"], "the solution's chart should show signals"
    with_facts = mark_answer(rubric, text, facts=facts)
    assert with_facts.points == with_facts.max_points, [
        (c.id, c.feedback) for c in with_facts.criteria if c.points < c.max_points]


def test_weak_exemplar_scores_clearly_lower(rubric):
    """Does the weak exemplar score at most half, with the misreading flagged in Results?"""
    result = mark_answer(rubric, _text("weak"))
    assert result.points <= 0.5 * result.max_points
    results = next(c for c in result.criteria if c.id == "results")
    assert results.points == 0
    assert "common-cause" in results.feedback or "RAG" in results.feedback


def test_solution_write_up_is_the_strong_exemplar(rubric):
    """Is the solution's write-up cell the strong exemplar, under the rubric's grade id and headings?"""
    nb = nbformat.read(SOLUTION, as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    assert set(rubric.grade_ids) <= set(cells), f"write-up cell must use grade id(s) {rubric.grade_ids}"
    cell = cells[rubric.grade_ids[0]]
    meta = cell.metadata["nbgrader"]
    assert cell.cell_type == "markdown" and meta["solution"] and meta["grade"] and not meta.get("task")
    assert meta["points"] == rubric.max_points
    assert cell.source.strip() == _text("strong").strip()
    assert re.findall(r"^## (.+)$", cell.source, flags=re.M) == HEADINGS
    marked_on = {c.id: c.section for c in mark_answer(rubric, cell.source).criteria}
    assert all(marked_on.values()), f"criteria marked on the whole text, not their section: {marked_on}"


def test_template_in_task_cell_lists_the_same_headings():
    """Does the learner-facing instruction cell give exactly the headings the solution uses?"""
    nb = nbformat.read(SOLUTION, as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "report_text"]
    assert re.findall(r"^## (.+)$", cell.source, flags=re.M)[1:] == HEADINGS  # after the cell's own title


def test_m6_model_pdsa_write_up_earns_full_marks():
    """Does the m6 model answer (grade id pdsa_plan) still earn full marks under its rubric?"""
    nb = nbformat.read(REPO / "solutions" / "m6_pdsa" / "m6_pdsa.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "pdsa_plan"]
    rubric = load_rubric("pdsa_plan")
    assert "pdsa_plan" in rubric.grade_ids
    result = mark_answer(rubric, cell.source)
    assert result.points == result.max_points, [(c.id, c.feedback) for c in result.criteria if c.points < c.max_points]
