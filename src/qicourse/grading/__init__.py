"""Grading pipeline over nbgrader 0.9: set-up, release, collect, parallel sandboxed grading,
rubric marks, feedback, export, cohort report and the learner's own `check`.

Names load on first use, so `qicourse --help` and other commands do not pay for nbgrader's imports.
"""

from importlib import import_module

_WHERE = {
    "GradeRun": "autograde", "SubmissionResult": "autograde", "grade": "autograde",
    "CheckResult": "check", "QuestionResult": "check", "check_notebook": "check",
    "CollectReport": "collecting", "collect": "collecting",
    "Course": "course", "open_course": "course", "release": "course", "setup_course": "course",
    "export": "outputs", "feedback": "outputs", "report": "cohort_report", "Limits": "sandbox",
}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(import_module(f"qicourse.grading.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'qicourse.grading' has no attribute {name!r}")
