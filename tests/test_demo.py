"""Does the README's main command (`qicourse demo`) run to the end and build what it says it built?"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.pipeline
def test_demo_grades_a_cohort_end_to_end(tmp_path):
    """Does the demo grade 30 learners per assignment and write report, feedback and exports that exist?"""
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "qicourse", "demo", "--out", str(out), "--workers", "2"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "demo finished" in proc.stdout
    listed = dict(re.findall(r"^  (.+?): (/\S+)$", proc.stdout.split("demo finished", 1)[1], re.M))
    assert listed, proc.stdout[-2000:]
    for label, path in listed.items():
        assert Path(path).exists(), f"{label} printed but missing: {path}"
    score_files = [Path(p) for label, p in listed.items() if label.endswith(" scores")]
    assert len(score_files) >= 2
    full_marks = 0
    for scores in score_files:
        rows = list(csv.DictReader(scores.open()))
        assert len(rows) >= 30
        statuses = {r["status"] for r in rows}
        assert {"ok", "flagged", "error", "incomplete"} <= statuses, statuses
        # a submission that could not be graded is never shown as a plain zero with no reason
        for r in rows:
            if r["status"] != "ok":
                assert r["reasons"].strip(), r
        # model answers earn every mark, except written answers still waiting for the educator
        full = [r for r in rows if r["student_id"].endswith("_full")]
        assert full and all(float(r["score"]) == float(r["max_score"]) for r in full if not r["needs_grading"])
        assert all(float(r["score"]) >= max(float(o["score"]) for o in rows if o["status"] == "ok") for r in full)
        full_marks += sum(float(r["score"]) == float(r["max_score"]) for r in full)
    assert full_marks, "the rubric-marked assignment's model answers should reach full (provisional) marks"
    reports = [Path(p) for label, p in listed.items() if label.endswith(" report")]
    assert all(p.suffix == ".html" and list(p.parent.glob("*.png")) for p in reports)
