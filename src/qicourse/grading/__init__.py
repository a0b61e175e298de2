"""Grading pipeline over nbgrader 0.9: set-up, release, collect, parallel sandboxed grading,
rubric marks, feedback, export, cohort report and the learner's own `check`."""

from qicourse.grading.autograde import GradeRun, SubmissionResult, grade
from qicourse.grading.check import CheckResult, QuestionResult, check_notebook
from qicourse.grading.collect import CollectReport, collect
from qicourse.grading.course import Course, open_course, release, setup_course
from qicourse.grading.outputs import export, feedback
from qicourse.grading.report import report
from qicourse.grading.sandbox import Limits

__all__ = [
    "CheckResult", "CollectReport", "Course", "GradeRun", "Limits", "QuestionResult", "SubmissionResult",
    "check_notebook", "collect", "export", "feedback", "grade", "open_course", "release", "report", "setup_course",
]
