"""Rubric marking of QI write-ups: rubric files, the SMART aim analyser and the provisional marker.

Imports nothing of ours except `qicourse.paths`; the grading pipeline builds on these functions.
"""

from .agreement import agreement_table, exact_agreement, quadratic_weighted_kappa
from .marker import CriterionResult, MarkResult, guess_kind, mark_answer, mark_notebook_cells
from .schema import (Criterion, Level, Rubric, RubricError, list_rubrics, load_all, load_rubric, parse_rubric,
                     rubric_for_grade_id, rubrics_dir)
from .smart import SmartAnalysis, analyse_smart_aim

__all__ = [
    "Criterion", "CriterionResult", "Level", "MarkResult", "Rubric", "RubricError", "SmartAnalysis",
    "agreement_table", "analyse_smart_aim", "exact_agreement", "guess_kind", "list_rubrics", "load_all",
    "load_rubric", "mark_answer", "mark_notebook_cells", "parse_rubric", "quadratic_weighted_kappa",
    "rubric_for_grade_id", "rubrics_dir",
]
